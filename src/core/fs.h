// Filesystem helpers. Writes that other processes may observe are atomic:
// a temporary file in the same directory, fsync, rename.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/fd.h"

namespace skiff {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path);
std::optional<std::string> read_file_if_exists(const fs::path& path);

// Replaces `path` atomically with `data`. `durable` adds the fsyncs that make
// the new content survive a power cut (blobs, records); skip it for files
// that are recreated anyway.
void write_file_atomic(const fs::path& path, std::string_view data,
                       mode_t mode = 0644, bool durable = true);

// mkdir -p that reports which component failed.
void ensure_dir(const fs::path& path, mode_t mode = 0755);

// rm -rf that never follows symlinks and never crosses into a mount point
// below `path` (a container's mounts must not be deleted through it), bind
// mounts of the same filesystem included.
void remove_tree(const fs::path& path);

// Whether `path` is the root of a mount. A bind mount of a directory of the
// same filesystem counts, which a st_dev comparison with the parent misses.
bool is_mount_point(const fs::path& path);
// The same for the entry `name` (no slashes) of the directory `dir`.
bool is_mount_point_at(int dir, const char* name);

// Apparent disk usage (allocated blocks) of a tree, hard links counted once.
std::uint64_t disk_usage(const fs::path& path);

UniqueFd open_directory(const fs::path& path);

// A directory deleted with its contents when the object goes away.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent = fs::temp_directory_path(),
                   std::string_view prefix = "skiff-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();

  const fs::path& path() const { return path_; }
  // Keeps the directory: ownership moves to the caller (e.g. after rename).
  fs::path release();

 private:
  fs::path path_;
};

}  // namespace skiff
