// A record of every entry of a directory tree — inode, type, mode, owner,
// times, size, content hash, symlink target, device number, xattrs — to
// prove a tree unchanged (the canary) or two trees equal (round trips).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace skiff::test {

struct EntryState {
  ino_t inode = 0;
  dev_t device = 0;
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  nlink_t links = 0;
  off_t size = 0;
  blkcnt_t blocks = 0;
  long long mtime_ns = 0;
  long long ctime_ns = 0;
  dev_t rdev = 0;
  std::string content_hash;  // regular files
  std::string link_target;   // symlinks
  std::vector<std::pair<std::string, std::string>> xattrs;
  std::string hardlink_group;  // first path (sorted) sharing this inode
};

using TreeState = std::map<std::string, EntryState>;  // relative path ("" is the root)

// Walks without following symlinks.
TreeState record_tree(const std::filesystem::path& root);

struct CompareOptions {
  bool inodes_and_ctime = true;  // the canary: nothing may even be touched
  bool mtimes = true;
  bool root_entry = true;        // compare the root directory's own metadata
  bool directory_mtimes = true;
  bool blocks = false;           // sparse files: allocated blocks must match
  bool mtime_seconds = false;    // compare mtimes in whole seconds
};

// One line per difference; empty when the trees match.
std::vector<std::string> compare_trees(const TreeState& before, const TreeState& after,
                                       const CompareOptions& options = {});

}  // namespace skiff::test
