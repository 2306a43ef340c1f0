#include "image/inspect.h"

#include <fmt/format.h>

#include "image/manifest.h"

namespace skiff {

ImageManifest stored_manifest(ImageStore& store, const ImageRecord& image) {
  std::string what = fmt::format("manifest {}", image.manifest_digest.str());
  Json document = parse_json(store.content().read(image.manifest_digest, max_manifest_size), what);
  return ImageManifest::parse(document, image.manifest_media_type, what);
}

Json inspect_image(ImageStore& store, const ImageRecord& image, const ReferencePolicy& policy) {
  ImageManifest manifest = stored_manifest(store, image);
  ImageConfig config = ImageConfig::parse(store.content().read(image.id, max_manifest_size),
                                          fmt::format("config {}", image.id.str()));
  Json tags = Json::array(), digests = Json::array();
  for (const auto& t : image.tags) tags.push_back(t.familiar_name(policy) + ":" + t.tag());
  for (const auto& d : image.digests) digests.push_back(d.familiar_name(policy) + "@" + d.digest());

  Json layers = Json::array();
  std::uint64_t unpacked_total = 0;
  bool unpacked_known = true;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& l = manifest.layers[i];
    Json layer = {{"Digest", l.digest.str()}, {"MediaType", l.media_type}, {"Size", l.size}};
    if (i < config.diff_ids.size()) layer["DiffID"] = config.diff_ids[i].str();
    if (auto unpacked = store.unpacked_size(l.digest)) {
      layer["UnpackedSize"] = *unpacked;
      unpacked_total += *unpacked;
    } else {
      layer["UnpackedSize"] = nullptr;
      unpacked_known = false;
    }
    layers.push_back(layer);
  }
  Runnability run = runnable_here(image.platform, Isolation::process);
  Runnability run_vm = runnable_here(image.platform, Isolation::vm);
  const Json& doc = config.document;
  Json out = {
      {"Id", image.id.str()},
      {"RepoTags", tags},
      {"RepoDigests", digests},
      {"Created", image.created},
      {"Os", image.platform.os},
      {"Architecture", image.platform.architecture},
      {"Manifest", {{"Digest", image.manifest_digest.str()}, {"MediaType", image.manifest_media_type}}},
      {"Config", doc.contains("config") ? doc["config"] : Json::object()},
      {"Author", doc.value("author", "")},
      {"RootFS", {{"Type", "layers"}, {"Layers", Json::array()}}},
      {"Layers", layers},
      {"Size", image.size},
      {"UnpackedSize", unpacked_known ? Json(unpacked_total) : Json(nullptr)},
      {"Runnable", {{"Process", run.runnable}, {"VM", run_vm.runnable}}},
      {"Pins", store.pins(image.id)},
  };
  for (const auto& d : config.diff_ids) out["RootFS"]["Layers"].push_back(d.str());
  if (!image.platform.variant.empty()) out["Variant"] = image.platform.variant;
  if (!image.platform.os_version.empty()) out["OsVersion"] = image.platform.os_version;
  if (!image.platform.os_features.empty()) out["OsFeatures"] = image.platform.os_features;
  if (!run.runnable) out["Runnable"]["Reason"] = run.reason;
  if (doc.contains("history")) out["History"] = doc["history"];
  return out;
}

}  // namespace skiff
