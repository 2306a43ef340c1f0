#include "engine/engine_storage.h"

#include "builder/cache_store.h"
#include "core/error.h"
#include "core/log.h"
#include "image/manifest.h"

namespace skiff::engine {

std::set<std::string> image_chains(ImageStore& images, const ImageRecord& image) {
  std::set<std::string> chains;
  try {
    auto config = ImageConfig::parse(images.content().read(image.id, max_manifest_size), "config " + image.id.str());
    for (const auto& chain : snapshot::chain_ids(config.diff_ids)) chains.insert(chain.str());
  } catch (const Error& e) {
    log::warn("image {}: {}", image.id.short_hex(), e.what());
  }
  return chains;
}

std::set<std::string> needed_chains(ImageStore& images) {
  std::set<std::string> keep;
  for (const auto& image : images.list()) keep.merge(image_chains(images, image));
  for (const auto& entry : builder::BuildCache(images).list())
    if (entry.layer) keep.insert(entry.layer->chain.str());
  return keep;
}

std::uint64_t writable_layer_bytes(snapshot::Snapshotter& snapshots, const std::string& id) {
  return snapshots.stat(id) ? snapshots.usage(id).bytes : 0;
}

std::uint64_t blob_bytes(ImageStore& images, const std::set<std::string>& digests) {
  std::uint64_t bytes = 0;
  for (const auto& digest : digests) bytes += images.content().size(Digest::parse(digest)).value_or(0);
  return bytes;
}

}  // namespace skiff::engine
