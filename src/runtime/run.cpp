// Foreground runs: create + start + wait + delete in one call, signals
// forwarded to the container, the pty relayed to the caller's terminal.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "runtime/console.h"
#include "runtime/launch.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

constexpr int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE, SIGALRM, SIGCONT};

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies what `from` has now; false at end of file or error.
bool pump(int from, int to) {
  char buffer[16384];
  ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  write_all(to, buffer, static_cast<size_t>(n));
  return true;
}

}  // namespace

ForwardedSignals::ForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : forwarded) sigaddset(&set, sig);
  if (::pthread_sigmask(SIG_BLOCK, &set, &saved_) != 0) fail_errno("block signals");
  fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) fail_errno("signalfd");
}

ForwardedSignals::~ForwardedSignals() {
  fd_.reset();
  ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

ExitStatus drive_foreground(Foreground& s, std::string& exec_failure, int& exec_failure_code) {
  std::optional<RawTerminal> raw;
  bool relay = s.pty_master >= 0 && s.relay_terminal;
  bool stdin_open = relay;
  if (relay) {
    raw.emplace(STDIN_FILENO);
    copy_window_size(STDIN_FILENO, s.pty_master);
    ::fcntl(s.pty_master, F_SETFL, ::fcntl(s.pty_master, F_GETFL) | O_NONBLOCK);
  }
  bool exited = false;
  int sync = s.sync;
  while (!exited) {
    pollfd fds[5];
    int count = 0;
    auto add = [&](int fd) {
      fds[count] = {fd, POLLIN, 0};
      return count++;
    };
    int signal_index = s.signal_fd >= 0 ? add(s.signal_fd) : -1;
    int exit_index = add(s.pidfd);
    int sync_index = sync >= 0 ? add(sync) : -1;
    int master_index = relay ? add(s.pty_master) : -1;
    int stdin_index = stdin_open ? add(STDIN_FILENO) : -1;
    if (::poll(fds, static_cast<nfds_t>(count), -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("wait for the container");
    }
    if (signal_index >= 0 && fds[signal_index].revents) {
      signalfd_siginfo info;
      while (::read(s.signal_fd, &info, sizeof info) == sizeof info) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGWINCH) {
          if (relay) copy_window_size(STDIN_FILENO, s.pty_master);
          continue;
        }
        if (sig == SIGPIPE) continue;
        ::syscall(SYS_pidfd_send_signal, s.pidfd, sig, nullptr, 0);
      }
    }
    if (sync_index >= 0 && fds[sync_index].revents) {
      SyncMessage message;
      char buffer[4096];
      int rc = sync_receive(sync, message, buffer, sizeof buffer);
      if (rc == 0 && (message.type == SyncType::error || message.type == SyncType::exec_error)) {
        exec_failure.assign(buffer, message.length);
        exec_failure_code = message.type == SyncType::exec_error ? message.value : 1;
      }
      if (rc != 0) sync = -1;  // end of file: the program is running
    }
    if (master_index >= 0 && fds[master_index].revents) {
      if (!pump(s.pty_master, STDOUT_FILENO)) relay = false;
    }
    if (stdin_index >= 0 && fds[stdin_index].revents) {
      if (!pump(STDIN_FILENO, s.pty_master)) stdin_open = false;
    }
    if (fds[exit_index].revents) exited = true;
  }
  if (relay) {
    // What the program wrote just before it exited is still in the pty.
    while (pump(s.pty_master, STDOUT_FILENO)) {
      pollfd p{s.pty_master, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
    }
  }
  if (sync >= 0) {
    SyncMessage message;
    char buffer[4096];
    pollfd p{sync, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && sync_receive(sync, message, buffer, sizeof buffer) == 0 &&
        (message.type == SyncType::error || message.type == SyncType::exec_error)) {
      exec_failure.assign(buffer, message.length);
      exec_failure_code = message.type == SyncType::exec_error ? message.value : 1;
    }
  }
  return wait_pidfd(s.pidfd);
}

ExitStatus Runtime::run(const RunOptions& options) {
  std::optional<ForwardedSignals> signals;
  if (options.forward_signals) signals.emplace();
  auto container = launch(state_root_, options, false);
  ContainerDir dir(state_root_, options.id);
  ExitStatus status;
  std::string failure;
  int failure_code = 0;
  try {
    start_launched(container);
    Foreground session;
    session.pidfd = container.process.pidfd.get();
    session.pty_master = container.process.pty_master.get();
    session.sync = container.sync.get();
    session.signal_fd = signals ? signals->fd() : -1;
    session.relay_terminal = options.relay_terminal;
    status = drive_foreground(session, failure, failure_code);
    status.oom_killed = container.cgroup->oom_killed(status.signal);
  } catch (...) {
    if (!options.keep) {
      try {
        destroy_container(dir, dir.load(), true);
      } catch (const Error& e) {
        log::warn("{}", e.what());
      }
    }
    throw;
  }
  if (!options.keep) destroy_container(dir, dir.load(), false);
  if (!failure.empty()) {
    if (failure_code == 126 || failure_code == 127)
      throw ExecError(failure_code == 127 ? ErrorKind::not_found : ErrorKind::unauthorized, "run " + options.id + ": " + failure,
                      failure_code);
    fail(ErrorKind::internal, "run {}: {}", options.id, failure);
  }
  return status;
}

}  // namespace skiff::runtime
