// Descriptor-based filesystem helpers of the snapshot box: nothing here
// takes a path that could lead through a symlink.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace skiff::snapshot {

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// Removes `name` in `dir` (recursively for a directory) without following
// symlinks or descending into other filesystems. Missing is fine.
void remove_at(int dir, const std::string& name);
// Names in `dir` except "." and "..", sorted bytewise.
std::vector<std::string> list_directory(int dir);

void write_all(int fd, const void* data, size_t size);
void pwrite_all(int fd, const void* data, size_t size, off_t offset);

// Extended attributes sorted by name: of an open file or directory, or of
// the entry `name` in `dir` itself (a symlink or device: never followed).
Xattrs read_xattrs_fd(int fd);
Xattrs read_xattrs_at(int dir, const std::string& name);
std::string read_link_at(int dir, const std::string& name);

}  // namespace skiff::snapshot
