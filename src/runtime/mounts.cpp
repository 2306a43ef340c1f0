// The container's filesystem: the rootfs bind, every mount of the spec made
// through a descriptor resolved inside the rootfs (openat2 RESOLVE_IN_ROOT,
// then mount on /proc/self/fd/N) so a symlink planted in the image cannot
// send a mount to the host (CVE-2021-30465), pivot_root, and what follows
// it: sysctls, masked and read-only paths, a read-only root.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strings.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

struct FlagOption {
  const char* name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption flag_options[] = {
    {"async", true, MS_SYNCHRONOUS},   {"atime", true, MS_NOATIME},       {"defaults", false, 0},
    {"dev", true, MS_NODEV},           {"diratime", true, MS_NODIRATIME}, {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},         {"iversion", false, MS_I_VERSION}, {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},         {"mand", false, MS_MANDLOCK},      {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},        {"nodiratime", false, MS_NODIRATIME}, {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION}, {"nolazytime", true, MS_LAZYTIME}, {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME}, {"nostrictatime", true, MS_STRICTATIME}, {"nosuid", false, MS_NOSUID},
    {"nosymfollow", false, MS_NOSYMFOLLOW}, {"relatime", false, MS_RELATIME}, {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},           {"silent", false, MS_SILENT},      {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},         {"sync", false, MS_SYNCHRONOUS},
};

constexpr std::pair<const char*, unsigned long> propagation_options[] = {
    {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},       {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},                {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Flags a bind mount takes only through a remount.
constexpr unsigned long remount_only = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                       MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

// "/proc/self/fd/N" for a descriptor, in caller storage.
struct FdPath {
  char text[32];
  explicit FdPath(int fd) { snprintf(text, sizeof text, "/proc/self/fd/%d", fd); }
  operator const char*() const { return text; }
};

void close_fd(int fd) noexcept {
  if (fd >= 0) ::close(fd);
}

// Splits "/a/b/c" into parent "/a/b" and name "c" in caller buffers.
bool split_path(const char* path, char* parent, size_t parent_size, const char** name) {
  const char* slash = strrchr(path, '/');
  if (!slash || slash[1] == '\0') return false;
  size_t length = static_cast<size_t>(slash - path);
  if (length == 0) length = 1;  // "/c" → parent "/"
  if (length >= parent_size) return false;
  memcpy(parent, path, length);
  parent[length] = '\0';
  *name = slash + 1;
  return true;
}

// mount + the remount a bind needs for ro/nosuid/…; `target` is reopened
// after the mount because the old descriptor still names the covered
// directory, not the new mount.
void bind_mount(int root_fd, const char* source, const char* destination, bool recursive, unsigned long remount_flags,
                unsigned long propagation, bool is_directory) noexcept {
  int target = open_in_root(root_fd, destination, O_PATH | O_CLOEXEC | (is_directory ? O_DIRECTORY : 0));
  if (target < 0) child_fail(-target, "mount %s on %s: open the destination inside the rootfs", source, destination);
  if (::mount(source, FdPath(target), nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr) != 0)
    child_fail(errno, "bind mount %s on %s", source, destination);
  close_fd(target);
  if (!remount_flags && !propagation) return;
  int top = open_in_root(root_fd, destination, O_PATH | O_CLOEXEC);
  if (top < 0) child_fail(-top, "mount %s on %s: reopen the new mount", source, destination);
  if (remount_flags) {
    if (recursive) {
      // A remount changes the top mount only; mount_setattr covers the tree.
      mount_attr attr{};
      if (remount_flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
      if (remount_flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
      if (remount_flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
      if (remount_flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
      if (remount_flags & MS_NOSYMFOLLOW) attr.attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
      if (remount_flags & MS_NOATIME) {
        attr.attr_set |= MOUNT_ATTR_NOATIME;
        attr.attr_clr |= MOUNT_ATTR__ATIME;
      } else if (remount_flags & MS_STRICTATIME) {
        attr.attr_set |= MOUNT_ATTR_STRICTATIME;
        attr.attr_clr |= MOUNT_ATTR__ATIME;
      }
      if (remount_flags & MS_NODIRATIME) attr.attr_set |= MOUNT_ATTR_NODIRATIME;
      if (::syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        child_fail(errno, "mount %s on %s: set the mount options", source, destination);
    } else if (::mount(nullptr, FdPath(top), nullptr, MS_BIND | MS_REMOUNT | remount_flags, nullptr) != 0) {
      child_fail(errno, "mount %s on %s: remount with the requested options", source, destination);
    }
  }
  if (propagation && ::mount(nullptr, FdPath(top), nullptr, propagation, nullptr) != 0)
    child_fail(errno, "mount %s on %s: set the propagation", source, destination);
  close_fd(top);
}

void ensure_destination(int root_fd, const MountStep& step) noexcept {
  if (step.source_is_directory) {
    int rc = make_directories_in_root(root_fd, step.destination.c_str(), 0755);
    if (rc != 0) child_fail(rc, "mount %s: create %s inside the rootfs", step.source.c_str(), step.destination.c_str());
    return;
  }
  char parent[4096];
  const char* name = nullptr;
  if (!split_path(step.destination.c_str(), parent, sizeof parent, &name))
    child_fail(EINVAL, "mount %s: bad destination %s", step.source.c_str(), step.destination.c_str());
  int rc = make_directories_in_root(root_fd, parent, 0755);
  if (rc != 0) child_fail(rc, "mount %s: create %s inside the rootfs", step.source.c_str(), parent);
  int file = open_in_root(root_fd, step.destination.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
  if (file == -EISDIR || file == -EEXIST) return;
  if (file < 0) child_fail(-file, "mount %s: create the file %s inside the rootfs", step.source.c_str(), step.destination.c_str());
  close_fd(file);
}

void mount_filesystem(int root_fd, const MountStep& step) noexcept {
  int target = open_in_root(root_fd, step.destination.c_str(), O_PATH | O_CLOEXEC | O_DIRECTORY);
  if (target < 0) child_fail(-target, "mount %s on %s: open the destination inside the rootfs", step.fstype.c_str(), step.destination.c_str());
  const char* data = step.data.empty() ? nullptr : step.data.c_str();
  int rc = ::mount(step.source.c_str(), FdPath(target), step.fstype.c_str(), step.flags, data);
  int err = errno;
  close_fd(target);
  if (rc != 0) {
    // Without its own network (or IPC) namespace a user namespace may not
    // mount sysfs (mqueue): take the host's, read-only, as runc does.
    if (err == EPERM && (step.fstype == "sysfs" || step.fstype == "mqueue")) {
      const char* host = step.fstype == "sysfs" ? "/sys" : "/dev/mqueue";
      bind_mount(root_fd, host, step.destination.c_str(), true, step.flags & remount_only, 0, true);
      return;
    }
    child_fail(err, "mount %s on %s", step.fstype.c_str(), step.destination.c_str());
  }
  if (step.propagation) {
    int top = open_in_root(root_fd, step.destination.c_str(), O_PATH | O_CLOEXEC);
    if (top < 0 || ::mount(nullptr, FdPath(top), nullptr, step.propagation, nullptr) != 0)
      child_fail(top < 0 ? -top : errno, "mount %s on %s: set the propagation", step.fstype.c_str(), step.destination.c_str());
    close_fd(top);
  }
}

// v1/hybrid /sys/fs/cgroup: a tmpfs holding one mount per hierarchy. With
// a cgroup namespace each shows the container's cgroup as its root; without
// one, the container's own directories are bound there.
void mount_cgroup_tree(const InitPlan& plan, int root_fd, const MountStep& step) noexcept {
  const char* destination = step.destination.c_str();
  unsigned long flags = step.flags & ~MS_RDONLY;
  int target = open_in_root(root_fd, destination, O_PATH | O_CLOEXEC | O_DIRECTORY);
  if (target < 0) child_fail(-target, "mount cgroup on %s: open the destination inside the rootfs", destination);
  if (::mount("tmpfs", FdPath(target), "tmpfs", flags, "mode=755") != 0) child_fail(errno, "mount tmpfs on %s", destination);
  close_fd(target);
  int tree = open_in_root(root_fd, destination, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (tree < 0) child_fail(-tree, "open %s", destination);
  for (const auto& source : plan.cgroup_sources) {
    if (source.name.empty()) continue;
    if (::mkdirat(tree, source.name.c_str(), 0755) != 0 && errno != EEXIST)
      child_fail(errno, "create %s/%s", destination, source.name.c_str());
    int dir = ::openat(tree, source.name.c_str(), O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW);
    if (dir < 0) child_fail(errno, "open %s/%s", destination, source.name.c_str());
    int rc;
    if (plan.unshare_cgroup_namespace) {
      rc = ::mount("cgroup", FdPath(dir), source.fstype.c_str(), step.flags,
                   source.options.empty() ? nullptr : source.options.c_str());
    } else {
      rc = ::mount(source.host_dir.c_str(), FdPath(dir), nullptr, MS_BIND | MS_REC, nullptr);
      if (rc == 0 && (step.flags & MS_RDONLY)) {
        int top = ::openat(tree, source.name.c_str(), O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW);
        rc = top < 0 ? -1 : ::mount(nullptr, FdPath(top), nullptr, MS_BIND | MS_REMOUNT | (step.flags & remount_only), nullptr);
        close_fd(top);
      }
    }
    if (rc != 0) child_fail(errno, "mount the %s cgroup hierarchy on %s/%s", source.options.c_str(), destination, source.name.c_str());
    close_fd(dir);
  }
  close_fd(tree);
  if (step.flags & MS_RDONLY) {
    int top = open_in_root(root_fd, destination, O_PATH | O_CLOEXEC | O_DIRECTORY);
    if (top < 0 || ::mount(nullptr, FdPath(top), nullptr, MS_REMOUNT | MS_BIND | (step.flags & remount_only), nullptr) != 0)
      child_fail(top < 0 ? -top : errno, "remount %s read-only", destination);
    close_fd(top);
  }
}

}  // namespace

int open_in_root(int root_fd, const char* path, int flags, mode_t mode) noexcept {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EINTR && errno != EAGAIN) return -errno;
  }
}

int make_directories_in_root(int root_fd, const char* path, mode_t mode) noexcept {
  int fd = open_in_root(root_fd, path, O_PATH | O_CLOEXEC | O_DIRECTORY);
  if (fd >= 0) {
    close_fd(fd);
    return 0;
  }
  if (fd != -ENOENT) return -fd;
  char parent[4096];
  const char* name = nullptr;
  if (!split_path(path, parent, sizeof parent, &name)) return EINVAL;
  int rc = make_directories_in_root(root_fd, parent, mode);
  if (rc != 0) return rc;
  int parent_fd = open_in_root(root_fd, parent, O_PATH | O_CLOEXEC | O_DIRECTORY);
  if (parent_fd < 0) return -parent_fd;
  rc = ::mkdirat(parent_fd, name, mode) == 0 || errno == EEXIST ? 0 : errno;
  close_fd(parent_fd);
  if (rc != 0) return rc;
  // A symlink in place of the directory must still lead to a directory
  // inside the root.
  fd = open_in_root(root_fd, path, O_PATH | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return -fd;
  close_fd(fd);
  return 0;
}

std::vector<MountStep> plan_mounts(const Spec& spec) {
  std::vector<MountStep> steps;
  for (const auto& m : spec.mounts) {
    MountStep step;
    step.destination = fs::path(m.destination).lexically_normal().string();
    if (step.destination.size() > 1 && step.destination.back() == '/') step.destination.pop_back();
    for (const auto& part : fs::path(step.destination))
      if (part == "..") fail(ErrorKind::invalid_argument, "config.json: mounts: destination {} must not contain ..", m.destination);
    step.source = m.source;
    step.fstype = m.type;
    bool bind = m.type == "bind";
    std::vector<std::string> data;
    for (const auto& option : m.options) {
      if (option == "bind") {
        bind = true;
        continue;
      }
      if (option == "rbind") {
        bind = true;
        step.recursive = true;
        continue;
      }
      if (auto f = std::find_if(std::begin(flag_options), std::end(flag_options), [&](const auto& o) { return option == o.name; });
          f != std::end(flag_options)) {
        if (f->clear) step.flags &= ~f->flag;
        else step.flags |= f->flag;
        continue;
      }
      if (auto p = std::find_if(std::begin(propagation_options), std::end(propagation_options),
                                [&](const auto& o) { return option == o.first; });
          p != std::end(propagation_options)) {
        step.propagation = p->second;
        continue;
      }
      if (option == "idmap" || option == "ridmap")
        fail(ErrorKind::unsupported, "config.json: mounts: {}: idmapped mounts are not supported", m.destination);
      if (option == "tmpcopyup" || option == "z" || option == "Z" || option == "copy-symlink" || option == "notmpcopyup") {
        log::debug("mount {}: option {} ignored", m.destination, option);
        continue;
      }
      data.push_back(option);
    }
    step.data = join(data, ",");
    if (bind) {
      step.kind = MountStep::Kind::bind;
      step.remount_flags = step.flags & remount_only;
      struct stat st;
      if (::stat(step.source.c_str(), &st) != 0)
        fail(ErrorKind::not_found, "config.json: mounts: bind source {} for {} does not exist", step.source, m.destination);
      step.source_is_directory = S_ISDIR(st.st_mode);
    } else if (m.type == "cgroup") {
      step.kind = MountStep::Kind::cgroup_tree;
    } else {
      if (m.type.empty()) fail(ErrorKind::invalid_argument, "config.json: mounts: {} has no type", m.destination);
      if (step.source.empty()) step.source = m.type;
      step.is_dev = step.destination == "/dev" && m.type == "tmpfs";
      step.is_devpts = m.type == "devpts";
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

void prepare_rootfs(InitPlan& plan, int& rootfs_fd) noexcept {
  // Nothing done below may propagate back to the host's mount table.
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) child_fail(errno, "make / %s", "private to the container");
  if (!plan.rootfs_parent_mount.empty() && ::mount(nullptr, plan.rootfs_parent_mount.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    child_fail(errno, "make %s private", plan.rootfs_parent_mount.c_str());
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    child_fail(errno, "bind the rootfs %s onto itself", plan.rootfs.c_str());
  rootfs_fd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfs_fd < 0) child_fail(errno, "open the rootfs %s", plan.rootfs.c_str());
}

void mount_all(InitPlan& plan, int rootfs_fd) noexcept {
  for (const auto& step : plan.mounts) {
    ensure_destination(rootfs_fd, step);
    switch (step.kind) {
      case MountStep::Kind::bind:
        bind_mount(rootfs_fd, step.source.c_str(), step.destination.c_str(), step.recursive, step.remount_flags,
                   step.propagation, step.source_is_directory);
        break;
      case MountStep::Kind::cgroup_tree:
        if (plan.cgroup_sources.size() == 1 && plan.cgroup_sources[0].name.empty()) {
          // Pure v2: one cgroup2 mount (or the container's directory).
          if (plan.unshare_cgroup_namespace) {
            MountStep v2 = step;
            v2.fstype = "cgroup2";
            v2.source = "cgroup2";
            v2.data.clear();
            mount_filesystem(rootfs_fd, v2);
          } else {
            bind_mount(rootfs_fd, plan.cgroup_sources[0].host_dir.c_str(), step.destination.c_str(), true,
                       step.flags & remount_only, 0, true);
          }
        } else {
          mount_cgroup_tree(plan, rootfs_fd, step);
        }
        break;
      case MountStep::Kind::mount:
        mount_filesystem(rootfs_fd, step);
        break;
    }
  }
}

void enter_rootfs(InitPlan& plan, int rootfs_fd) noexcept {
  int old_root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (old_root < 0) child_fail(errno, "open /");
  if (::fchdir(rootfs_fd) != 0) child_fail(errno, "enter the rootfs %s", plan.rootfs.c_str());
  if (::syscall(SYS_pivot_root, ".", ".") != 0) child_fail(errno, "pivot_root to %s", plan.rootfs.c_str());
  // The old root now sits on top of the new one: detach it without letting
  // the unmount propagate anywhere.
  if (::fchdir(old_root) != 0) child_fail(errno, "enter the old root");
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) child_fail(errno, "make the old root a slave");
  if (::umount2(".", MNT_DETACH) != 0) child_fail(errno, "detach the old root");
  if (::chdir("/") != 0) child_fail(errno, "chdir /");
  close_fd(old_root);
}

void finish_rootfs(InitPlan& plan) noexcept {
  for (const auto& [path, value] : plan.sysctl) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) child_fail(errno, "sysctl %s", path.c_str());
    if (::write(fd, value.data(), value.size()) < 0) child_fail(errno, "sysctl %s = %s", path.c_str(), value.c_str());
    close_fd(fd);
  }
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) child_fail(errno, "open /");
  for (const auto& path : plan.masked_paths) {
    int fd = open_in_root(root, path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -ENOENT) continue;
    if (fd < 0) child_fail(-fd, "mask %s", path.c_str());
    struct stat st;
    if (::fstat(fd, &st) != 0) child_fail(errno, "mask %s", path.c_str());
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", FdPath(fd), "tmpfs", MS_RDONLY, "size=0,nr_inodes=1")
                                 : ::mount("/dev/null", FdPath(fd), nullptr, MS_BIND, nullptr);
    if (rc != 0) child_fail(errno, "mask %s", path.c_str());
    close_fd(fd);
  }
  for (const auto& path : plan.readonly_paths) {
    int fd = open_in_root(root, path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -ENOENT) continue;
    if (fd < 0) child_fail(-fd, "make %s read-only", path.c_str());
    if (::mount(FdPath(fd), FdPath(fd), nullptr, MS_BIND | MS_REC, nullptr) != 0) child_fail(errno, "make %s read-only", path.c_str());
    close_fd(fd);
    int top = open_in_root(root, path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (top < 0) child_fail(-top, "make %s read-only", path.c_str());
    if (::mount(nullptr, FdPath(top), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      child_fail(errno, "make %s read-only", path.c_str());
    close_fd(top);
  }
  close_fd(root);
  if (plan.rootfs_readonly) {
    struct statvfs st;
    unsigned long keep = 0;
    if (::statvfs("/", &st) == 0) {
      if (st.f_flag & ST_NOSUID) keep |= MS_NOSUID;
      if (st.f_flag & ST_NODEV) keep |= MS_NODEV;
      if (st.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    }
    if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, nullptr) != 0)
      child_fail(errno, "make the root filesystem read-only");
  }
  if (plan.rootfs_propagation && ::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) != 0)
    child_fail(errno, "set the rootfs propagation");
}

}  // namespace skiff::runtime
