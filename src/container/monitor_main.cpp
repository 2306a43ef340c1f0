// skiff-monitor: see monitor.h. Usage (built by monitor_argv()):
//   skiff-monitor --pid N --log FILE --log-max-size BYTES --exit-file FILE [--tty] [-- CLEANUP…]
// fd 3: the container's stdout (or the pty master with --tty); fd 4: stderr.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "container/log.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/json.h"

namespace {

struct Args {
  pid_t pid = 0;
  std::string log, exit_file;
  std::uint64_t log_max_size = 0;
  bool tty = false;
  std::vector<std::string> cleanup;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--pid") a.pid = static_cast<pid_t>(std::atol(value().c_str()));
    else if (arg == "--log") a.log = value();
    else if (arg == "--log-max-size") a.log_max_size = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--exit-file") a.exit_file = value();
    else if (arg == "--tty") a.tty = true;
    else if (arg == "--") {
      for (++i; i < argc; ++i) a.cleanup.emplace_back(argv[i]);
    }
  }
  return a;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

int main(int argc, char** argv) {
  Args args = parse(argc, argv);
  if (args.pid <= 0 || args.log.empty() || args.exit_file.empty()) {
    const char usage[] = "skiff-monitor: internal helper of skiff; not meant to be run by hand\n";
    [[maybe_unused]] auto n = ::write(2, usage, sizeof usage - 1);
    return 2;
  }
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // fd 5 holds the container's owner lock: kept while we live, dropped by
  // the exec of the cleanup command, which takes the lock itself.
  ::fcntl(5, F_SETFD, FD_CLOEXEC);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  }

  skiff::container::LogWriter log(args.log, args.log_max_size);
  int streams[2] = {3, args.tty ? -1 : 4};
  const char* names[2] = {"stdout", "stderr"};
  for (int fd : streams)
    if (fd >= 0 && ::fcntl(fd, F_GETFD) < 0) fd = -1;
  int exit_fd = pidfd_open(args.pid);

  int status = 0;
  bool exited = false;
  char buffer[65536];
  while (!exited || streams[0] >= 0 || streams[1] >= 0) {
    pollfd fds[3];
    int count = 0;
    int owner[3];
    for (int s = 0; s < 2; ++s)
      if (streams[s] >= 0) fds[count] = {streams[s], POLLIN, 0}, owner[count++] = s;
    if (!exited && exit_fd >= 0) fds[count] = {exit_fd, POLLIN, 0}, owner[count++] = 2;
    // Once the init is gone, drain what is buffered but do not wait for
    // descendants that keep the pipe open.
    int timeout = exited ? 0 : (exit_fd >= 0 ? -1 : 200);
    int ready = ::poll(fds, static_cast<nfds_t>(count), timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && exited) break;
    for (int i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (owner[i] == 2) continue;
      int s = owner[i];
      ssize_t n = ::read(streams[s], buffer, sizeof buffer);
      if (n > 0) {
        log.write(names[s], std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(streams[s]);
        streams[s] = -1;
      }
    }
    if (!exited) {
      pid_t r = ::waitpid(args.pid, &status, WNOHANG);
      if (r == args.pid || (r < 0 && errno == ECHILD)) {
        exited = true;
        if (exit_fd >= 0) ::close(exit_fd);
        exit_fd = -1;
        for (int s = 0; s < 2; ++s)
          if (streams[s] >= 0) ::fcntl(streams[s], F_SETFL, O_NONBLOCK);
      }
    }
  }
  log.flush();
  // Reap any other children (an --init-less container's orphans reparented here).
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }

  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  skiff::Json record = {{"ExitCode", code},
                        {"FinishedAt", skiff::format_rfc3339(std::chrono::system_clock::now())}};
  try {
    skiff::write_file_atomic(args.exit_file, record.dump());
  } catch (...) {
  }
  if (!args.cleanup.empty()) {
    std::vector<char*> cleanup_argv;
    for (auto& a : args.cleanup) cleanup_argv.push_back(a.data());
    cleanup_argv.push_back(nullptr);
    ::execv(cleanup_argv[0], cleanup_argv.data());
  }
  return 0;
}
