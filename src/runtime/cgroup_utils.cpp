// What every cgroup implementation shares: reading and writing control
// files, finding the hierarchies, resolving a container's directory.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strings.h"
#include "runtime/cgroup.h"

namespace skiff::runtime {

namespace cgroup_files {

void write(const fs::path& dir, const char* file, std::string_view value) {
  auto path = dir / file;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) fail_errno(fmt::format("cgroup: open {}", path.string()));
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail_errno(fmt::format("cgroup: write \"{}\" to {}", value, path.string()));
}

std::optional<std::string> read(const fs::path& dir, const char* file) {
  try {
    return read_file_if_exists(dir / file);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<std::uint64_t> read_key(const fs::path& dir, const char* file, std::string_view key) {
  auto text = read(dir, file);
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      std::uint64_t value = 0;
      auto digits = line.substr(key.size() + 1);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), value).ec == std::errc()) return value;
    }
  }
  return std::nullopt;
}

std::vector<pid_t> read_pids(const fs::path& dir) {
  std::vector<pid_t> pids;
  auto text = read(dir, "cgroup.procs");
  if (!text) return pids;
  std::istringstream lines(*text);
  pid_t pid;
  while (lines >> pid) pids.push_back(pid);
  return pids;
}

std::vector<fs::path> make_dirs(const fs::path& dir) {
  std::vector<fs::path> created;
  if (::mkdir(dir.c_str(), 0755) == 0) return {dir};
  if (errno == EEXIST) return {};
  if (errno != ENOENT) fail_errno(fmt::format("cgroup: create {}", dir.string()));
  created = make_dirs(dir.parent_path());
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail_errno(fmt::format("cgroup: create {}", dir.string()));
  created.push_back(dir);
  return created;
}

void remove_dir(const fs::path& dir) {
  // The usual case: the processes are gone and rmdir just works.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY || attempt >= 50) fail_errno(fmt::format("cgroup: remove {}", dir.string()));
    // Processes remain: kill them and wait for each to exit (pidfd), then
    // retry; dying processes can take a moment to leave the cgroup.
    for (pid_t pid : read_pids(dir)) {
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
      ::kill(pid, SIGKILL);
      if (pidfd) {
        pollfd p{pidfd.get(), POLLIN, 0};
        ::poll(&p, 1, 1000);
      }
    }
    timespec pause{0, 2'000'000};
    ::nanosleep(&pause, nullptr);
  }
}

}  // namespace cgroup_files

std::vector<CgroupMount> cgroup_mounts() {
  std::vector<CgroupMount> mounts;
  auto mountinfo = read_file("/proc/self/mountinfo");
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto before = split(line.substr(0, dash), ' ');
    auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    const std::string& fstype = after[0];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount mount;
    mount.mount_point = before[4];
    mount.mount_root = before[3];
    mount.fstype = fstype;
    if (fstype == "cgroup") {
      for (const auto& option : split(after[2], ',')) {
        if (option == "rw" || option == "ro" || option.starts_with("release_agent") || option == "clone_children" ||
            option == "noprefix" || option == "xattr" || option == "cpuset_v2_mode" || option == "nsdelegate")
          continue;
        mount.controllers.push_back(option);
      }
    } else if (auto text = cgroup_files::read(mount.mount_point, "cgroup.controllers")) {
      std::istringstream words(*text);
      std::string word;
      while (words >> word) mount.controllers.push_back(word);
    }
    // The same hierarchy may be mounted twice; keep the first.
    if (std::any_of(mounts.begin(), mounts.end(), [&](const CgroupMount& m) {
          return m.fstype == mount.fstype && m.controllers == mount.controllers && m.mount_point != mount.mount_point &&
                 fstype == "cgroup";
        }))
      continue;
    mounts.push_back(std::move(mount));
  }
  // This process's place in each hierarchy: "id:controllers:path".
  auto self = read_file("/proc/self/cgroup");
  std::istringstream cgroup_lines(self);
  while (std::getline(cgroup_lines, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string hierarchy_id = line.substr(0, first);
    auto controllers = split(line.substr(first + 1, second - first - 1), ',');
    std::string path = line.substr(second + 1);
    for (auto& mount : mounts) {
      bool match = false;
      if (hierarchy_id == "0" && controllers.size() == 1 && controllers[0].empty()) {
        match = mount.fstype == "cgroup2";
      } else if (mount.fstype == "cgroup") {
        match = !controllers.empty() && std::all_of(controllers.begin(), controllers.end(), [&](const std::string& c) {
          return std::find(mount.controllers.begin(), mount.controllers.end(), c) != mount.controllers.end();
        });
      }
      if (match) mount.own_path = path;
    }
  }
  return mounts;
}

fs::path resolve_cgroup_dir(const CgroupMount& mount, const std::string& cgroups_path) {
  fs::path relative = fs::path(cgroups_path).lexically_normal();
  for (const auto& part : relative)
    if (part == "..") fail(ErrorKind::invalid_argument, "config.json: linux.cgroupsPath: \"{}\" must not contain ..", cgroups_path);
  fs::path base = mount.mount_point;
  if (!relative.is_absolute()) {
    // The runtime's own cgroup, as seen from where the hierarchy is mounted.
    std::string own = mount.own_path;
    if (mount.mount_root != "/" && own.starts_with(mount.mount_root)) own = own.substr(mount.mount_root.size());
    base /= fs::path(own).relative_path();
  }
  return (base / relative.relative_path()).lexically_normal();
}

CgroupLayout cgroup_layout() {
  static const CgroupLayout layout = detect_cgroup_layout();
  return layout;
}

}  // namespace skiff::runtime
