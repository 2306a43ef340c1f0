// USER as docker resolves it: names and numbers looked up in the image's
// own /etc/passwd and /etc/group, read inside the root filesystem (never
// through the host's NSS, never following a symlink out of the tree).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::container {

struct User {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;
  std::string home = "/";
};

// `spec` is "", "name", "uid", "name:group", "uid:gid" (any mix). An empty
// spec is root. Unknown names are errors naming the file; unknown numbers
// are accepted as docker does. Supplementary groups come from /etc/group.
User resolve_user(int rootfs_fd, std::string_view spec);

}  // namespace skiff::container
