// Opening paths inside a root filesystem the container (or an image) can
// write: openat2 with RESOLVE_IN_ROOT, so a symlink planted in the tree
// resolves against the tree's root and never reaches the host.
#pragma once

#include <fcntl.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/fd.h"

namespace skiff {

// openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
// Returns an invalid fd with errno set on failure.
UniqueFd open_in_root(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// Reads a (small) regular file inside the root; nullopt if it does not
// exist. Refuses files over `max_size`.
std::optional<std::string> read_file_in_root(int root_fd, std::string_view path, size_t max_size = 4 << 20);

}  // namespace skiff
