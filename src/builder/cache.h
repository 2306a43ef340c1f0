// Build cache keys. A stage starts from the key of its base; each step that
// changes the filesystem (RUN, COPY, ADD, WORKDIR) chains a new key from
//   - the parent key,
//   - the step's canonical description after expansion (Step::cache_input:
//     RUN's argv, environment — which holds every ARG declared so far, as
//     docker puts them all in RUN's environment —, user, workdir, mounts,
//     network; COPY's sources, destination, --chown/--chmod, origin),
//   - the build args it uses (Step::args),
//   - for COPY/ADD, the content hash of what it copies
//     (SourceTree::content_hash, with the step's --exclude patterns),
//   - for RUN, the content hash of each bind mount's source (the context,
//     another stage or an image, at the mount's source path); cache, tmpfs,
//     secret and ssh mounts are not content (as in BuildKit).
// Config-only steps (ENV, LABEL, CMD, …) keep their parent's key: their
// effects reach later RUN steps through cache_input (env, user, …), and the
// image config is applied afresh on every build, so a changed LABEL
// re-runs nothing. Build args no step uses change no key.
//
// The key is sha256 over the JSON value
//   {"version": 1, "parent": "<digest>", "step": <cache_input>,
//    "args": [[name, value]…], "sources": "<digest>"|null,
//    "mounts": ["<digest>"…]}
// serialised as CBOR by nlohmann::json (object keys sorted: deterministic).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>
#include <string_view>

#include "builder/evaluate.h"
#include "builder/stages.h"
#include "core/digest.h"

namespace skiff::builder {

// The key a stage starts from: FROM an image (its config digest, which
// names the platform's image exactly), FROM scratch (per platform), or FROM
// an earlier stage (that stage's last key).
Digest image_base_key(const Digest& image_config_digest);
Digest scratch_base_key(const Platform& platform);
// A stage's start key with an explicit SOURCE_DATE_EPOCH folded in: the
// epoch clamps the layers' timestamps, so layers made under another epoch
// are other layers.
Digest epoch_base_key(const Digest& base, std::int64_t source_date_epoch);

// The key after `step`. `sources` is the content hash of a COPY/ADD's
// sources (required for those, ignored otherwise); `bind_mounts` the content
// hash of each RUN --mount=type=bind source, in the order of the step's
// mounts (required for those). Returns `parent` for a step that does not
// change the filesystem. Throws internal when a required hash is missing.
Digest step_cache_key(const Digest& parent, const Step& step, const std::optional<Digest>& sources = std::nullopt,
                      const std::vector<Digest>& bind_mounts = {});

// How many bind-mount hashes step_cache_key needs for `step`.
size_t bind_mount_count(const Step& step);

}  // namespace skiff::builder
