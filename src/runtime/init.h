// What the container's init (and an exec'd process) does, computed by the
// runtime before clone3: every path, flag, mask, argv and BPF program is
// ready, so the child only makes syscalls. The child never allocates: the
// caller may be multithreaded, and a clone child inherits other threads'
// locks without the threads.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/fd.h"
#include "runtime/cgroup.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"

namespace skiff::runtime {

// argv/envp storage with a NULL-terminated pointer array.
class StringArray {
 public:
  StringArray() = default;
  explicit StringArray(std::vector<std::string> strings);
  StringArray(const StringArray&) = delete;
  StringArray& operator=(const StringArray&) = delete;
  StringArray(StringArray&& other) noexcept { *this = std::move(other); }
  StringArray& operator=(StringArray&& other) noexcept;
  char* const* data() const { return pointers_.data(); }
  std::size_t size() const { return strings_.size(); }
  const char* operator[](std::size_t i) const { return strings_[i].c_str(); }
  bool empty() const { return strings_.empty(); }

 private:
  void point();
  std::vector<std::string> strings_;
  std::vector<char*> pointers_{nullptr};
};

struct HookPlan {
  std::string path;
  StringArray argv, envp;
  int timeout_ms = -1;
};

// A hook run to completion with `state` on its stdin. Async-signal-safe.
// Returns 0, or writes a message into `error` and returns -1.
int run_hook(const HookPlan& hook, const char* state, std::size_t state_length, char* error, std::size_t error_size) noexcept;
std::vector<HookPlan> plan_hooks(const std::vector<Hook>& hooks);
// Parent side: runs each hook, throwing on the first failure.
void run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* stage);

struct MountStep {
  enum class Kind {
    mount,        // a filesystem (proc, tmpfs, devpts, mqueue, sysfs, cgroup2, …)
    bind,         // bind/rbind from the host, remounted for ro/nosuid/…
    cgroup_tree,  // v1/hybrid /sys/fs/cgroup: a tmpfs with one mount per hierarchy
  };
  Kind kind = Kind::mount;
  std::string source;
  std::string destination;  // absolute inside the container
  std::string fstype;
  std::string data;
  unsigned long flags = 0;          // MS_* for mount(2) (without MS_BIND for binds)
  unsigned long remount_flags = 0;  // binds: MS_RDONLY|MS_NOSUID|… to apply with a remount
  unsigned long propagation = 0;    // MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, maybe |MS_REC
  bool recursive = false;
  bool source_is_directory = true;
  bool is_dev = false;              // the /dev tmpfs: devices go there
  bool is_devpts = false;
};

struct DeviceNode {
  std::string path;  // absolute inside the container
  mode_t mode = 0;   // S_IFCHR|0666 …
  dev_t device = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ResolvedRlimit {
  int resource = 0;
  std::uint64_t soft = 0, hard = 0;
};

// The process image and its credentials: shared by the init and exec.
struct ProcessPlan {
  StringArray argv, envp;
  char executable[4096] = {};  // argv[0] resolved against PATH inside the container
  std::string path_variable;  // PATH from envp, for the lookup inside the container
  std::string cwd;
  bool terminal = false;
  std::optional<std::pair<unsigned, unsigned>> console_size;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool set_groups = true;  // false in a user namespace whose setgroups is denied
  mode_t umask = 022;
  std::optional<CapabilitySets> capabilities;
  int last_capability = 40;
  bool no_new_privileges = false;
  SeccompProgram seccomp;
  std::vector<ResolvedRlimit> rlimits;
  std::string oom_score_adj;  // "" leaves it
  std::optional<unsigned long> personality;
  int preserve_fds = 0;
  int stdio[3] = {-1, -1, -1};  // -1: keep 0/1/2
  bool init_reaper = false;
  std::vector<HookPlan> start_container_hooks;
};

struct InitPlan {
  ProcessPlan process;
  int sync_socket = -1;
  int exec_fifo = -1;  // O_PATH fd of the exec fifo; -1: wait for SyncType::start instead
  // Namespaces given by path, joined with setns before anything else.
  std::vector<std::pair<int, int>> join_namespaces;  // clone flag, fd
  bool unshare_cgroup_namespace = false;  // after the parent placed us in the cgroup
  bool user_namespace = false;

  std::string rootfs;
  std::string rootfs_parent_mount;  // made private when rootfs propagation is shared
  bool rootfs_readonly = false;
  unsigned long root_propagation = 0;       // applied to "/" before the rootfs bind
  unsigned long rootfs_propagation = 0;     // re-applied to "/" after pivot_root (0: none)
  std::vector<MountStep> mounts;
  std::vector<CgroupMountSource> cgroup_sources;
  std::vector<DeviceNode> devices;
  bool devpts_mounted = false;  // /dev/ptmx becomes a symlink to pts/ptmx
  std::string hostname, domainname;
  bool set_hostname = false, set_domainname = false;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys/… path, value
  std::vector<std::string> masked_paths, readonly_paths;
  bool run_runtime_hooks = false;  // ask the parent to run prestart/createRuntime hooks
  std::vector<HookPlan> create_container_hooks;
  bool create_directories_as_needed = true;
};

// The child of clone3 for a new container. Never returns.
[[noreturn]] void container_init(InitPlan& plan) noexcept;

struct ExecPlan {
  ProcessPlan process;
  int sync_socket = -1;
  std::vector<std::pair<int, int>> join_namespaces;  // user first, mount last
};

// The child of clone3 for `exec`: joins the namespaces, then runs the process.
[[noreturn]] void exec_init(ExecPlan& plan) noexcept;

// --- building blocks, each in the file of its concern ----------------------

// process.cpp (parent): the plan for a process spec.
ProcessPlan plan_process(const ProcessSpec& process, const std::optional<Json>& seccomp,
                         const std::filesystem::path& seccomp_cache);
// process.cpp (child): everything between "start" and the user's program.
[[noreturn]] void finish_process(ProcessPlan& plan, int sync_socket) noexcept;
// process.cpp (child): the PATH lookup, done before start so a missing
// program fails create, as runc does. Stores the result for finish_process.
void resolve_executable(ProcessPlan& plan) noexcept;
// process.cpp (child): puts plan.stdio on 0/1/2, keeps the preserved fds and
// `keep`, closes every other descriptor.
// `keep` points at the caller's descriptor variables, which are updated when
// a descriptor has to move out of the way.
void arrange_descriptors(ProcessPlan& plan, int* const* keep, int keep_count) noexcept;

// mounts.cpp (parent / child)
std::vector<MountStep> plan_mounts(const Spec& spec);
void prepare_rootfs(InitPlan& plan, int& rootfs_fd) noexcept;
void mount_all(InitPlan& plan, int rootfs_fd) noexcept;
void enter_rootfs(InitPlan& plan, int rootfs_fd) noexcept;  // pivot_root
void finish_rootfs(InitPlan& plan) noexcept;                // after pivot: sysctl, masks, ro
// Opens `path` (absolute in the container) below `root_fd` without leaving
// it: openat2 with RESOLVE_IN_ROOT. Returns the fd or -errno.
int open_in_root(int root_fd, const char* path, int flags, mode_t mode = 0) noexcept;
// mkdir -p of `path` below `root_fd`, each step resolved inside the root.
int make_directories_in_root(int root_fd, const char* path, mode_t mode) noexcept;

// devices.cpp
std::vector<DeviceNode> plan_devices(const Spec& spec);
void create_devices(const InitPlan& plan, int rootfs_fd) noexcept;
// console.cpp (child): a pty in the container's devpts, slave on 0/1/2 and
// /dev/console (bind) when `console_in_root`; the master goes to the parent.
void setup_terminal(int root_fd, bool bind_console, const ProcessPlan& plan, int sync_socket) noexcept;

// namespaces.cpp
void join_namespaces(const std::vector<std::pair<int, int>>& namespaces) noexcept;

// capabilities.cpp
CapabilitySets clamp_capabilities(const CapabilitySets& wanted);
void drop_bounding_set(const ProcessPlan& plan) noexcept;
void apply_capabilities(const ProcessPlan& plan) noexcept;

}  // namespace skiff::runtime
