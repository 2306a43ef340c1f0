// docker system prune and rmi over the engine's boxes: containers first,
// then images, the build cache, and last the snapshots and blobs that
// nothing left needs.
#include <set>

#include "builder/cache_store.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/engine_parts.h"
#include "engine/engine_storage.h"
#include "vm/root_image.h"
#include "vm/vm.h"

namespace skiff::engine {

Reclaimed& Reclaimed::operator+=(const Reclaimed& other) {
  snapshots += other.snapshots;
  vm_images += other.vm_images;
  blobs += other.blobs;
  bytes += other.bytes;
  return *this;
}

ImageRemoval Engine::remove_image(std::string_view name, bool force) {
  auto removal = parts_->images.remove(name, force, ReferencePolicy{config_.default_registry});
  return {std::move(removal.untagged), std::move(removal.deleted)};
}

Reclaimed Engine::collect_garbage() {
  auto& images = parts_->images;
  Reclaimed reclaimed;
  FileLock exclusive = images.collection_lock();
  if (!exclusive.valid()) {
    log::info("garbage collection skipped: a pull, load or build is writing to the store");
    return reclaimed;
  }
  auto chains = needed_chains(images);
  auto pruned = parts_->snapshots.prune(chains);
  reclaimed.snapshots = pruned.removed.size();
  reclaimed.bytes = pruned.reclaimed_bytes;
  auto vm_images = vm::prune_root_images(vm::vm_dir(root_) / "images", chains);
  reclaimed.vm_images = vm_images.images;
  reclaimed.bytes += vm_images.bytes;
  auto collected = images.collect_garbage(exclusive);
  reclaimed.blobs = collected.blobs.size();
  reclaimed.bytes += collected.bytes;
  return reclaimed;
}

PruneReport Engine::prune(bool all) {
  PruneReport report;
  auto& images = parts_->images;

  // Stopped containers; a running one keeps its image.
  std::set<std::string> used_images;
  for (const auto& c : list()) {
    if (c.state == container::State::running) {
      used_images.insert(c.image_id);
      continue;
    }
    std::uint64_t bytes = writable_layer_bytes(parts_->snapshots, c.id);
    try {
      remove(c.id, false);
      report.containers.push_back(c.id);
      report.reclaimed.bytes += bytes;
    } catch (const Error& e) {
      log::warn("container {} stays: {}", c.short_id(), e.what());  // it started meanwhile
      used_images.insert(c.image_id);
    }
  }

  // Untagged images, with `all` every one no container uses. By name
  // first: the last name removes the image, and a container created
  // meanwhile makes that fail (pinned) rather than untag its image.
  ReferencePolicy policy{config_.default_registry};
  for (const auto& image : images.list()) {
    if (used_images.count(image.id.str()) || !images.pins(image.id).empty()) continue;
    if (!all && !image.tags.empty()) continue;
    try {
      for (const auto& tag : image.tags) {
        auto removal = images.remove(tag.str(), false, policy);
        report.untagged.insert(report.untagged.end(), removal.untagged.begin(), removal.untagged.end());
        report.images.insert(report.images.end(), removal.deleted.begin(), removal.deleted.end());
      }
      if (images.get(image.id)) {
        auto removal = images.remove(image.id.hex(), false, policy);
        report.untagged.insert(report.untagged.end(), removal.untagged.begin(), removal.untagged.end());
        report.images.insert(report.images.end(), removal.deleted.begin(), removal.deleted.end());
      }
    } catch (const Error& e) {
      log::warn("image {} stays: {}", image.id.short_hex(), e.what());
    }
  }

  // The build cache: without `all` the entries whose layer no image uses.
  auto cache = builder::prune_cache(root_, all);
  report.cache_entries = cache.entries;
  report.reclaimed += Reclaimed{.snapshots = cache.snapshots, .blobs = cache.blobs, .bytes = cache.reclaimed_bytes};

  report.reclaimed += collect_garbage();
  return report;
}

}  // namespace skiff::engine
