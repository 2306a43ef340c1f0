#include "engine/detach.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/lock.h"
#include "core/pipe.h"
#include "engine/fd_io.h"

namespace skiff::engine {

namespace {

// In the monitor-to-be, after the launch: the output on fds 3 and 4, the
// owner lock on 5, then exec. Returns only on failure, with the reason.
std::string become_monitor(container::MonitorArgs& monitor, const Launched& launched, const Pipe& out,
                           const Pipe& err, const FileLock& owner) {
  // Move the descriptors above 10 first, so that placing them on 3, 4 and
  // 5 cannot overwrite one another.
  auto high = [](int fd) { return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 10); };
  bool tty = launched.terminal.valid();
  int stdout_fd = high(tty ? launched.terminal.get() : out.read.get());
  int stderr_fd = tty ? -1 : high(err.read.get());
  int lock_fd = high(owner.fd());
  if (stdout_fd < 0 || lock_fd < 0 || ::dup2(stdout_fd, 3) < 0 || ::dup2(lock_fd, 5) < 0)
    return fmt::format("place the monitor's descriptors: {}", std::strerror(errno));
  if (stderr_fd >= 0 ? ::dup2(stderr_fd, 4) < 0 : ::close(4) != 0 && errno != EBADF)
    return fmt::format("place the monitor's descriptors: {}", std::strerror(errno));
  monitor.pid = launched.pid;
  monitor.tty = tty;
  auto argv_strings = container::monitor_argv(monitor);
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  return fmt::format("exec {}: {}", argv[0], std::strerror(errno));
}

}  // namespace

pid_t start_under_monitor(const ContainerPaths& paths, std::string_view short_id, container::MonitorArgs monitor,
                          const Launcher& launch) {
  // Held by the monitor (inherited as fd 5) for as long as it lives.
  std::optional<FileLock> owner(std::in_place, paths.lock());
  Pipe out, err, sync;

  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // The future monitor: its own session, the container's parent.
    ::setsid();
    sync.read.reset();
    std::string message;
    try {
      Launched launched = launch({out.write.get(), err.write.get(), sync.write.get()});
      if (!launched.reports_itself) write_all(sync.write.get(), fmt::format("P{}", launched.pid));
      message = become_monitor(monitor, launched, out, err, *owner);
    } catch (const std::exception& e) {
      message = e.what();
    }
    write_all(sync.write.get(), "E" + message);
    ::_exit(1);
  }
  sync.write.reset();
  out.write.reset();
  err.write.reset();
  std::string reply = read_to_end(sync.read.get());
  if (reply.starts_with("P") && reply.find('E') == std::string::npos) return std::stoll(reply.substr(1));
  // A monitor that did start records the child's exit and runs the
  // cleanup, which needs the lock: release it before waiting.
  owner.reset();
  ::waitpid(pid, nullptr, 0);
  auto error_at = reply.find('E');
  fail(ErrorKind::unavailable, "start {}: {}", short_id,
       error_at == std::string::npos ? "the container's process exited before it started" : reply.substr(error_at + 1));
}

}  // namespace skiff::engine
