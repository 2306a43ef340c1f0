// The container's process: planned in the runtime (argv, credentials,
// clamped rlimits, compiled seccomp), finished in the child between "start"
// and execve: hooks, rlimits, user, capabilities, no_new_privs, seccomp,
// every inherited descriptor closed (CVE-2024-21626), then the program. With
// --init a tiny reaper stays behind as pid 1.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool runtime_has_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective >> (cap % 32)) & 1;
}

// The reaper: pid 1 of the container with --init. Forwards every signal to
// the main process, reaps orphans, exits with the main process's status.
[[noreturn]] void run_reaper(pid_t main_process) noexcept {
  sigset_t all;
  sigfillset(&all);
  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      ::kill(main_process, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != main_process) continue;
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      _exit(128 + WTERMSIG(status));
    }
  }
}

void reset_signals() noexcept {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

ProcessPlan plan_process(const ProcessSpec& process, const std::optional<Json>& seccomp, const fs::path& seccomp_cache) {
  ProcessPlan plan;
  if (process.args.empty()) fail(ErrorKind::invalid_argument, "config.json: process.args is empty: there is nothing to run");
  plan.argv = StringArray(process.args);
  plan.envp = StringArray(process.env);
  plan.path_variable = default_path;
  for (const auto& e : process.env)
    if (e.starts_with("PATH=")) plan.path_variable = e.substr(5);
  plan.cwd = process.cwd;
  plan.terminal = process.terminal;
  plan.console_size = process.console_size;
  plan.uid = process.user.uid;
  plan.gid = process.user.gid;
  plan.groups = process.user.additional_gids;
  if (process.user.umask) plan.umask = *process.user.umask;
  if (process.capabilities) plan.capabilities = clamp_capabilities(*process.capabilities);
  plan.last_capability = last_capability();
  plan.no_new_privileges = process.no_new_privileges;
  if (seccomp) plan.seccomp = compile_seccomp(*seccomp, seccomp_cache);

  // Never above the current hard limit: raising it needs CAP_SYS_RESOURCE,
  // which this runtime may not hold (and podman asks for 1048576 files).
  bool may_raise = runtime_has_capability(CAP_SYS_RESOURCE);
  for (const auto& limit : process.rlimits) {
    rlimit current{};
    if (::getrlimit(limit.resource, &current) != 0) fail_errno("getrlimit " + limit.name);
    ResolvedRlimit resolved{limit.resource, limit.soft, limit.hard};
    if (!may_raise && resolved.hard > current.rlim_max) {
      log::debug("{}: hard limit {} is above this process's {} and the runtime cannot raise it; using {}", limit.name,
                 limit.hard, current.rlim_max, current.rlim_max);
      resolved.hard = current.rlim_max;
      resolved.soft = std::min<std::uint64_t>(resolved.soft, resolved.hard);
    }
    plan.rlimits.push_back(resolved);
  }
  if (process.oom_score_adj) {
    int wanted = *process.oom_score_adj;
    auto current_text = read_file_if_exists("/proc/self/oom_score_adj");
    int current = current_text ? std::atoi(current_text->c_str()) : 0;
    if (wanted < current && !runtime_has_capability(CAP_SYS_RESOURCE)) {
      log::debug("process.oomScoreAdj {} is below the runtime's {} and lowering it needs CAP_SYS_RESOURCE; using {}",
                 wanted, current, current);
      wanted = current;
    }
    plan.oom_score_adj = std::to_string(wanted);
  }
  return plan;
}

void arrange_descriptors(ProcessPlan& plan, int* const* keep, int keep_count) noexcept {
  const int base = 3 + plan.preserve_fds;
  // Our own descriptors must not sit where stdio or preserved fds go.
  for (int i = 0; i < keep_count; ++i) {
    int& fd = *keep[i];
    if (fd >= 0 && fd < base) {
      int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, base);
      if (moved < 0) child_fail(errno, "move descriptor %d", fd);
      fd = moved;
    }
  }
  int staged[3] = {-1, -1, -1};
  for (int i = 0; i < 3; ++i) {
    if (plan.stdio[i] < 0) continue;
    staged[i] = ::fcntl(plan.stdio[i], F_DUPFD_CLOEXEC, base);
    if (staged[i] < 0) child_fail(errno, "stdio: descriptor %d", plan.stdio[i]);
  }
  for (int i = 0; i < 3; ++i) {
    if (staged[i] < 0) continue;
    if (::dup2(staged[i], i) < 0) child_fail(errno, "stdio: attach fd %d", i);
    ::close(staged[i]);
  }
  // Close everything else: sorted keep list, close the gaps.
  int sorted[16];
  int count = 0;
  for (int i = 0; i < keep_count && count < 16; ++i) {
    int fd = *keep[i];
    if (fd < base) continue;
    int j = count++;
    while (j > 0 && sorted[j - 1] > fd) {
      sorted[j] = sorted[j - 1];
      --j;
    }
    sorted[j] = fd;
  }
  unsigned low = static_cast<unsigned>(base);
  for (int i = 0; i < count; ++i) {
    unsigned fd = static_cast<unsigned>(sorted[i]);
    if (fd > low) ::syscall(SYS_close_range, low, fd - 1, 0U);
    low = fd + 1;
  }
  ::syscall(SYS_close_range, low, ~0U, 0U);
}

void resolve_executable(ProcessPlan& plan) noexcept {
  const char* program = plan.argv[0];
  auto usable = [](const char* path) {
    struct stat st;
    return ::stat(path, &st) == 0 && S_ISREG(st.st_mode) && ::access(path, X_OK) == 0;
  };
  if (strchr(program, '/')) {
    if (strlen(program) >= sizeof plan.executable) child_fail(ENAMETOOLONG, "exec %s", program);
    struct stat st;
    if (::stat(program, &st) != 0) child_fail_with_code(127, errno, "exec: \"%s\"", program);
    if (S_ISDIR(st.st_mode)) child_fail_with_code(126, EISDIR, "exec: \"%s\"", program);
    strcpy(plan.executable, program);
    return;
  }
  const char* dirs = plan.path_variable.c_str();
  while (true) {
    const char* end = strchr(dirs, ':');
    size_t length = end ? static_cast<size_t>(end - dirs) : strlen(dirs);
    char candidate[4096];
    int n = length == 0 ? snprintf(candidate, sizeof candidate, "./%s", program)
                        : snprintf(candidate, sizeof candidate, "%.*s/%s", static_cast<int>(length), dirs, program);
    if (n > 0 && static_cast<size_t>(n) < sizeof candidate && usable(candidate)) {
      strcpy(plan.executable, candidate);
      return;
    }
    if (!end) break;
    dirs = end + 1;
  }
  child_fail_with_code(127, 0, "exec: \"%s\": executable file not found in $PATH", program);
}

void finish_process(ProcessPlan& plan, int sync_socket) noexcept {
  if (!plan.start_container_hooks.empty()) {
    char error[1024];
    for (const auto& hook : plan.start_container_hooks)
      if (run_hook(hook, child_buffer(), strnlen(child_buffer(), child_buffer_size()), error, sizeof error) != 0)
        child_fail(0, "startContainer %s", error);
  }
  if (plan.personality && ::personality(*plan.personality) < 0) child_fail(errno, "set the personality");
  if (!plan.oom_score_adj.empty()) {
    int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, plan.oom_score_adj.data(), plan.oom_score_adj.size()) < 0)
      child_fail(errno, "set oom_score_adj to %s", plan.oom_score_adj.c_str());
    ::close(fd);
  }
  for (const auto& limit : plan.rlimits) {
    rlimit value{static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
    if (::setrlimit(static_cast<__rlimit_resource>(limit.resource), &value) != 0)
      child_fail(errno, "setrlimit %d to %llu/%llu", limit.resource, static_cast<unsigned long long>(limit.soft),
                 static_cast<unsigned long long>(limit.hard));
  }
  ::umask(plan.umask);
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(errno, "set no_new_privs");
  // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: before the drop.
  if (!plan.no_new_privileges) {
    int rc = load_seccomp(plan.seccomp);
    if (rc != 0) child_fail(rc, "load the seccomp filter");
  }
  drop_bounding_set(plan);
  bool change_user = plan.uid != 0 || plan.gid != 0 || !plan.groups.empty();
  if (plan.capabilities && plan.uid != 0 && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) child_fail(errno, "keep capabilities");
  // Raw syscalls: glibc's setuid family would try to signal threads that
  // only exist in the parent.
  if (plan.set_groups && ::syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) != 0 && (change_user || errno != EPERM))
    child_fail(errno, "setgroups");
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) child_fail(errno, "setgid %u", plan.gid);
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) child_fail(errno, "setuid %u", plan.uid);
  apply_capabilities(plan);
  if (plan.no_new_privileges) {
    int rc = load_seccomp(plan.seccomp);
    if (rc != 0) child_fail(rc, "load the seccomp filter");
  }
  if (plan.init_reaper) {
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    long child = ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child < 0) child_fail(errno, "start the init reaper");
    if (child > 0) {
      ::close(sync_socket);
      ::syscall(SYS_close_range, 3U, ~0U, 0U);
      run_reaper(static_cast<pid_t>(child));
    }
  }
  reset_signals();
  // Every descriptor beyond stdio and the preserved ones closes at exec,
  // whatever the caller left open (CVE-2024-21626).
  ::syscall(SYS_close_range, static_cast<unsigned>(3 + plan.preserve_fds), ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(plan.executable, plan.argv.data(), plan.envp.data());
  int err = errno;
  child_fail_with_code(err == ENOENT ? 127 : 126, err, "exec %s", plan.executable);
}

}  // namespace skiff::runtime
