#include "image/assemble.h"

#include <fmt/format.h>

#include "core/error.h"
#include "image/manifest.h"

namespace skiff {

ImageRecord assemble_image(ImageStore& store, Json config, const std::vector<AssembledLayer>& layers,
                           const std::vector<Reference>& names) {
  Json history = Json::array();
  std::string created = config.value("created", "");
  for (const auto& layer : layers) {
    Json entry = {{"created_by", layer.created_by}};
    if (!created.empty()) entry["created"] = created;
    history.push_back(entry);
  }
  return assemble_image_with_history(store, std::move(config), layers, std::move(history), names);
}

ImageRecord assemble_image_with_history(ImageStore& store, Json config, const std::vector<AssembledLayer>& layers,
                                        Json history, const std::vector<Reference>& names) {
  Json diff_ids = Json::array();
  std::string created = config.value("created", "");
  size_t layer_entries = 0;
  for (const auto& entry : history)
    if (!entry.value("empty_layer", false)) ++layer_entries;
  if (layer_entries != layers.size())
    fail(ErrorKind::internal, "assemble image: the history has {} layer entries for {} layers", layer_entries,
         layers.size());
  for (const auto& layer : layers) {
    if (!store.content().contains(layer.digest))
      fail(ErrorKind::internal, "assemble image: layer {} is not in the content store", layer.digest.str());
    diff_ids.push_back(layer.diff_id.str());
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  config["history"] = history;
  std::string config_bytes = config.dump();
  Digest config_digest = store.content().put(config_bytes);

  ImageManifest manifest;
  manifest.media_type = media_type::oci_manifest;
  manifest.config = {std::string(media_type::oci_config), config_digest, config_bytes.size(), {}, {}, {}};
  std::vector<Digest> blobs = {config_digest};
  for (const auto& layer : layers) {
    manifest.layers.push_back({layer.media_type, layer.digest, layer.size, {}, {}, {}});
    blobs.push_back(layer.digest);
  }
  std::string manifest_bytes = manifest.serialize();
  Digest manifest_digest = store.content().put(manifest_bytes);
  blobs.push_back(manifest_digest);

  ImageRecord record;
  record.id = config_digest;
  record.manifest_digest = manifest_digest;
  record.manifest_media_type = std::string(media_type::oci_manifest);
  record.platform = Platform::from_json(config);
  record.created = created;
  record.size = manifest.total_size();
  store.add(record, blobs, names);
  return *store.get(config_digest);
}

}  // namespace skiff
