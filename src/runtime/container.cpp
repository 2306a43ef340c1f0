// The container life cycle: create (launch an init that waits), start,
// state, kill, delete, wait — runc's semantics over state kept in a tmpfs.
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "runtime/console.h"
#include "runtime/init.h"
#include "runtime/launch.h"
#include "runtime/namespaces.h"
#include "runtime/sync.h"

namespace skiff::runtime {

fs::path default_state_root() { return "/run/skiff-runtime"; }

std::string to_string(Status status) {
  switch (status) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::stopped: return "stopped";
  }
  return "stopped";
}

Json State::to_oci_json() const {
  Json a = Json::object();
  for (const auto& [k, v] : annotations) a[k] = v;
  Json j = {{"ociVersion", oci_version}, {"id", id}, {"status", to_string(status)}, {"bundle", bundle.string()}};
  if (pid > 0) j["pid"] = pid;
  else j["pid"] = 0;
  if (!annotations.empty()) j["annotations"] = a;
  return j;
}

std::string oci_state_json(const std::string& id, Status status, pid_t pid, const fs::path& bundle,
                           const std::map<std::string, std::string>& annotations) {
  State s;
  s.id = id;
  s.status = status;
  s.pid = pid;
  s.bundle = bundle;
  s.annotations = annotations;
  return s.to_oci_json().dump();
}

namespace {

// The container's binary must not be reachable through /proc/<pid>/exe of
// its init before exec: clone3 copies this flag into the child.
class NonDumpable {
 public:
  NonDumpable() : previous_(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)) { ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
  ~NonDumpable() {
    if (previous_ > 0) ::prctl(PR_SET_DUMPABLE, previous_, 0, 0, 0);
  }
  NonDumpable(const NonDumpable&) = delete;
  NonDumpable& operator=(const NonDumpable&) = delete;

 private:
  int previous_;
};

struct SocketPair {
  UniqueFd parent, child;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) fail_errno("socketpair");
    parent.reset(fds[0]);
    child.reset(fds[1]);
  }
};

// Kills and reaps a half-made child, removes the cgroup and the state
// directory, unless dismissed.
class LaunchGuard {
 public:
  LaunchGuard(const ContainerDir& dir, bool owns_dir) : dir_(dir), owns_dir_(owns_dir) {}
  ~LaunchGuard() {
    if (dismissed_) return;
    if (pidfd_ >= 0) {
      ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
      siginfo_t info;
      while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED) != 0 && errno == EINTR) {
      }
    }
    if (cgroup_) {
      try {
        cgroup_->destroy();
      } catch (const Error& e) {
        log::warn("{}", e.what());
      }
    }
    if (owns_dir_) {
      try {
        dir_.remove();
      } catch (const Error& e) {
        log::warn("{}", e.what());
      }
    }
  }
  LaunchGuard(const LaunchGuard&) = delete;
  LaunchGuard& operator=(const LaunchGuard&) = delete;
  void watch(Cgroup* cgroup) { cgroup_ = cgroup; }
  void watch(int pidfd) { pidfd_ = pidfd; }
  void dismiss() { dismissed_ = true; }

 private:
  const ContainerDir& dir_;
  bool owns_dir_;
  Cgroup* cgroup_ = nullptr;
  int pidfd_ = -1;
  bool dismissed_ = false;
};

long clone_into(std::uint64_t flags, int cgroup_fd, int* pidfd, bool& placed) {
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      placed = true;
      return pid;
    }
    if (errno != EINVAL && errno != EOPNOTSUPP && errno != EBUSY && errno != EACCES && errno != EPERM) return pid;
    log::debug("clone3 into the cgroup failed ({}); placing the process afterwards", std::strerror(errno));
    args.flags &= ~static_cast<std::uint64_t>(CLONE_INTO_CGROUP);
    args.cgroup = 0;
  }
  placed = false;
  return ::syscall(SYS_clone3, &args, sizeof args);
}

// Sysctls a container may set: only those its own namespaces scope.
void check_sysctl(const std::string& key, const LinuxSpec& linux) {
  static const char* ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                   "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  bool ipc = key.starts_with("fs.mqueue.") || std::find(std::begin(ipc_keys), std::end(ipc_keys), key) != std::end(ipc_keys);
  if (ipc && linux.has_namespace(NamespaceType::ipc)) return;
  if (key.starts_with("net.") && linux.has_namespace(NamespaceType::network)) return;
  if ((key == "kernel.domainname" || key == "kernel.hostname") && linux.has_namespace(NamespaceType::uts)) return;
  fail(ErrorKind::invalid_argument,
       "config.json: linux.sysctl: {} is not scoped by a namespace of this container; setting it would change the host", key);
}

unsigned long propagation_flag(const std::string& mode) {
  if (mode == "shared") return MS_SHARED;
  if (mode == "rshared") return MS_SHARED | MS_REC;
  if (mode == "slave") return MS_SLAVE;
  if (mode == "rslave") return MS_SLAVE | MS_REC;
  if (mode == "private") return MS_PRIVATE;
  if (mode == "rprivate") return MS_PRIVATE | MS_REC;
  if (mode == "unbindable") return MS_UNBINDABLE;
  if (mode == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

void write_pid_file(const fs::path& path, pid_t pid) {
  if (path.empty()) return;
  write_file_atomic(fs::absolute(path), std::to_string(pid), 0644, false);
}

[[noreturn]] void child_vanished(const std::string& context, int pidfd) {
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  fail(ErrorKind::internal, "{}: the container's init exited during setup (status {})", context,
       info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status);
}

}  // namespace

Launched launch(const fs::path& state_root, const CreateOptions& options, bool use_fifo) {
  std::string context = "create " + options.id;
  ContainerDir dir(state_root, options.id);
  fs::path bundle = fs::absolute(options.bundle.empty() ? fs::current_path() : options.bundle).lexically_normal();
  if (bundle.has_parent_path() && !bundle.has_filename()) bundle = bundle.parent_path();
  Json config = options.config ? *options.config : load_config(bundle);

  Launched out;
  out.spec = parse_spec(config, bundle);
  const Spec& spec = out.spec;
  if (!spec.process) fail(ErrorKind::invalid_argument, "config.json: process is missing: there is nothing to run");
  struct stat st;
  if (::stat(spec.root_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail(ErrorKind::not_found, "config.json: root.path {} is not a directory", spec.root_path.string());
  if (!spec.linux.has_namespace(NamespaceType::mount))
    fail(ErrorKind::unsupported, "config.json: linux.namespaces lacks \"mount\": skiff needs a mount namespace to build the root filesystem");
  if (!spec.hostname.empty() && !spec.linux.has_namespace(NamespaceType::uts))
    fail(ErrorKind::invalid_argument, "config.json: hostname needs a private UTS namespace (add {{\"type\": \"uts\"}})");
  for (const auto& [key, value] : spec.linux.sysctl) check_sysctl(key, spec.linux);
  if (spec.process->terminal && options.console_socket.empty() && use_fifo && !options.config)
    log::debug("terminal requested without a console socket: the pty master stays with the caller");

  dir.create_exclusive();
  LaunchGuard guard(dir, true);

  out.cgroup = make_cgroup(spec.linux.cgroups_path, options.id);
  guard.watch(out.cgroup.get());
  out.cgroup->create(spec.linux.resources ? &*spec.linux.resources : nullptr);

  InitPlan plan;
  plan.process = plan_process(*spec.process, spec.linux.seccomp, state_root / ".seccomp");
  plan.process.stdio[0] = options.stdio.in;
  plan.process.stdio[1] = options.stdio.out;
  plan.process.stdio[2] = options.stdio.err;
  plan.process.preserve_fds = options.preserve_fds;
  plan.process.init_reaper = options.init_reaper;
  plan.process.start_container_hooks = plan_hooks(spec.hooks.start_container);
  plan.rootfs = spec.root_path.string();
  plan.rootfs_readonly = spec.root_readonly;
  plan.root_propagation = MS_SLAVE | MS_REC;
  plan.rootfs_propagation = propagation_flag(spec.linux.rootfs_propagation);
  plan.mounts = plan_mounts(spec);
  plan.devpts_mounted = std::any_of(plan.mounts.begin(), plan.mounts.end(),
                                    [](const MountStep& m) { return m.is_devpts && m.destination == "/dev/pts"; });
  plan.devices = plan_devices(spec);
  plan.cgroup_sources = out.cgroup->mount_sources();
  plan.hostname = spec.hostname;
  plan.set_hostname = !spec.hostname.empty();
  plan.domainname = spec.domainname;
  plan.set_domainname = !spec.domainname.empty();
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    plan.sysctl.emplace_back(path, value);
  }
  plan.masked_paths = spec.linux.masked_paths;
  plan.readonly_paths = spec.linux.readonly_paths;
  plan.run_runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
  plan.create_container_hooks = plan_hooks(spec.hooks.create_container);
  if (const auto* cgroup_ns = spec.linux.find_namespace(NamespaceType::cgroup)) plan.unshare_cgroup_namespace = cgroup_ns->path.empty();
  if (const auto* user_ns = spec.linux.find_namespace(NamespaceType::user)) plan.user_namespace = user_ns->path.empty();
  if (plan.user_namespace) plan.process.set_groups = !spec.linux.gid_mappings.empty();

  // Namespaces given by path: opened here, joined by the child (pid: by
  // this thread, for its children).
  std::vector<UniqueFd> namespace_fds;
  UniqueFd pid_namespace;
  for (const auto& ns : spec.linux.namespaces) {
    if (ns.path.empty()) continue;
    auto fd = open_namespace(ns.path, ns.type);
    if (ns.type == NamespaceType::pid) {
      pid_namespace = std::move(fd);
      continue;
    }
    plan.join_namespaces.emplace_back(clone_flag(ns.type), fd.get());
    namespace_fds.push_back(std::move(fd));
  }
  // The user namespace first: the others are joined with its privileges.
  std::stable_partition(plan.join_namespaces.begin(), plan.join_namespaces.end(),
                        [](const auto& ns) { return ns.first == CLONE_NEWUSER; });

  SocketPair sync;
  plan.sync_socket = sync.child.get();
  UniqueFd fifo;
  if (use_fifo) {
    if (::mkfifo(dir.fifo().c_str(), 0622) != 0) fail_errno("create " + dir.fifo().string());
    fifo.reset(::open(dir.fifo().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) fail_errno("open " + dir.fifo().string());
    plan.exec_fifo = fifo.get();
  }

  int pidfd = -1;
  bool placed = false;
  long pid;
  {
    std::optional<PidNamespaceForChildren> in_pid_namespace;
    if (pid_namespace) in_pid_namespace.emplace(pid_namespace.get());
    NonDumpable non_dumpable;
    pid = clone_into(static_cast<std::uint64_t>(namespaces_to_create(spec.linux)), out.cgroup->clone_into_fd(), &pidfd, placed);
    if (pid == 0) container_init(plan);
  }
  if (pid < 0) fail_errno(context + ": clone3 the container's init");
  out.process.pid = static_cast<pid_t>(pid);
  out.process.pidfd.reset(pidfd);
  guard.watch(pidfd);
  sync.child.reset();
  fifo.reset();
  namespace_fds.clear();

  out.cgroup->enter(out.process.pid, placed);
  if (plan.user_namespace) write_id_maps(out.process.pid, spec.linux.uid_mappings, spec.linux.gid_mappings);

  auto start_time = process_start_time(out.process.pid);
  out.state_json = oci_state_json(options.id, Status::creating, out.process.pid, bundle, spec.annotations);
  bool child_hooks = !spec.hooks.create_container.empty() || !spec.hooks.start_container.empty();
  int rc = child_hooks ? sync_send(sync.parent.get(), SyncType::go, 0, out.state_json.data(), out.state_json.size())
                       : sync_send(sync.parent.get(), SyncType::go);
  if (rc != 0) child_vanished(context, pidfd);

  std::string buffer(8192, '\0');
  for (;;) {
    SyncMessage message;
    rc = sync_receive(sync.parent.get(), message, buffer.data(), buffer.size());
    if (rc == -1) child_vanished(context, pidfd);
    if (rc != 0) fail_errno(rc, context + ": read from the container's init");
    if (message.type == SyncType::error || message.type == SyncType::exec_error)
      throw_child_error(context, message, buffer.data());
    if (message.type == SyncType::hooks_request) {
      run_hooks(spec.hooks.prestart, out.state_json, "prestart");
      run_hooks(spec.hooks.create_runtime, out.state_json, "createRuntime");
      if (sync_send(sync.parent.get(), SyncType::hooks_done) != 0) child_vanished(context, pidfd);
    } else if (message.type == SyncType::pty) {
      UniqueFd master(message.fd);
      if (!options.console_socket.empty()) send_to_console_socket(options.console_socket, master.get());
      else out.process.pty_master = std::move(master);
    } else if (message.type == SyncType::ready) {
      break;
    }
  }

  write_file_atomic(dir.config_file(), config.dump(), 0600, false);
  Json annotations = Json::object();
  for (const auto& [k, v] : spec.annotations) annotations[k] = v;
  Json saved = {{"id", options.id},
                {"pid", out.process.pid},
                {"pid_start", start_time.value_or(0)},
                {"bundle", bundle.string()},
                {"rootfs", spec.root_path.string()},
                {"created_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()},
                {"annotations", annotations},
                {"owner", ""},
                {"cgroup", out.cgroup->to_json()}};
  dir.save(saved);
  write_pid_file(options.pid_file, out.process.pid);
  out.sync = std::move(sync.parent);
  guard.dismiss();
  return out;
}

void start_launched(Launched& container) {
  int rc = sync_send(container.sync.get(), SyncType::start);
  if (rc != 0) fail_errno(rc, "start: the container's init is gone");
  if (!container.spec.hooks.poststart.empty()) {
    try {
      run_hooks(container.spec.hooks.poststart, container.state_json, "poststart");
    } catch (const Error& e) {
      log::warn("{}", e.what());
    }
  }
}

ExitStatus wait_pidfd(int pidfd) {
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0) {
    if (errno != EINTR) fail_errno("wait for the container's process");
  }
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else {
    status.signal = info.si_status;
    status.exit_code = 128 + info.si_status;
  }
  return status;
}

void destroy_container(const ContainerDir& dir, const Json& saved, bool kill_first) {
  pid_t pid = saved.value("pid", 0);
  if (kill_first && process_matches(pid, saved.value("pid_start", std::uint64_t{0}))) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (pidfd && process_matches(pid, saved.value("pid_start", std::uint64_t{0}))) {
      ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
      pollfd p{pidfd.get(), POLLIN, 0};
      if (::poll(&p, 1, 10000) == 0) log::warn("container {}: init {} still alive 10 s after SIGKILL", dir.path().filename().string(), pid);
    }
  }
  std::string first_error;
  if (auto cgroup = saved.find("cgroup"); cgroup != saved.end()) {
    try {
      load_cgroup(*cgroup)->destroy();
    } catch (const Error& e) {
      first_error = e.what();
    }
  }
  if (auto config_text = read_file_if_exists(dir.config_file())) {
    try {
      auto config = parse_json(*config_text, "saved config");
      auto spec = parse_spec(config, saved.value("bundle", std::string("/")));
      if (!spec.hooks.poststop.empty()) {
        auto state = oci_state_json(saved.value("id", std::string()), Status::stopped, 0,
                                    saved.value("bundle", std::string()), spec.annotations);
        run_hooks(spec.hooks.poststop, state, "poststop");
      }
    } catch (const Error& e) {
      log::warn("{}", e.what());
    }
  }
  dir.remove();
  if (!first_error.empty()) fail(ErrorKind::internal, "{}", first_error);
}

Runtime::Runtime(fs::path state_root) : state_root_(std::move(state_root)) {}

Process Runtime::create(const CreateOptions& options) {
  auto launched = launch(state_root_, options, true);
  return std::move(launched.process);
}

void Runtime::start(const std::string& id) {
  ContainerDir dir(state_root_, id);
  auto saved = dir.load();
  auto state = state_from_saved(saved, dir);
  if (state.status != Status::created)
    fail(ErrorKind::conflict, "start {}: the container is {}; only a created container can be started", id, to_string(state.status));
  UniqueFd fifo(::open(dir.fifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENOENT) fail(ErrorKind::conflict, "start {}: the container was started already", id);
    fail_errno("start " + id + ": open the exec fifo");
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0)));
  pollfd waits[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(waits, pidfd ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("start " + id);
    if (waits[0].revents & POLLIN) break;
    if (waits[1].revents) fail(ErrorKind::conflict, "start {}: the container's init exited before it could start", id);
  }
  char byte;
  if (::read(fifo.get(), &byte, 1) != 1) fail(ErrorKind::internal, "start {}: the container's init did not confirm", id);
  ::unlink(dir.fifo().c_str());
  if (auto config_text = read_file_if_exists(dir.config_file())) {
    auto spec = parse_spec(parse_json(*config_text, "saved config"), state.bundle);
    if (!spec.hooks.poststart.empty()) {
      try {
        run_hooks(spec.hooks.poststart, oci_state_json(id, Status::running, state.pid, state.bundle, state.annotations), "poststart");
      } catch (const Error& e) {
        log::warn("{}", e.what());
      }
    }
  }
}

State Runtime::state(const std::string& id) const {
  ContainerDir dir(state_root_, id);
  return state_from_saved(dir.load(), dir);
}

std::vector<State> Runtime::list() const {
  std::vector<State> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_root_, ec)) {
    auto name = entry.path().filename().string();
    if (name.starts_with(".") || !entry.is_directory()) continue;
    try {
      out.push_back(state(name));
    } catch (const Error&) {
      // Being created or removed right now.
    }
  }
  std::sort(out.begin(), out.end(), [](const State& a, const State& b) { return a.id < b.id; });
  return out;
}

void Runtime::kill(const std::string& id, int signal, bool all) {
  ContainerDir dir(state_root_, id);
  auto saved = dir.load();
  auto state = state_from_saved(saved, dir);
  if (state.status == Status::stopped) fail(ErrorKind::conflict, "kill {}: the container is not running", id);
  if (all) {
    auto cgroup = load_cgroup(saved.at("cgroup"));
    for (pid_t pid : cgroup->pids()) ::kill(pid, signal);
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0)));
  // With `all`, the cgroup sweep above may already have killed (and its
  // parent reaped) the init: that is the signal delivered, not an error.
  if (!pidfd && all && errno == ESRCH) return;
  if (!pidfd) fail_errno("kill " + id);
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0 && !(all && errno == ESRCH))
    fail_errno(fmt::format("kill {}: signal {}", id, signal));
}

void Runtime::remove(const std::string& id, bool force) {
  ContainerDir dir(state_root_, id);
  auto saved = dir.load();
  auto state = state_from_saved(saved, dir);
  if (state.status == Status::running && !force)
    fail(ErrorKind::conflict, "delete {}: the container is running: stop it first or use --force", id);
  destroy_container(dir, saved, state.status != Status::stopped);
}

ExitStatus Runtime::wait(Process& process, const std::string& id) {
  auto status = wait_pidfd(process.pidfd.get());
  process.pidfd.reset();
  process.pid = 0;
  if (!id.empty()) {
    try {
      ContainerDir dir(state_root_, id);
      status.oom_killed = load_cgroup(dir.load().at("cgroup"))->oom_killed(status.signal);
    } catch (const Error& e) {
      log::debug("wait {}: OOM status unknown: {}", id, e.what());
    }
  }
  return status;
}

bool Runtime::oom_killed(const std::string& id) const {
  ContainerDir dir(state_root_, id);
  return load_cgroup(dir.load().at("cgroup"))->oom_killed(0);
}

std::vector<pid_t> Runtime::pids(const std::string& id) const {
  ContainerDir dir(state_root_, id);
  return load_cgroup(dir.load().at("cgroup"))->pids();
}

ProcessSpec Runtime::process_of(const std::string& id) const {
  ContainerDir dir(state_root_, id);
  auto config = parse_json(read_file(dir.config_file()), "saved config of " + id);
  auto it = config.find("process");
  if (it == config.end()) fail(ErrorKind::corrupt, "container {}: the saved config has no process", id);
  return parse_process(*it);
}

}  // namespace skiff::runtime
