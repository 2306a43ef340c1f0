// The image store: which images exist (an image is its config digest, the
// image ID), the manifest each came from, and the names pointing at them,
// in SQLite tables owned by this box; the bytes live in the content store.
// Containers hold images with pins; blobs no image references are garbage.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "content/store.h"
#include "core/digest.h"
#include "core/lock.h"
#include "core/root.h"
#include "image/platform.h"
#include "reference/reference.h"

namespace skiff {

struct ImageRecord {
  Digest id;  // the config digest
  Digest manifest_digest;
  std::string manifest_media_type;
  Platform platform;
  std::string created;      // from the config (RFC 3339), may be empty
  std::uint64_t size = 0;   // config and layers as stored (compressed)
  std::int64_t added = 0;   // unix time the image entered the store
  std::vector<Reference> tags;     // name:tag
  std::vector<Reference> digests;  // name@manifest-digest (RepoDigests)
};

class ImageStore {
 public:
  explicit ImageStore(Root& root);

  ContentStore& content() { return content_; }
  Root& root() { return root_; }

  std::vector<ImageRecord> list();
  std::optional<ImageRecord> get(const Digest& id);
  // By name[:tag], name@digest, image ID or unique ID prefix. Throws
  // not_found, or invalid_argument for an ambiguous prefix.
  ImageRecord resolve(std::string_view text, const ReferencePolicy& policy);
  std::optional<ImageRecord> find(const Reference& reference);

  // Writers hold a lease for as long as they have blobs in the store that
  // no image references yet; garbage collection waits for none of them and
  // skips its run instead.
  FileLock lease();

  // Records an image whose blobs (manifests, config, layers) are all in the
  // content store, and points `names` (tagged or digested) at it; a name
  // that pointed elsewhere moves, leaving the old image untagged.
  void add(const ImageRecord& image, const std::vector<Digest>& blobs, const std::vector<Reference>& names);
  void tag(const Digest& id, const Reference& name);

  struct Removal {
    std::vector<std::string> untagged;  // names removed
    std::vector<Digest> deleted;        // images deleted
  };
  // docker rmi: a name removes that name (and the image with its last
  // name); an ID removes the image with all its names. A pinned image is
  // refused unless `force`, which only untags it.
  Removal remove(std::string_view text, bool force, const ReferencePolicy& policy);

  // Pins: containers hold their image so rmi refuses it.
  void pin(const Digest& id, std::string_view holder);
  void unpin(std::string_view holder);
  std::vector<std::string> pins(const Digest& id);

  // Holds keep blobs that no image references from garbage collection,
  // for as long as their holder (e.g. a build cache entry) wants them.
  void hold(std::string_view holder, const Digest& blob);
  void release(std::string_view holder);

  // The blobs recorded for an image (manifests, config, layers).
  std::vector<Digest> blobs(const Digest& id);

  // Garbage collection runs exclusive of writers: this lock is not valid()
  // while a writer holds a lease, and the collection is skipped then. Whoever
  // collects more than blobs (the snapshots no image needs) takes it first.
  FileLock collection_lock();
  // Deletes blobs no image or hold references; says which and their size.
  // Skipped (empty) while a writer holds a lease.
  struct Collected {
    std::vector<Digest> blobs;
    std::uint64_t bytes = 0;
  };
  Collected collect_garbage();
  // The same under a collection_lock() the caller holds (valid).
  Collected collect_garbage(const FileLock& held);

  // Layers' unpacked sizes, once something has unpacked them.
  void set_unpacked_size(const Digest& layer, std::uint64_t size);
  std::optional<std::uint64_t> unpacked_size(const Digest& layer);

 private:
  std::vector<ImageRecord> query(std::string_view where, const std::vector<std::string>& arguments);
  std::optional<Digest> id_by_prefix(std::string_view prefix);
  std::filesystem::path lease_path() const;

  Root& root_;
  ContentStore content_;
};

}  // namespace skiff
