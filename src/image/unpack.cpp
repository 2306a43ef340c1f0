#include "image/unpack.h"

#include <mutex>

#include <fmt/format.h>

#include "core/error.h"
#include "image/inspect.h"

namespace skiff {

namespace {

std::vector<snapshot::LayerDescriptor> snapshot_layers(const ImageManifest& manifest, const ImageConfig& config,
                                                       const std::string& what) {
  if (manifest.layers.size() != config.diff_ids.size())
    fail(ErrorKind::corrupt, "{}: the manifest lists {} layers but the config has {} diff_ids", what,
         manifest.layers.size(), config.diff_ids.size());
  std::vector<snapshot::LayerDescriptor> layers;
  for (size_t i = 0; i < manifest.layers.size(); ++i)
    layers.push_back({manifest.layers[i].media_type, manifest.layers[i].digest, config.diff_ids[i],
                      manifest.layers[i].size});
  return layers;
}

// `skiff images` and `inspect` show the unpacked size (as docker does); a
// pulled layer's is known once its snapshot exists, so record it from there.
void record_unpacked_sizes(ImageStore& store, snapshot::Snapshotter& snapshots,
                           const std::vector<snapshot::LayerDescriptor>& layers, const std::vector<Digest>& chains) {
  for (size_t i = 0; i < layers.size() && i < chains.size(); ++i) {
    if (store.unpacked_size(layers[i].digest)) continue;
    if (auto info = snapshots.stat(chains[i].str()); info && info->size > 0)
      store.set_unpacked_size(layers[i].digest, info->size);
  }
}

}  // namespace

StoredImage load_stored_image(ImageStore& store, const ImageRecord& image) {
  return {stored_manifest(store, image),
          ImageConfig::parse(store.content().read(image.id, max_manifest_size), fmt::format("config {}", image.id.str()))};
}

Digest ensure_unpacked(ImageStore& store, snapshot::Snapshotter& snapshots, const ImageRecord& image) {
  StoredImage stored = load_stored_image(store, image);
  std::string what = fmt::format("image {}", image.id.short_hex());
  auto layers = snapshot_layers(stored.manifest, stored.config, what);
  if (layers.empty()) return Digest();
  auto chains = snapshot::chain_ids(stored.config.diff_ids);
  // The common case (already unpacked) costs one lookup: `skiff run` comes through here.
  if (snapshots.stat(chains.back().str())) return chains.back();
  std::vector<snapshot::LayerFile> files;
  for (const auto& layer : layers) {
    if (!store.content().contains(layer.digest))
      fail(ErrorKind::not_found, "{}: layer {} is missing from the content store; pull the image again", what,
           layer.digest.str());
    files.push_back({layer, store.content().path(layer.digest)});
  }
  snapshots.unpack_layers(files);
  record_unpacked_sizes(store, snapshots, layers, chains);
  return chains.back();
}

PullResult pull_and_unpack(ImageStore& store, snapshot::Snapshotter& snapshots, const Reference& reference,
                           PullOptions options) {
  std::mutex mutex;
  std::optional<snapshot::ChainUnpack> unpack;
  options.layer_sink = [&](const LayerDescriptor& layer, const ImageConfig& config) -> std::unique_ptr<ByteSink> {
    std::lock_guard lock(mutex);
    if (!unpack) {
      std::vector<snapshot::LayerDescriptor> layers;
      for (size_t i = 0; i < config.diff_ids.size(); ++i) layers.push_back({"", Digest(), config.diff_ids[i], 0});
      unpack.emplace(snapshots.unpack(std::move(layers)));
    }
    if (layer.index >= unpack->size() || !unpack->needed(layer.index)) return nullptr;
    return unpack->sink(layer.index);
  };
  PullResult result = pull(store, reference, options);
  // pull() fed every needed layer (stored blobs from their files); an
  // image pulled earlier feeds none, and its chain is checked from the blobs.
  if (unpack) unpack->commit();
  ensure_unpacked(store, snapshots, result.image);
  // The layers' snapshots may have been made by another image's pull.
  auto stored = load_stored_image(store, result.image);
  auto layers = snapshot_layers(stored.manifest, stored.config, fmt::format("image {}", result.image.id.short_hex()));
  record_unpacked_sizes(store, snapshots, layers, snapshot::chain_ids(stored.config.diff_ids));
  return result;
}

}  // namespace skiff
