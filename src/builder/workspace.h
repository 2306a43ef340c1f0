// Internal to the executor: the store a build works in, and the root
// filesystems its steps write to or read from. Everything that mounts,
// unpacks or commits lives here; the steps only see directories.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "builder/cache_store.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/root.h"
#include "image/assemble.h"
#include "image/store.h"
#include "snapshot/mount.h"
#include "snapshot/snapshotter.h"

namespace skiff::builder {

// The boxes a build drives. One per thread: each opens its own SQLite
// connection (a connection is not shared between threads).
struct Workspace {
  explicit Workspace(const std::filesystem::path& root_path);
  Root root;
  ImageStore images;
  snapshot::Snapshotter snapshots;
  BuildCache cache;
};

// A stage's filesystem so far: its layers, bottom first. The snapshots they
// name are made on first use (materialize): a fully cached build never
// unpacks or mounts anything.
struct LayerStack {
  std::vector<AssembledLayer> layers;

  // The chain ID of the whole stack; empty without layers.
  Digest chain() const;
  void push(const AssembledLayer& layer) { layers.push_back(layer); }
};

// Ensures the stack's snapshots exist (unpacking missing ones from the
// layer blobs); returns the top snapshot's key, "" for an empty stack.
std::string materialize(Workspace& workspace, const LayerStack& stack);

// Removes what interrupted builds left behind: active snapshots and mounts
// of build processes that no longer run.
void remove_stale_build_roots(Workspace& workspace);

// A writable root filesystem on top of a stack: an active snapshot mounted
// under the store's tmp/. Destroyed without commit(), it leaves nothing.
class WritableRoot {
 public:
  WritableRoot(Workspace& workspace, const LayerStack& parent);
  ~WritableRoot();
  WritableRoot(const WritableRoot&) = delete;
  WritableRoot& operator=(const WritableRoot&) = delete;

  const std::filesystem::path& path() const { return rootfs_; }
  // A private directory beside the root filesystem (bundle, etc files).
  std::filesystem::path scratch() const { return dir_.path(); }
  int fd() const { return fd_.get(); }
  const std::string& key() const { return key_; }

  // Entries that exist only because a mount needed a target (created by
  // the runtime for /etc/resolv.conf, /proc…): removed before the diff if
  // they are still empty. Paths are relative to the root
  // ("etc/resolv.conf"); the directories above them that existed, which
  // creating the stub copied up, are dropped again when left unchanged.
  void add_stubs(const std::vector<std::string>& absent_paths);

  // Unmounts, and turns the changes into a layer blob (compressed as
  // asked) and a committed snapshot (named by its chain ID). nullopt when
  // nothing changed.
  std::optional<AssembledLayer> commit(const LayerStack& parent, std::int64_t epoch, const std::string& created_by,
                                       snapshot::Compression compression);

 private:
  void remove_stubs();

  Workspace& workspace_;
  std::string key_;
  TempDir dir_;
  std::filesystem::path rootfs_;
  snapshot::Mount mount_;
  UniqueFd fd_;
  bool committed_ = false;
  struct ParentState {
    std::string path;
    std::uint32_t mode = 0, uid = 0, gid = 0;
  };
  std::vector<std::string> stubs_;
  std::vector<ParentState> parents_;
};

// A read-only view of a stack (COPY --from): mounted under tmp/, an empty
// directory for an empty stack.
class ReadOnlyRoot {
 public:
  ReadOnlyRoot(Workspace& workspace, const LayerStack& stack);
  ~ReadOnlyRoot();
  ReadOnlyRoot(const ReadOnlyRoot&) = delete;
  ReadOnlyRoot& operator=(const ReadOnlyRoot&) = delete;
  const std::filesystem::path& path() const { return rootfs_; }

 private:
  Workspace& workspace_;
  std::string key_;
  TempDir dir_;
  std::filesystem::path rootfs_;
  snapshot::Mount mount_;
};

}  // namespace skiff::builder
