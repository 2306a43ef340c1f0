// What the store holds and what of it can go: `skiff system df` (docker's
// TYPE / TOTAL / ACTIVE / SIZE / RECLAIMABLE), `skiff system prune` and the
// garbage collection after `skiff rmi`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/digest.h"

namespace skiff::engine {

struct UsageRow {
  std::string type;  // Images, Snapshots, VM Root Images, Containers, Build Cache
  size_t total = 0;
  size_t active = 0;              // in use (by a container; containers: running)
  std::uint64_t bytes = 0;
  std::uint64_t reclaimable = 0;  // what `system prune -a` would free
};

// `system df -v`: one line per image, container and build cache entry.
struct ImageUsage {
  std::string id;
  std::vector<std::string> names;  // name:tag
  std::string created;
  std::uint64_t bytes = 0;         // its blobs
  std::uint64_t shared_bytes = 0;  // of those, blobs other images use too
  size_t containers = 0;
};
struct ContainerUsage {
  std::string id;
  std::string name;
  std::string image;
  std::string state;
  std::uint64_t bytes = 0;  // its writable layer
};
struct CacheUsageEntry {
  std::string id;  // the step's cache key
  std::string description;
  std::uint64_t bytes = 0;
  bool shared = false;  // an image uses its layer
};

struct DiskUsage {
  std::vector<UsageRow> rows;  // Images, Snapshots, VM Root Images, Containers, Build Cache (last)
  std::vector<ImageUsage> images;
  std::vector<ContainerUsage> containers;
  std::vector<CacheUsageEntry> build_cache;
};

// What garbage collection removed: snapshots no image, container or build
// cache entry needs, VM root images (erofs) of chains no image has, blobs
// nothing references.
struct Reclaimed {
  size_t snapshots = 0;
  size_t vm_images = 0;
  size_t blobs = 0;
  std::uint64_t bytes = 0;
  Reclaimed& operator+=(const Reclaimed& other);
};

struct PruneReport {
  std::vector<std::string> containers;  // IDs removed
  std::vector<std::string> untagged;    // names removed
  std::vector<Digest> images;           // images deleted
  size_t cache_entries = 0;
  Reclaimed reclaimed;                  // bytes: containers' layers included
};

struct ImageRemoval {
  std::vector<std::string> untagged;
  std::vector<Digest> deleted;
};

// `skiff commit`: a container's changes as a new image.
struct CommitRequest {
  std::string container;            // name or ID (prefix)
  std::string reference;            // REPO[:TAG], "" for none
  std::string message;              // the history entry's comment
  std::string author;
  std::vector<std::string> changes;  // Dockerfile instructions: CMD, ENV…
};

}  // namespace skiff::engine
