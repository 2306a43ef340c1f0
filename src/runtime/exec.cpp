// exec: a new process in a running container. It is born in the
// container's pid namespace (this thread's pid_for_children) and cgroup
// (CLONE_INTO_CGROUP, v1 hierarchies written before it runs), joins every
// other namespace, and gets the process's credentials and the container's
// seccomp profile. Non-dumpable until its program replaces skiff's image.
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "runtime/console.h"
#include "runtime/init.h"
#include "runtime/launch.h"
#include "runtime/namespaces.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

struct Started {
  Process process;
  UniqueFd sync;
};

Started start_exec(const fs::path& state_root, const std::string& id, const ExecOptions& options) {
  std::string context = "exec " + id;
  ContainerDir dir(state_root, id);
  auto saved = dir.load();
  auto state = state_from_saved(saved, dir);
  if (state.status == Status::stopped) fail(ErrorKind::conflict, "{}: the container is not running", context);
  auto config = parse_json(read_file(dir.config_file()), "saved config of " + id);
  auto spec = parse_spec(config, state.bundle);

  ExecPlan plan;
  plan.process = plan_process(options.process, spec.linux.seccomp, state_root / ".seccomp");
  plan.process.stdio[0] = options.stdio.in;
  plan.process.stdio[1] = options.stdio.out;
  plan.process.stdio[2] = options.stdio.err;
  plan.process.preserve_fds = options.preserve_fds;
  if (const auto* user_ns = spec.linux.find_namespace(NamespaceType::user))
    plan.process.set_groups = user_ns->path.empty() ? !spec.linux.gid_mappings.empty() : true;

  auto namespaces = namespaces_of(state.pid);
  UniqueFd pid_namespace;
  for (auto& [flag, fd] : namespaces) {
    if (flag == CLONE_NEWPID) pid_namespace.reset(::dup(fd.get()));
    plan.join_namespaces.emplace_back(flag, fd.get());
  }
  // The init may have died between the check and now.
  if (!process_matches(state.pid, saved.value("pid_start", std::uint64_t{0})))
    fail(ErrorKind::conflict, "{}: the container is not running", context);
  auto cgroup = load_cgroup(saved.at("cgroup"));

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) fail_errno("socketpair");
  UniqueFd parent_end(fds[0]), child_end(fds[1]);
  plan.sync_socket = child_end.get();

  clone_args args{};
  int pidfd = -1;
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  int cgroup_fd = -1;
  try {
    cgroup_fd = cgroup->clone_into_fd();
  } catch (const Error& e) {
    log::debug("{}: {}", context, e.what());
  }
  bool placed = false;
  long pid;
  {
    std::optional<PidNamespaceForChildren> in_pid_namespace;
    if (pid_namespace) in_pid_namespace.emplace(pid_namespace.get());
    int previous = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (cgroup_fd >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
      pid = ::syscall(SYS_clone3, &args, sizeof args);
      placed = pid >= 0;
      if (pid < 0) {
        args.flags &= ~static_cast<std::uint64_t>(CLONE_INTO_CGROUP);
        args.cgroup = 0;
        pid = ::syscall(SYS_clone3, &args, sizeof args);
      }
    } else {
      pid = ::syscall(SYS_clone3, &args, sizeof args);
    }
    if (pid == 0) exec_init(plan);
    if (previous > 0) ::prctl(PR_SET_DUMPABLE, previous, 0, 0, 0);
  }
  if (pid < 0) fail_errno(context + ": clone3");
  Started out;
  out.process.pid = static_cast<pid_t>(pid);
  out.process.pidfd.reset(pidfd);
  child_end.reset();
  auto abandon = [&] {
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    wait_pidfd(pidfd);
  };
  try {
    cgroup->enter(out.process.pid, placed);
  } catch (...) {
    abandon();
    throw;
  }
  if (sync_send(parent_end.get(), SyncType::go) != 0) {
    abandon();
    fail(ErrorKind::internal, "{}: the process died before it started", context);
  }
  std::string buffer(8192, '\0');
  for (;;) {
    SyncMessage message;
    int rc = sync_receive(parent_end.get(), message, buffer.data(), buffer.size());
    if (rc != 0) {
      auto status = wait_pidfd(pidfd);
      fail(ErrorKind::internal, "{}: the process exited during setup (status {})", context, status.exit_code);
    }
    if (message.type == SyncType::error || message.type == SyncType::exec_error) {
      wait_pidfd(pidfd);
      throw_child_error(context, message, buffer.data());
    }
    if (message.type == SyncType::pty) {
      UniqueFd master(message.fd);
      if (!options.console_socket.empty()) send_to_console_socket(options.console_socket, master.get());
      else out.process.pty_master = std::move(master);
    } else if (message.type == SyncType::ready) {
      break;
    }
  }
  if (!options.pid_file.empty()) write_file_atomic(fs::absolute(options.pid_file), std::to_string(pid), 0644, false);
  out.sync = std::move(parent_end);
  return out;
}

}  // namespace

Process Runtime::exec(const std::string& id, const ExecOptions& options) {
  return std::move(start_exec(state_root_, id, options).process);
}

ExitStatus Runtime::exec_and_wait(const std::string& id, const ExecOptions& options) {
  ForwardedSignals signals;
  auto started = start_exec(state_root_, id, options);
  Foreground session;
  session.pidfd = started.process.pidfd.get();
  session.pty_master = started.process.pty_master.get();
  session.sync = started.sync.get();
  session.signal_fd = signals.fd();
  std::string failure;
  int failure_code = 0;
  auto status = drive_foreground(session, failure, failure_code);
  if (!failure.empty()) {
    if (failure_code == 126 || failure_code == 127)
      throw ExecError(failure_code == 127 ? ErrorKind::not_found : ErrorKind::unauthorized, "exec " + id + ": " + failure,
                      failure_code);
    fail(ErrorKind::internal, "exec {}: {}", id, failure);
  }
  return status;
}

}  // namespace skiff::runtime
