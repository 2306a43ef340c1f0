// The snapshotter: unpacked layers as committed snapshots keyed by chain ID
// (shared by every image with the same layers), and active snapshots
// (a container's writable upper directory) or views on top of them.
// containerd's verbs: stat / prepare / view / commit / mounts / remove /
// walk / usage. Records live in the store's metadata.db (table
// `snapshots`), trees in snapshots/<id>/fs (+ work for active ones).
//
// Layer bytes come in as files or through ByteSink streams, so this box
// depends on no registry or content code:
//
//   auto unpack = snapshotter.unpack({layer descriptors…});
//   for each i with unpack.needed(i):  download into *unpack.sink(i)  (in parallel)
//   Digest top = unpack.commit();
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/lock.h"
#include "core/root.h"
#include "core/stream.h"
#include "snapshot/diff.h"
#include "snapshot/layer.h"
#include "snapshot/mount.h"
#include "snapshot/unpack.h"

namespace skiff::snapshot {

enum class Kind { committed, active, view };
std::string to_string(Kind kind);

struct Info {
  std::string key;     // a chain ID for unpacked layers; any name for active/view
  std::string parent;  // the committed snapshot below ("" for a base layer)
  Kind kind = Kind::committed;
  std::int64_t id = 0;  // its directory: snapshots/<id>
  std::string created;  // RFC 3339
  std::string diff_id;  // committed layers that came from a tar
  std::uint64_t size = 0;  // content bytes recorded when the layer was unpacked
};

struct Usage {
  std::uint64_t bytes = 0;   // allocated blocks; hard links counted once
  std::uint64_t inodes = 0;
};

// How root filesystems are made on this host.
enum class Driver {
  overlay,  // overlayfs over the shared snapshots
  copy,     // overlayfs unavailable: the layers are copied into each rootfs
};
std::string to_string(Driver driver);

struct DriverStatus {
  Driver driver = Driver::overlay;
  std::string detail;  // why copy was chosen, for `skiff info`
};
// Probes overlayfs on the filesystem holding `snapshots_dir` (an actual
// test mount, cached per process). SKIFF_SNAPSHOTTER=copy forces copies.
DriverStatus detect_driver(const std::filesystem::path& snapshots_dir);

// A layer on disk, for unpack_layers().
struct LayerFile {
  LayerDescriptor descriptor;
  std::filesystem::path blob;
};

class Snapshotter;

// One image's layers on their way into snapshots. Missing chain IDs are
// locked (FileLock per chain: a second process unpacking the same chain
// waits, then finds it committed and downloads nothing); each missing
// layer unpacks into its own temporary directory, from any thread; commit()
// then publishes them bottom-up, each by a rename and a transaction. An
// object destroyed before commit() leaves nothing behind.
class ChainUnpack {
 public:
  ChainUnpack(ChainUnpack&&) noexcept;
  ~ChainUnpack();

  const std::vector<Digest>& chain_ids() const { return chains_; }
  size_t size() const { return layers_.size(); }
  // False when the snapshot is already there: no bytes needed.
  bool needed(size_t index) const;

  // A sink taking layer `index`'s compressed bytes as they arrive.
  // Sinks for different layers may be written from different threads.
  std::unique_ptr<ByteSink> sink(size_t index);
  // Unpacks layer `index` from a file (blocking; thread-safe as sink()).
  void apply_file(size_t index, const std::filesystem::path& blob);

  // Commits the unpacked layers in chain order and returns the top chain ID.
  // Every needed layer must have been delivered.
  Digest commit();

 private:
  friend class Snapshotter;
  struct Layer;
  ChainUnpack(Snapshotter& owner, std::vector<LayerDescriptor> layers);
  void finished(size_t index, const UnpackResult& result);

  Snapshotter* owner_;
  std::vector<LayerDescriptor> layers_;
  std::vector<Digest> chains_;
  std::vector<std::unique_ptr<Layer>> slots_;
  std::mutex mutex_;
};

class Snapshotter {
 public:
  explicit Snapshotter(Root& root);
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  Driver driver();

  // ---- containerd's verbs ----
  std::optional<Info> stat(const std::string& key);
  // A writable snapshot on top of committed `parent` ("" for none), e.g. a
  // container's root filesystem; returns its mounts.
  std::vector<MountSpec> prepare(const std::string& key, const std::string& parent);
  // A read-only view of committed `parent`.
  std::vector<MountSpec> view(const std::string& key, const std::string& parent);
  // The mounts of an active snapshot or a view.
  std::vector<MountSpec> mounts(const std::string& key);
  // Turns active snapshot `key` into committed snapshot `name` (usually the
  // chain ID of parent + the diff just taken). `key` must not be mounted.
  void commit(const std::string& name, const std::string& key);
  // Removes a snapshot that no other snapshot builds on.
  void remove(const std::string& key);
  void walk(const std::function<void(const Info&)>& visit);
  Usage usage(const std::string& key);

  // ---- layers ----
  ChainUnpack unpack(std::vector<LayerDescriptor> layers);
  // Ensures the chain of `layers` exists, unpacking the missing ones in
  // parallel; returns the top chain ID.
  Digest unpack_layers(const std::vector<LayerFile>& layers);

  // ---- diffs and exports ----
  // The changes of active snapshot `key` as an OCI layer written to `out`.
  LayerInfo diff(const std::string& key, ByteSink& out, const DiffOptions& options = {});
  // The merged tree of committed `key` and its parents as one layer.
  LayerInfo export_tar(const std::string& key, ByteSink& out, const DiffOptions& options = {});
  // The merged tree of committed `key` and its parents copied into
  // `target` (an empty directory): VM root images, copied root filesystems.
  void flatten_into(const std::string& key, const std::filesystem::path& target);

  // ---- garbage collection ----
  struct PruneResult {
    std::vector<std::string> removed;  // keys
    std::uint64_t reclaimed_bytes = 0;
  };
  // Removes committed snapshots neither in `keep` nor below one of them or
  // below an active snapshot or view; also leftovers of interrupted work.
  PruneResult prune(const std::set<std::string>& keep);

  // snapshots/<id>/fs of a snapshot (for tests and the runtime's copy mode).
  std::filesystem::path fs_path(const std::string& key);
  const std::filesystem::path& directory() const { return dir_; }

 private:
  friend class ChainUnpack;
  Info require(const std::string& key);
  std::vector<Info> chain_of(const std::string& committed_key);  // key first, then its parents
  std::filesystem::path snapshot_dir(std::int64_t id) const;
  std::filesystem::path lock_path(const Digest& chain) const;
  std::vector<MountSpec> mounts_for(const Info& info);
  std::vector<std::string> lower_dirs_of(const std::string& parent);
  std::int64_t insert_and_publish(const Info& info, const std::filesystem::path& staged);
  std::vector<MountSpec> create_active(const std::string& key, const std::string& parent, Kind kind);
  void fix_implied_directories(const std::filesystem::path& fs, const std::string& parent,
                               const std::vector<std::string>& implied);

  Root& root_;
  Database& db_;
  std::filesystem::path dir_;
  std::optional<Driver> driver_;
};

}  // namespace skiff::snapshot
