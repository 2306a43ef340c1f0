// skiff builder prune / du: the cache's entries weighed against what the
// images in the store use.
#include <algorithm>
#include <set>

#include "builder/cache_store.h"
#include "builder/workspace.h"
#include "core/error.h"
#include "core/log.h"
#include "image/unpack.h"

namespace skiff::builder {

namespace {

struct ImageUse {
  std::set<std::string> blobs;   // layer digests
  std::set<std::string> chains;  // every chain ID prefix of every image
};

ImageUse image_use(ImageStore& images) {
  ImageUse use;
  for (const auto& image : images.list()) {
    try {
      StoredImage stored = load_stored_image(images, image);
      for (const auto& layer : stored.manifest.layers) use.blobs.insert(layer.digest.str());
      for (const auto& chain : snapshot::chain_ids(stored.config.diff_ids)) use.chains.insert(chain.str());
    } catch (const Error& e) {
      log::warn("image {}: {}", image.id.short_hex(), e.what());
    }
  }
  return use;
}

}  // namespace

PruneReport prune_cache(Root& root, bool all) {
  Workspace workspace(root.path());
  remove_stale_build_roots(workspace);
  PruneReport report;
  ImageUse use = image_use(workspace.images);

  std::vector<Digest> doomed;
  std::set<std::string> kept_chains = use.chains;
  std::vector<std::string> doomed_chains;
  for (const auto& entry : workspace.cache.list()) {
    bool used = entry.layer && use.blobs.count(entry.layer->blob.str());
    if (all || (entry.layer && !used)) {
      doomed.push_back(entry.key);
      if (entry.layer) doomed_chains.push_back(entry.layer->chain.str());
    } else if (entry.layer) {
      kept_chains.insert(entry.layer->chain.str());
    }
  }
  workspace.cache.remove(doomed);
  report.entries = doomed.size();

  // Snapshots of removed entries that nothing else builds on, leaves first.
  std::sort(doomed_chains.begin(), doomed_chains.end());
  doomed_chains.erase(std::unique(doomed_chains.begin(), doomed_chains.end()), doomed_chains.end());
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = doomed_chains.begin(); it != doomed_chains.end();) {
      if (kept_chains.count(*it) || !workspace.snapshots.stat(*it)) {
        it = doomed_chains.erase(it);
        continue;
      }
      try {
        std::uint64_t bytes = workspace.snapshots.usage(*it).bytes;
        workspace.snapshots.remove(*it);
        workspace.cache.forget_source_hashes(*it);
        report.reclaimed_bytes += bytes;
        ++report.snapshots;
        progress = true;
        it = doomed_chains.erase(it);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::conflict) throw;
        ++it;  // something still builds on it; maybe after its children go
      }
    }
  }

  auto collected = workspace.images.collect_garbage();
  report.reclaimed_bytes += collected.bytes;
  report.blobs += collected.blobs.size();
  return report;
}

CacheUsage cache_usage(Root& root) {
  ImageStore images(root);
  BuildCache cache(images);
  ImageUse use = image_use(images);
  CacheUsage usage;
  std::set<std::string> seen;
  for (const auto& entry : cache.list()) {
    ++usage.entries;
    bool shared = entry.layer && use.blobs.count(entry.layer->blob.str());
    if (shared) ++usage.shared_entries;
    usage.list.push_back({entry.key, entry.description, entry.layer ? entry.layer->size : 0, shared});
    if (!entry.layer || !seen.insert(entry.layer->blob.str()).second) continue;
    ++usage.layers;
    usage.bytes += entry.layer->size;
    if (shared) usage.shared_bytes += entry.layer->size;
  }
  return usage;
}

}  // namespace skiff::builder
