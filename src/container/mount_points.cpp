#include "container/mount_points.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/resolve.h"
#include "core/strings.h"

namespace skiff::container {

std::vector<std::string> mount_targets(const Json& spec) {
  std::vector<std::string> targets;
  for (const auto& m : spec.value("mounts", Json::array())) {
    std::string destination = m.value("destination", "");
    while (!destination.empty() && destination.front() == '/') destination.erase(0, 1);
    if (!destination.empty()) targets.push_back(destination);
  }
  return targets;
}

std::vector<std::string> missing_mount_points(int root_fd, const Json& spec) {
  std::vector<std::string> missing;
  for (const auto& target : mount_targets(spec)) {
    std::string prefix;
    for (const auto& part : split(target, '/')) {
      if (part.empty() || part == ".") continue;
      prefix = prefix.empty() ? part : prefix + "/" + part;
      UniqueFd fd = open_in_root(root_fd, prefix, O_PATH | O_NOFOLLOW);
      struct stat st;
      if (!fd || ::fstat(fd.get(), &st) != 0) {
        missing.push_back(prefix);
        break;
      }
      if (!S_ISDIR(st.st_mode)) break;  // a file (or symlink) mount target that exists
    }
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

}  // namespace skiff::container
