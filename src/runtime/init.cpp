// The two children of clone3: a new container's init, and a process exec'd
// into a running container. Each is a straight line of syscalls over a plan
// the runtime computed; any failure goes back to the runtime as one line.
#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

void expect(int socket, SyncType type, const char* step) noexcept {
  SyncMessage message;
  char* buffer = child_buffer();
  int rc = sync_receive(socket, message, buffer, child_buffer_size() - 1);
  if (rc == -1) _exit(1);  // the runtime went away: nothing left to do
  if (rc != 0) child_fail(rc, "%s: read from the runtime", step);
  if (message.type != type) child_fail(EPROTO, "%s: unexpected message %u from the runtime", step, static_cast<unsigned>(message.type));
  if (message.length) buffer[message.length] = '\0';
}

void send(int socket, SyncType type, const char* step) noexcept {
  int rc = sync_send(socket, type);
  if (rc != 0) child_fail(rc, "%s: write to the runtime", step);
}

// chdir to the process's working directory and check that it really is
// inside the container (CVE-2024-21626: a leaked descriptor as cwd).
void enter_working_directory(const ProcessPlan& plan, bool create) noexcept {
  if (::chdir(plan.cwd.c_str()) != 0) {
    int err = errno;
    if (!(create && err == ENOENT)) child_fail(err, "working directory %s", plan.cwd.c_str());
    int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rc = make_directories_in_root(root, plan.cwd.c_str(), 0755);
    ::close(root);
    if (rc != 0) child_fail(rc, "create the working directory %s", plan.cwd.c_str());
    if (::chdir(plan.cwd.c_str()) != 0) child_fail(errno, "working directory %s", plan.cwd.c_str());
  }
  char actual[4096];
  if (::syscall(SYS_getcwd, actual, sizeof actual) < 0 || actual[0] != '/')
    child_fail(EPERM, "working directory %s is outside the container", plan.cwd.c_str());
}

void wait_for_start(InitPlan& plan) noexcept {
  if (plan.exec_fifo < 0) {
    expect(plan.sync_socket, SyncType::start, "wait for start");
    return;
  }
  char path[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", plan.exec_fifo);
  // Blocks until `start` opens the fifo for reading.
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) child_fail(errno, "wait for start: open the exec fifo");
  if (::write(fd, "0", 1) != 1) child_fail(errno, "wait for start: write the exec fifo");
  ::close(fd);
  ::close(plan.exec_fifo);
  plan.exec_fifo = -1;
}

}  // namespace

void container_init(InitPlan& plan) noexcept {
  set_child_report_socket(plan.sync_socket);
  int* keep[16] = {&plan.sync_socket, &plan.exec_fifo};
  int keep_count = 2;
  for (auto& ns : plan.join_namespaces)
    if (keep_count < 16) keep[keep_count++] = &ns.second;
  arrange_descriptors(plan.process, keep, keep_count);
  set_child_report_socket(plan.sync_socket);
  ::setsid();
  ::umask(0);

  expect(plan.sync_socket, SyncType::go, "start the container");
  join_namespaces(plan.join_namespaces);
  for (auto& ns : plan.join_namespaces) ::close(ns.second);
  if (plan.user_namespace) {
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0 || ::syscall(SYS_setresuid, 0, 0, 0) != 0)
      child_fail(errno, "become root in the user namespace");
  }
  // Now in its cgroup: a cgroup namespace created here is rooted there.
  if (plan.unshare_cgroup_namespace && ::unshare(CLONE_NEWCGROUP) != 0) child_fail(errno, "create the cgroup namespace");
  if (plan.set_hostname && ::sethostname(plan.hostname.data(), plan.hostname.size()) != 0)
    child_fail(errno, "set the hostname to %s", plan.hostname.c_str());
  if (plan.set_domainname && ::setdomainname(plan.domainname.data(), plan.domainname.size()) != 0)
    child_fail(errno, "set the domain name to %s", plan.domainname.c_str());

  int rootfs_fd = -1;
  prepare_rootfs(plan, rootfs_fd);
  mount_all(plan, rootfs_fd);
  create_devices(plan, rootfs_fd);
  if (plan.process.terminal) setup_terminal(rootfs_fd, true, plan.process, plan.sync_socket);
  if (plan.run_runtime_hooks) {
    send(plan.sync_socket, SyncType::hooks_request, "createRuntime hooks");
    expect(plan.sync_socket, SyncType::hooks_done, "createRuntime hooks");
  }
  if (!plan.create_container_hooks.empty()) {
    char error[1024];
    for (const auto& hook : plan.create_container_hooks)
      if (run_hook(hook, child_buffer(), strnlen(child_buffer(), child_buffer_size()), error, sizeof error) != 0)
        child_fail(0, "createContainer %s", error);
  }
  enter_rootfs(plan, rootfs_fd);
  ::close(rootfs_fd);
  finish_rootfs(plan);
  enter_working_directory(plan.process, true);
  resolve_executable(plan.process);

  // The runtime's binary stays out of reach until the user's program
  // replaces it: no /proc/<pid>/exe for container processes (CVE-2019-5736).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  send(plan.sync_socket, SyncType::ready, "report ready");
  wait_for_start(plan);
  finish_process(plan.process, plan.sync_socket);
}

void exec_init(ExecPlan& plan) noexcept {
  set_child_report_socket(plan.sync_socket);
  int* keep[16] = {&plan.sync_socket};
  int keep_count = 1;
  for (auto& ns : plan.join_namespaces)
    if (keep_count < 16) keep[keep_count++] = &ns.second;
  arrange_descriptors(plan.process, keep, keep_count);
  set_child_report_socket(plan.sync_socket);
  ::setsid();

  expect(plan.sync_socket, SyncType::go, "exec");
  join_namespaces(plan.join_namespaces);
  for (auto& ns : plan.join_namespaces) ::close(ns.second);
  enter_working_directory(plan.process, false);
  if (plan.process.terminal) {
    int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) child_fail(errno, "open /");
    setup_terminal(root, false, plan.process, plan.sync_socket);
    ::close(root);
  }
  resolve_executable(plan.process);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  send(plan.sync_socket, SyncType::ready, "report ready");
  finish_process(plan.process, plan.sync_socket);
}

}  // namespace skiff::runtime
