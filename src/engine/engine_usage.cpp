// docker system df over the engine's boxes: the images' blobs, the
// unpacked snapshots, the VM root images, the containers' writable layers
// and the build cache,
// each with what `system prune -a` would reclaim of it.
#include <map>
#include <set>

#include "builder/cache_store.h"
#include "engine/engine_parts.h"
#include "engine/engine_storage.h"
#include "vm/root_image.h"
#include "vm/vm.h"

namespace skiff::engine {

namespace {

// Blobs: an image no container uses is reclaimable with the blobs only it
// (or other unused images) references.
UsageRow image_usage(ImageStore& images, const std::vector<Record>& containers, const ReferencePolicy& policy,
                     std::vector<ImageUsage>& detail) {
  std::map<std::string, size_t> users;  // image ID -> containers
  for (const auto& c : containers) ++users[c.image_id];
  std::map<std::string, size_t> references;  // blob -> images
  std::map<std::string, std::set<std::string>> blobs_of;
  auto records = images.list();
  for (const auto& image : records)
    for (const auto& blob : images.blobs(image.id)) {
      blobs_of[image.id.str()].insert(blob.str());
      ++references[blob.str()];
    }
  UsageRow row{"Images"};
  std::set<std::string> all, in_use;
  for (const auto& image : records) {
    const auto& blobs = blobs_of[image.id.str()];
    ++row.total;
    size_t containers_using = users.count(image.id.str()) ? users[image.id.str()] : 0;
    if (containers_using) {
      ++row.active;
      in_use.insert(blobs.begin(), blobs.end());
    }
    all.insert(blobs.begin(), blobs.end());
    ImageUsage usage{image.id.str(), {}, image.created, blob_bytes(images, blobs), 0, containers_using};
    for (const auto& tag : image.tags) usage.names.push_back(tag.familiar_name(policy) + ":" + tag.tag());
    std::set<std::string> shared;
    for (const auto& blob : blobs)
      if (references[blob] > 1) shared.insert(blob);
    usage.shared_bytes = blob_bytes(images, shared);
    detail.push_back(std::move(usage));
  }
  row.bytes = blob_bytes(images, all);
  row.reclaimable = row.bytes - blob_bytes(images, in_use);
  return row;
}

// Unpacked layers: those below a container's (or a build's) root
// filesystem are active; the rest goes once nothing names them.
UsageRow snapshot_usage(snapshot::Snapshotter& snapshots) {
  std::vector<snapshot::Info> all;
  snapshots.walk([&](const snapshot::Info& info) { all.push_back(info); });
  std::map<std::string, std::string> parent_of;
  for (const auto& info : all) parent_of[info.key] = info.parent;
  std::set<std::string> below_active;
  for (const auto& info : all) {
    if (info.kind == snapshot::Kind::committed) continue;
    for (std::string key = info.parent; !key.empty() && below_active.insert(key).second;) key = parent_of[key];
  }
  UsageRow row{"Snapshots"};
  for (const auto& info : all) {
    if (info.kind != snapshot::Kind::committed) continue;
    std::uint64_t bytes = snapshots.usage(info.key).bytes;
    ++row.total;
    row.bytes += bytes;
    if (below_active.count(info.key))
      ++row.active;
    else
      row.reclaimable += bytes;
  }
  return row;
}

UsageRow container_usage(snapshot::Snapshotter& snapshots, const std::vector<Record>& containers,
                         std::vector<ContainerUsage>& detail) {
  UsageRow row{"Containers"};
  for (const auto& c : containers) {
    std::uint64_t bytes = writable_layer_bytes(snapshots, c.id);
    ++row.total;
    row.bytes += bytes;
    if (c.state == container::State::running)
      ++row.active;
    else
      row.reclaimable += bytes;
    detail.push_back({c.id, c.name, c.image_name, container::to_string(c.state), bytes});
  }
  return row;
}

// The erofs images VM isolation boots from, one per image top chain: those
// of images a container uses stay, the rest goes with `system prune -a`.
UsageRow vm_root_image_usage(ImageStore& images, const Root& root, const std::vector<Record>& containers) {
  auto dir = vm::vm_dir(root) / "images";
  std::set<std::string> used_ids, used_chains;
  for (const auto& c : containers) used_ids.insert(c.image_id);
  for (const auto& image : images.list())
    if (used_ids.count(image.id.str())) used_chains.merge(image_chains(images, image));
  auto all = vm::cached_root_images(dir), active = vm::cached_root_images(dir, &used_chains);
  return {"VM Root Images", all.images, active.images, all.bytes, all.bytes - active.bytes};
}

// Layer blobs the cache holds; those an image uses are active.
UsageRow cache_usage(Root& root, std::vector<CacheUsageEntry>& detail) {
  auto cache = builder::cache_usage(root);
  for (const auto& entry : cache.list) detail.push_back({entry.key.str(), entry.description, entry.size, entry.shared});
  return {"Build Cache", cache.entries, cache.shared_entries, cache.bytes, cache.bytes - cache.shared_bytes};
}

}  // namespace

DiskUsage Engine::disk_usage() {
  DiskUsage usage;
  auto containers = list();
  usage.rows.push_back(image_usage(parts_->images, containers, ReferencePolicy{config_.default_registry}, usage.images));
  usage.rows.push_back(snapshot_usage(parts_->snapshots));
  usage.rows.push_back(vm_root_image_usage(parts_->images, root_, containers));
  usage.rows.push_back(container_usage(parts_->snapshots, containers, usage.containers));
  usage.rows.push_back(cache_usage(root_, usage.build_cache));
  return usage;
}

}  // namespace skiff::engine
