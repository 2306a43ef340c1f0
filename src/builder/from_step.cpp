// FROM: an image in the store (pulled when missing), an earlier stage, or
// scratch; and the images COPY --from names.
#include <fmt/format.h>

#include "builder/cache.h"
#include "builder/executor_parts.h"
#include "builder/image_config.h"
#include "core/error.h"
#include "core/humanize.h"
#include "image/pull.h"
#include "image/unpack.h"
#include "registry/client.h"

namespace skiff::builder {

namespace {

bool same_platform(const skiff::Platform& a, const skiff::Platform& b) {
  return a.os == b.os && a.architecture == b.architecture && (a.variant.empty() || b.variant.empty() || a.variant == b.variant);
}

std::int64_t created_epoch(const Json& config) {
  std::string created = config.value("created", "");
  if (created.empty()) return 0;
  try {
    return std::chrono::duration_cast<std::chrono::seconds>(parse_rfc3339(created).time_since_epoch()).count();
  } catch (const Error&) {
    return 0;
  }
}

ImageRecord find_or_pull(Build& build, Workspace& workspace, const std::string& text, const skiff::Platform& platform,
                         bool platform_given) {
  ReferencePolicy policy{build.config.default_registry};
  std::optional<ImageRecord> local;
  try {
    local = workspace.images.resolve(text, policy);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) throw;
  }
  if (local && (!platform_given || same_platform(local->platform, platform))) return *local;
  Reference reference = Reference::parse(text, policy);
  if (reference.local()) {
    if (local)
      fail(ErrorKind::not_found, "image {} in the store is {}, not {}, and no registry is named to pull another",
           text, local->platform.str(), platform.str());
    fail(ErrorKind::not_found,
         "image {} is not in the store and names no registry: build it (skiff build -t {}), load it (skiff load), or "
         "give its registry (HOST/{})",
         text, text, reference.path());
  }
  int vertex = build.reporter.begin(fmt::format("[internal] pull {}", reference.str()));
  try {
    PullOptions options;
    if (platform_given) options.platform = platform;
    options.registry = RegistryOptions::from(build.config);
    options.max_concurrent_downloads = build.config.max_concurrent_downloads;
    ImageRecord pulled = pull_and_unpack(workspace.images, workspace.snapshots, reference, options).image;
    build.reporter.done(vertex);
    return pulled;
  } catch (const Error& e) {
    build.reporter.failed(vertex, e.what());
    throw;
  }
}

}  // namespace

std::string rfc3339(std::int64_t epoch) {
  return format_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(epoch))).substr(0, 19) + "Z";
}

ImageSource image_source(Build& build, Workspace& workspace, const std::string& reference,
                         const skiff::Platform& platform, bool platform_given) {
  ImageSource source;
  source.record = find_or_pull(build, workspace, reference, platform, platform_given);
  StoredImage stored = load_stored_image(workspace.images, source.record);
  if (stored.manifest.layers.size() != stored.config.diff_ids.size())
    fail(ErrorKind::corrupt, "image {}: the manifest lists {} layers but the config has {} diff_ids", reference,
         stored.manifest.layers.size(), stored.config.diff_ids.size());
  source.config = stored.config.document;
  for (size_t i = 0; i < stored.manifest.layers.size(); ++i) {
    const Descriptor& layer = stored.manifest.layers[i];
    source.stack.push({layer.digest, stored.config.diff_ids[i], layer.size, layer.media_type, ""});
  }
  // Keep the base's history when it describes its layers; otherwise one
  // entry per layer, so the image's history and rootfs agree.
  Json history = source.config.value("history", Json::array());
  size_t layer_entries = 0;
  for (const auto& entry : history)
    if (!entry.value("empty_layer", false)) ++layer_entries;
  if (!history.is_array() || layer_entries != source.stack.layers.size()) {
    history = Json::array();
    for (size_t i = 0; i < source.stack.layers.size(); ++i)
      history.push_back({{"created_by", fmt::format("layer {} of {}", i + 1, reference)}});
  }
  source.history = history;
  return source;
}

StageOutput stage_base(Build& build, Workspace& workspace, size_t stage) {
  const StagePlan& sp = build.plan.stages.at(stage);
  bool platform_given = sp.platform.has_value() || !build.request.platform.empty();
  skiff::Platform platform = sp.platform ? skiff::Platform::parse(sp.platform->str()) : build.default_platform;
  StageOutput out;
  switch (sp.base.kind) {
    case StageRef::Kind::scratch: {
      Platform builder_platform = Platform::parse(platform.str());
      out.image = scratch_image(builder_platform);
      out.key = scratch_base_key(builder_platform);
      out.epoch = 0;
      out.platform = platform;
      break;
    }
    case StageRef::Kind::stage: {
      const auto& parent = build.outputs.at(sp.base.stage);
      if (!parent) fail(ErrorKind::internal, "stage {} was not built before {}", sp.base.stage, sp.display_name);
      out = *parent;
      break;
    }
    case StageRef::Kind::image: {
      ImageSource source = image_source(build, workspace, sp.base.image, platform, platform_given);
      out.image = source.config;
      out.stack = source.stack;
      out.history = source.history;
      out.key = image_base_key(source.record.id);
      out.epoch = created_epoch(source.config);
      out.platform = source.record.platform;
      break;
    }
  }
  if (build.explicit_epoch && sp.base.kind != StageRef::Kind::stage) {
    out.epoch = *build.explicit_epoch;
    out.key = epoch_base_key(out.key, *build.explicit_epoch);
  }
  return out;
}

}  // namespace skiff::builder
