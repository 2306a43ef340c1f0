// Where the runtime mounts into a root filesystem, and which of those
// places the tree lacks: the runtime creates them as empty mount points
// (/proc, /dev, /etc/resolv.conf…), so they are neither a build step's nor
// a container's changes and stay out of the layers made from them.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::container {

// The spec's mount destinations, relative ("etc/resolv.conf").
std::vector<std::string> mount_targets(const Json& spec);

// Of those, the ones missing from the tree at `root_fd`, each as the first
// missing part of its path: "etc/resolv.conf" when /etc exists, "data" for
// /data/cache when /data does not. Sorted, without duplicates.
std::vector<std::string> missing_mount_points(int root_fd, const Json& spec);

}  // namespace skiff::container
