// A container's cgroup, whatever the host's layout: one interface, with the
// v1, v2 and hybrid implementations side by side (cgroup_v1.cpp,
// cgroup_v2.cpp, cgroup_hybrid.cpp). The layout is detected once.
//
// Paths: an absolute cgroupsPath is taken from each hierarchy's root; a
// relative one (default "skiff/<id>") from the runtime's own cgroup in that
// hierarchy. The resolved directories are saved in the container's state so
// that any later process (delete, exec) finds the same cgroup.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/host_features.h"
#include "core/json.h"
#include "runtime/spec.h"

namespace skiff::runtime {

// A hierarchy as the container's /sys/fs/cgroup shows it.
struct CgroupMountSource {
  std::string name;     // directory below /sys/fs/cgroup ("memory", "unified"); "" for a v2 root
  std::string fstype;   // "cgroup" or "cgroup2"
  std::string options;  // v1 controllers ("cpu", "none,name=systemd")
  std::filesystem::path host_dir;  // the container's cgroup there (bind source without a cgroup namespace)
};

class Cgroup {
 public:
  virtual ~Cgroup() = default;

  virtual CgroupLayout layout() const = 0;
  // Makes the directories and writes the limits. Throws naming the file
  // and value that the kernel refused.
  virtual void create(const Resources* resources) = 0;
  // A directory fd for clone3(CLONE_INTO_CGROUP), or -1 when the process
  // must be moved in with enter().
  virtual int clone_into_fd() const = 0;
  // Moves `pid` into the cgroup: into every hierarchy, or, when clone3
  // placed it already (`placed_by_clone`), into those CLONE_INTO_CGROUP
  // does not cover.
  virtual void enter(pid_t pid, bool placed_by_clone) = 0;
  virtual std::vector<pid_t> pids() const = 0;
  // `exit_signal`: how the init ended (v1 without an oom_kill counter
  // counts a SIGKILL after hitting the limit as an OOM kill).
  virtual bool oom_killed(int exit_signal = 0) const = 0;
  // Removes the directories (kills what is left first). Tolerates missing ones.
  virtual void destroy() = 0;
  virtual std::vector<CgroupMountSource> mount_sources() const = 0;
  virtual Json to_json() const = 0;
  // The controller directory used to list processes (for diagnostics).
  virtual std::filesystem::path main_dir() const = 0;
};

// Detected once per process.
CgroupLayout cgroup_layout();

// For a new container.
std::unique_ptr<Cgroup> make_cgroup(const std::string& cgroups_path, const std::string& id);
// From a container's saved state.
std::unique_ptr<Cgroup> load_cgroup(const Json& saved);

// Implementations, exposed for tests that run them against a private
// hierarchy (e.g. a cgroup2 mount in a temporary directory).
std::unique_ptr<Cgroup> make_cgroup_v2(const std::filesystem::path& mount_root, const std::filesystem::path& dir);

// Helpers shared by the implementations (cgroup_utils.cpp).
namespace cgroup_files {
void write(const std::filesystem::path& dir, const char* file, std::string_view value);
std::optional<std::string> read(const std::filesystem::path& dir, const char* file);
// "key value" lines (memory.events, memory.oom_control): the value of key.
std::optional<std::uint64_t> read_key(const std::filesystem::path& dir, const char* file, std::string_view key);
std::vector<pid_t> read_pids(const std::filesystem::path& dir);
// mkdir -p; returns the directories it created (top first).
std::vector<std::filesystem::path> make_dirs(const std::filesystem::path& dir);
// rmdir, killing and waiting out the processes still inside.
void remove_dir(const std::filesystem::path& dir);
}  // namespace cgroup_files

struct CgroupMount {
  std::filesystem::path mount_point;
  std::string fstype;                   // cgroup / cgroup2
  std::vector<std::string> controllers;  // v1: "cpu", "name=systemd"; v2: from cgroup.controllers
  std::string mount_root;               // the hierarchy's root as mounted ("/")
  std::string own_path;                 // this process's cgroup in it (from /proc/self/cgroup)
};
// Every cgroup mount under /sys/fs/cgroup with this process's place in it.
std::vector<CgroupMount> cgroup_mounts();
// Where a container's cgroup goes in a hierarchy.
std::filesystem::path resolve_cgroup_dir(const CgroupMount& mount, const std::string& cgroups_path);

}  // namespace skiff::runtime
