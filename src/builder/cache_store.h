// The build cache in the store: step key (cache.h) -> what the step left,
// in the builder's own table of metadata.db. An entry names the snapshot
// (chain ID) of the filesystem after the step and the layer blob it added,
// or no layer for a step that changed nothing. Blobs of entries are held
// in the image store (ImageStore::hold), so `rmi` and garbage collection
// keep them; snapshots are a cache of the blobs and are unpacked again
// when something removed them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/root.h"
#include "image/store.h"

namespace skiff::builder {

struct CachedLayer {
  Digest chain;  // the snapshot after the step: chain_id(parent's chain, diff_id)
  Digest blob;
  Digest diff_id;
  std::uint64_t size = 0;
  std::string media_type;
};

struct CacheEntry {
  Digest key;
  std::optional<CachedLayer> layer;  // nullopt: the step changed nothing
  std::string description;           // the history entry, for listings
  std::int64_t created = 0;          // unix seconds
  std::int64_t last_used = 0;
};

class BuildCache {
 public:
  explicit BuildCache(ImageStore& images);

  // The entry for `key` whose blob is still stored (an entry whose blob
  // vanished is dropped); marks it used.
  std::optional<CacheEntry> lookup(const Digest& key);
  // Records (or replaces) an entry and holds its blob.
  void record(const CacheEntry& entry);

  // Content hashes of what steps read from other stages and images,
  // remembered per source chain so a cache hit mounts nothing.
  std::optional<Digest> source_hash(const Digest& key);
  void record_source_hash(const Digest& key, const Digest& chain, const Digest& hash);
  void forget_source_hashes(const std::string& chain);

  std::vector<CacheEntry> list();
  // Removes entries and releases their blobs' holds.
  void remove(const std::vector<Digest>& keys);

 private:
  ImageStore& images_;
  Database& db_;
};

// `skiff builder prune`: removes cache entries — those whose layer no image
// uses, or with `all` every one — then the blobs and snapshots nothing
// references any more.
struct PruneReport {
  size_t entries = 0;
  size_t blobs = 0;
  size_t snapshots = 0;
  std::uint64_t reclaimed_bytes = 0;
};
PruneReport prune_cache(Root& root, bool all);

// `skiff builder du` and `system df`: entries with the size of their layer.
struct CacheUsage {
  size_t entries = 0;
  size_t layers = 0;
  size_t shared_entries = 0;       // entries whose layer an image uses
  std::uint64_t bytes = 0;        // distinct layer blobs held by the cache
  std::uint64_t shared_bytes = 0;  // of those, used by images too
  struct Entry {
    Digest key;
    std::string description;
    std::uint64_t size = 0;  // its layer's
    bool shared = false;     // an image uses its layer
  };
  std::vector<Entry> list;
};
CacheUsage cache_usage(Root& root);

}  // namespace skiff::builder
