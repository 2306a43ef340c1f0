// Creates entries inside a snapshot root so that nothing outside it is ever
// created, changed, linked or removed, whatever the names say. Every parent
// directory is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
// | RESOLVE_NO_XDEV) from the root's descriptor; the last component is
// created with *at() calls relative to that parent and never followed
// (O_EXCL|O_NOFOLLOW, AT_SYMLINK_NOFOLLOW); metadata goes through the
// descriptor of the new entry. Used by layer unpack and by flattening.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "snapshot/unpack.h"
#include "snapshot/whiteout.h"

namespace skiff::snapshot {

struct EntryMetadata {
  mode_t mode = 0644;  // permission bits, setuid/setgid/sticky included
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec mtime {};
  struct timespec atime {};  // tv_nsec == UTIME_OMIT: use mtime
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TreeWriter {
 public:
  // `root_fd` is an O_RDONLY|O_DIRECTORY descriptor of the tree's root,
  // owned by the caller.
  TreeWriter(int root_fd, WhiteoutMode whiteouts);
  TreeWriter(const TreeWriter&) = delete;
  TreeWriter& operator=(const TreeWriter&) = delete;

  // Each call throws Error naming what is wrong with the entry (the caller
  // adds which entry and which layer).
  void directory(const EntryPath& path, const EntryMetadata& meta);
  // Creates the file, lets `fill` write its content into the descriptor
  // (returning where the data it wrote ends; the rest up to `size` becomes
  // a hole), then sets the metadata.
  void regular_file(const EntryPath& path, const EntryMetadata& meta, std::uint64_t size,
                    const std::function<std::uint64_t(int fd)>& fill);
  void symlink(const EntryPath& path, std::string_view target, const EntryMetadata& meta);
  void hardlink(const EntryPath& path, const EntryPath& target);
  // Character or block devices, FIFOs (`type` is S_IFCHR, S_IFBLK or S_IFIFO).
  void special(const EntryPath& path, mode_t type, dev_t device, const EntryMetadata& meta);
  // An OCI whiteout entry (".wh.NAME" or ".wh..wh..opq" as its last component).
  void whiteout(const EntryPath& path, const Whiteout& whiteout);

  // Applies the deferred directory times; call once after the last entry.
  void finish();

  // Parent directories no entry described (created 0755 root:root).
  std::vector<std::string> implied_directories() const;
  // Xattrs the target filesystem refused as unsupported (first few names).
  const std::vector<std::string>& skipped_xattrs() const { return skipped_xattrs_; }

 private:
  struct Dir {
    int fd = -1;
    bool setgid = false;  // new entries inherit its group
    gid_t gid = 0;
  };
  // The directory holding `path`'s last component, created (with implied
  // parents) when missing. The descriptor belongs to the cache.
  Dir parent_dir(const EntryPath& path, bool create);
  Dir describe(int fd);
  int open_dir(std::string_view relative, bool follow_symlinks = true);  // -1 with errno
  int cache_lookup(std::string_view relative);
  int cache_insert(std::string relative, UniqueFd fd);
  Dir cached(std::string_view relative);  // fd -1 when absent
  void forget(std::string_view relative);  // the path and everything below it
  // Makes room for a new entry named `name` in `dir`: removes what is there.
  void clear_name(int dir, const std::string& name, const std::string& relative);
  void remove_entry(int dir, const std::string& name, const std::string& relative);
  // Flatten: removes the children of `dir` not created by this layer.
  void clear_lower_entries(int dir, const std::string& relative);
  void note_created(const std::string& relative);
  bool created_here(const std::string& relative) const { return created_.count(relative) != 0; }

  void apply_metadata_fd(int fd, const EntryMetadata& meta, bool set_times);
  void apply_metadata_at(int dir, const std::string& name, const EntryMetadata& meta, bool chmod);
  void set_xattr_fd(int fd, const std::string& name, const std::string& value);
  void set_xattr_at(int dir, const std::string& entry, const std::string& name, const std::string& value);
  bool xattr_failure_is_soft(int error, const std::string& name);

  int root_fd_;
  WhiteoutMode whiteouts_;
  bool restore_owners_;
  bool use_openat2_ = true;
  Dir root_dir_;
  uid_t owner_ = 0;  // what a new file gets without chown
  gid_t group_ = 0;

  // Recently used parent directories, most recent first.
  struct CachedDir {
    std::string path;
    UniqueFd fd;
    Dir dir;
  };
  std::list<CachedDir> cache_;

  std::unordered_map<std::string, std::pair<struct timespec, struct timespec>> directory_times_;
  std::vector<std::string> implied_order_;
  std::unordered_set<std::string> implied_;
  std::unordered_set<std::string> created_;  // flatten mode only
  std::vector<std::string> skipped_xattrs_;
};

}  // namespace skiff::snapshot
