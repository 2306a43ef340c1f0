#include "builder/cache.h"

#include "core/error.h"
#include "core/json.h"

namespace skiff::builder {

namespace {

// CBOR of the JSON: exact for any bytes (a JSON text dump would have to
// reject or replace invalid UTF-8), and deterministic (sorted keys).
Digest key_of(const Json& input) {
  std::vector<std::uint8_t> bytes = Json::to_cbor(input);
  return sha256_of(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

Digest image_base_key(const Digest& image_config_digest) {
  return key_of({{"version", 1}, {"base", "image"}, {"config", image_config_digest.str()}});
}

Digest scratch_base_key(const Platform& platform) {
  return key_of({{"version", 1}, {"base", "scratch"}, {"platform", platform.str()}});
}

Digest epoch_base_key(const Digest& base, std::int64_t source_date_epoch) {
  return key_of({{"version", 1}, {"base", base.str()}, {"source_date_epoch", source_date_epoch}});
}

size_t bind_mount_count(const Step& step) {
  if (!step.run) return 0;
  size_t count = 0;
  for (const auto& mount : step.run->mounts) count += mount.type == RunMount::Type::bind ? 1 : 0;
  return count;
}

Digest step_cache_key(const Digest& parent, const Step& step, const std::optional<Digest>& sources,
                      const std::vector<Digest>& bind_mounts) {
  if (!step.layer) return parent;
  if (bind_mounts.size() != bind_mount_count(step)) {
    fail(ErrorKind::internal, "cache key of \"{}\" needs the content hash of its {} bind mount(s), got {}",
         step.instruction.text, bind_mount_count(step), bind_mounts.size());
  }
  Json mounts = Json::array();
  for (const auto& digest : bind_mounts) mounts.push_back(digest.str());
  bool copies = step.copy.has_value();
  if (copies && !sources && !step.copy->sources.empty()) {
    fail(ErrorKind::internal, "cache key of \"{}\" needs the content hash of its sources", step.instruction.text);
  }
  Json args = Json::array();
  for (const auto& [name, value] : step.args) args.push_back({name, value});
  Json input = {{"version", 1},
                {"parent", parent.str()},
                {"step", step.cache_input},
                {"args", args},
                {"sources", copies && sources ? Json(sources->str()) : Json(nullptr)},
                {"mounts", mounts}};
  return key_of(input);
}

}  // namespace skiff::builder
