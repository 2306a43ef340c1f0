// The container's minimal /dev: the six standard character devices (OCI's
// "MUST supply" list), the spec's own devices, and the usual symlinks.
// mknod where allowed; in a user namespace the host's node is bound instead.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

struct StandardDevice {
  const char* path;
  unsigned major, minor;
};

constexpr StandardDevice standard_devices[] = {
    {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

void create_device(const DeviceNode& node, int rootfs_fd, bool user_namespace) noexcept {
  const char* slash = strrchr(node.path.c_str(), '/');
  char parent[4096];
  size_t length = static_cast<size_t>(slash - node.path.c_str());
  if (length == 0 || length >= sizeof parent) child_fail(EINVAL, "device %s", node.path.c_str());
  memcpy(parent, node.path.c_str(), length);
  parent[length] = '\0';
  const char* name = slash + 1;
  int rc = make_directories_in_root(rootfs_fd, parent, 0755);
  if (rc != 0) child_fail(rc, "device %s: create %s", node.path.c_str(), parent);
  int dir = open_in_root(rootfs_fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) child_fail(-dir, "device %s: open %s", node.path.c_str(), parent);
  if (!user_namespace && ::mknodat(dir, name, node.mode, node.device) == 0) {
    if (::fchownat(dir, name, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
      child_fail(errno, "device %s: chown", node.path.c_str());
  } else if (!user_namespace && errno == EEXIST) {
    // The image ships the node already; it stays as it is.
  } else if (user_namespace || errno == EPERM) {
    int file = ::openat(dir, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (file < 0 && errno != EEXIST) child_fail(errno, "device %s: create the bind target", node.path.c_str());
    if (file >= 0) ::close(file);
    int target = ::openat(dir, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    char target_path[32];
    snprintf(target_path, sizeof target_path, "/proc/self/fd/%d", target);
    if (target < 0 || ::mount(node.path.c_str(), target_path, nullptr, MS_BIND, nullptr) != 0)
      child_fail(errno, "device %s: bind the host's node", node.path.c_str());
    ::close(target);
  } else {
    child_fail(errno, "device %s: mknod", node.path.c_str());
  }
  ::close(dir);
}

}  // namespace

std::vector<DeviceNode> plan_devices(const Spec& spec) {
  std::vector<DeviceNode> nodes;
  for (const auto& d : standard_devices)
    nodes.push_back({d.path, static_cast<mode_t>(S_IFCHR | 0666), makedev(d.major, d.minor), 0, 0});
  for (const auto& d : spec.linux.devices) {
    auto path = fs::path(d.path).lexically_normal().string();
    for (const auto& part : fs::path(path))
      if (part == "..") fail(ErrorKind::invalid_argument, "config.json: linux.devices: {} must not contain ..", d.path);
    mode_t type = 0;
    switch (d.type) {
      case 'c':
      case 'u': type = S_IFCHR; break;
      case 'b': type = S_IFBLK; break;
      case 'p': type = S_IFIFO; break;
    }
    DeviceNode node{path, static_cast<mode_t>(type | (d.file_mode.value_or(0666) & 07777)),
                    makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)), d.uid.value_or(0),
                    d.gid.value_or(0)};
    auto same = std::find_if(nodes.begin(), nodes.end(), [&](const DeviceNode& n) { return n.path == path; });
    if (same != nodes.end()) *same = node;
    else nodes.push_back(node);
  }
  return nodes;
}

void create_devices(const InitPlan& plan, int rootfs_fd) noexcept {
  for (const auto& node : plan.devices) create_device(node, rootfs_fd, plan.user_namespace);
  int dev = open_in_root(rootfs_fd, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dev < 0) child_fail(-dev, "open /dev inside the rootfs");
  static constexpr std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (const auto& [target, name] : links)
    if (::symlinkat(target, dev, name) != 0 && errno != EEXIST) child_fail(errno, "symlink /dev/%s", name);
  if (plan.devpts_mounted) {
    // The container's ptmx is its own devpts instance's.
    if (::unlinkat(dev, "ptmx", 0) != 0 && errno != ENOENT) child_fail(errno, "replace /dev/ptmx");
    if (::symlinkat("pts/ptmx", dev, "ptmx") != 0) child_fail(errno, "symlink /dev/ptmx");
  }
  ::close(dev);
}

}  // namespace skiff::runtime
