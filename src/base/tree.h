// Writing into a root filesystem under construction without ever leaving
// it. Every parent directory is resolved by the kernel with openat2
// RESOLVE_IN_ROOT, so a symlink planted by a hostile package ("usr/lib ->
// /etc", "x -> ../../..") resolves inside the tree, never to the host; the
// last component is created with O_EXCL / O_NOFOLLOW / *at calls on that
// parent, so it is never followed either.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/fd.h"

namespace skiff::base {

class RootTree {
 public:
  // `root` must be an existing directory.
  explicit RootTree(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // Paths are relative to the root ("usr/lib/libc.so.6"; "" is the root);
  // a leading "/" is ignored and ".." is refused.

  // Creates the directory and its missing parents (0755, root-owned); an
  // existing directory gets `mode` and the owner. Refuses to replace a
  // non-directory.
  void make_directory(std::string_view path, mode_t mode = 0755, uid_t uid = 0, gid_t gid = 0);
  // Creates (or replaces a non-directory at) `path` and returns it open for
  // writing; the caller writes, then the mode is already `mode`.
  UniqueFd create_file(std::string_view path, mode_t mode, uid_t uid = 0, gid_t gid = 0);
  void write_file(std::string_view path, std::string_view data, mode_t mode = 0644, uid_t uid = 0, gid_t gid = 0);
  // Creates (or replaces a non-directory at) `path` as a symlink to `target`.
  // The target is stored as given and is not resolved now.
  void symlink(std::string_view path, const std::string& target);
  // Makes `path` another name of the regular file at `existing`.
  void hardlink(std::string_view path, std::string_view existing);
  // Removes `path` (recursively for a directory); absent is fine.
  void remove(std::string_view path);

  // lstat of `path` (its last component not followed); nullopt if absent.
  std::optional<struct stat> status(std::string_view path) const;
  // Reads a regular file, following symlinks within the tree.
  std::string read_file(std::string_view path) const;

  // The parent directory of `path`, resolved inside the root, and its last
  // component. Creates missing parents when `create` is set.
  struct Parent {
    UniqueFd fd;
    std::string name;
  };
  Parent open_parent(std::string_view path, bool create) const;

 private:
  UniqueFd resolve(const std::string& path, int flags) const;
  std::filesystem::path root_;
  UniqueFd root_fd_;
};

// Clamps every mtime in the tree to `epoch` (newer entries get exactly
// `epoch`), without following symlinks.
void clamp_mtimes(const std::filesystem::path& root, std::int64_t epoch);

}  // namespace skiff::base
