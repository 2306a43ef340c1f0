// OCI hooks: a program run to completion with the container's state JSON on
// its stdin. prestart/createRuntime/poststart/poststop run in the runtime;
// createContainer/startContainer run inside the container, from its init,
// which is why running one is async-signal-safe.
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "runtime/init.h"

namespace skiff::runtime {

StringArray::StringArray(std::vector<std::string> strings) : strings_(std::move(strings)) { point(); }

StringArray& StringArray::operator=(StringArray&& other) noexcept {
  strings_ = std::move(other.strings_);
  point();
  other.strings_.clear();
  other.point();
  return *this;
}

void StringArray::point() {
  pointers_.clear();
  for (auto& s : strings_) pointers_.push_back(s.data());
  pointers_.push_back(nullptr);
}

std::vector<HookPlan> plan_hooks(const std::vector<Hook>& hooks) {
  std::vector<HookPlan> plans;
  for (const auto& hook : hooks) {
    HookPlan plan;
    plan.path = hook.path;
    plan.argv = StringArray(hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args);
    plan.envp = StringArray(hook.env);
    plan.timeout_ms = hook.timeout ? *hook.timeout * 1000 : -1;
    plans.push_back(std::move(plan));
  }
  return plans;
}

int run_hook(const HookPlan& hook, const char* state, std::size_t state_length, char* error, std::size_t error_size) noexcept {
  // A socket, not a pipe, for stdin: a hook that never reads it must not
  // kill us with SIGPIPE.
  int channel[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    snprintf(error, error_size, "hook %s: socketpair: %s", hook.path.c_str(), strerror(errno));
    return -1;
  }
  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) {
    snprintf(error, error_size, "hook %s: clone3: %s", hook.path.c_str(), strerror(errno));
    ::close(channel[0]);
    ::close(channel[1]);
    return -1;
  }
  if (pid == 0) {
    ::dup2(channel[1], STDIN_FILENO);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(hook.path.c_str(), hook.argv.data(), hook.envp.data());
    _exit(127);
  }
  ::close(channel[1]);
  std::size_t sent = 0;
  while (sent < state_length) {
    ssize_t n = ::send(channel[0], state + sent, state_length - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the hook does not read its stdin: fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(channel[0], SHUT_WR);
  pollfd p{pidfd, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, hook.timeout_ms);
  } while (ready < 0 && errno == EINTR);
  bool timed_out = ready == 0;
  if (timed_out) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0 && errno == EINTR) {
  }
  ::close(pidfd);
  ::close(channel[0]);
  if (timed_out) {
    snprintf(error, error_size, "hook %s timed out after %d s", hook.path.c_str(), hook.timeout_ms / 1000);
    return -1;
  }
  if (info.si_code == CLD_EXITED && info.si_status == 0) return 0;
  if (info.si_code == CLD_EXITED && info.si_status == 127)
    snprintf(error, error_size, "hook %s could not be run (missing or not executable)", hook.path.c_str());
  else if (info.si_code == CLD_EXITED)
    snprintf(error, error_size, "hook %s exited with status %d", hook.path.c_str(), info.si_status);
  else
    snprintf(error, error_size, "hook %s was killed by signal %d", hook.path.c_str(), info.si_status);
  return -1;
}

void run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, const char* stage) {
  for (const auto& plan : plan_hooks(hooks)) {
    char error[1024];
    if (run_hook(plan, state_json.data(), state_json.size(), error, sizeof error) != 0)
      fail(ErrorKind::unavailable, "{} {}", stage, error);
  }
}

}  // namespace skiff::runtime
