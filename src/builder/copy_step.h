// Internal to the executor: COPY and ADD into a writable root. Sources come
// from a SourceTree (the build context with .dockerignore applied, or a
// read-only view of another stage or image); every destination path is
// resolved inside the root (openat2 RESOLVE_IN_ROOT through TreeWriter), so
// neither a source nor a symlink in the image can make a copy land outside.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "builder/context.h"
#include "builder/evaluate.h"

namespace skiff::builder {

// The content hash of what the step copies out of `tree` (its cache key
// input), or nullopt for a step without sources (heredocs only). Throws
// not_found naming the source that matched nothing.
std::optional<Digest> copy_sources_hash(const SourceTree& tree, const CopyStep& step);

// Copies into the root whose directory descriptor is `root_fd`. `tree` is
// null only for a step without sources. `epoch` is the mtime of files the
// step makes itself (heredocs).
void copy_step(int root_fd, const SourceTree* tree, const CopyStep& step, std::int64_t epoch);

// WORKDIR: creates the missing directories of `path` (absolute), 0755 and
// owned by `user` as the root's /etc/passwd resolves it (BuildKit).
void make_workdir(int root_fd, const std::string& path, const std::string& user);

}  // namespace skiff::builder
