#include "runtime/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fs.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

int namespaces_to_create(const LinuxSpec& linux) {
  int flags = 0;
  for (const auto& ns : linux.namespaces)
    if (ns.path.empty() && ns.type != NamespaceType::cgroup) flags |= clone_flag(ns.type);
  return flags;
}

UniqueFd open_namespace(const std::string& path, NamespaceType type) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail_errno(fmt::format("config.json: linux.namespaces: open the {} namespace {}", to_string(type), path));
  int kind = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (kind >= 0 && kind != clone_flag(type))
    fail(ErrorKind::invalid_argument, "config.json: linux.namespaces: {} is not a {} namespace", path, to_string(type));
  if (kind < 0) {
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
      fail(ErrorKind::invalid_argument, "config.json: linux.namespaces: {} is not a namespace file", path, to_string(type));
  }
  return fd;
}

std::vector<std::pair<int, UniqueFd>> namespaces_of(pid_t pid) {
  static constexpr NamespaceType order[] = {NamespaceType::user, NamespaceType::ipc,    NamespaceType::uts,
                                            NamespaceType::network, NamespaceType::pid, NamespaceType::cgroup,
                                            NamespaceType::time, NamespaceType::mount};
  std::vector<std::pair<int, UniqueFd>> out;
  for (auto type : order) {
    auto theirs = fmt::format("/proc/{}/ns/{}", pid, proc_ns_name(type));
    auto ours = fmt::format("/proc/self/ns/{}", proc_ns_name(type));
    struct stat a, b;
    if (::stat(theirs.c_str(), &a) != 0) {
      if (errno == ENOENT && ::access(fmt::format("/proc/{}", pid).c_str(), F_OK) == 0) continue;  // kernel lacks it
      fail_errno(fmt::format("join the {} namespace of process {}", to_string(type), pid));
    }
    if (::stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    UniqueFd fd(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail_errno(fmt::format("open {}", theirs));
    out.emplace_back(clone_flag(type), std::move(fd));
  }
  return out;
}

PidNamespaceForChildren::PidNamespaceForChildren(int pid_namespace) {
  saved_.reset(::open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC));
  if (!saved_) fail_errno("open /proc/self/ns/pid_for_children");
  if (::setns(pid_namespace, CLONE_NEWPID) != 0) fail_errno("join the container's pid namespace");
}

PidNamespaceForChildren::~PidNamespaceForChildren() { ::setns(saved_.get(), CLONE_NEWPID); }

void write_id_maps(pid_t pid, const std::vector<IdMapping>& uid_mappings, const std::vector<IdMapping>& gid_mappings) {
  auto format = [](const std::vector<IdMapping>& mappings) {
    std::string text;
    for (const auto& m : mappings) text += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
    return text;
  };
  auto write = [&](const char* file, const std::string& text) {
    if (text.empty()) return;
    auto path = fmt::format("/proc/{}/{}", pid, file);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      fail_errno(fmt::format("user namespace: write {}", path));
  };
  write("uid_map", format(uid_mappings));
  write("gid_map", format(gid_mappings));
}

void join_namespaces(const std::vector<std::pair<int, int>>& namespaces) noexcept {
  for (const auto& [flag, fd] : namespaces) {
    if (flag == CLONE_NEWPID) continue;  // applies to children; the runtime joined it before clone
    if (::setns(fd, flag) != 0) child_fail(errno, "join namespace (flag %#x)", flag);
  }
}

}  // namespace skiff::runtime
