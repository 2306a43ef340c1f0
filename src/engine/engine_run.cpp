// Starting containers: in the foreground (this process waits, relays and
// records the exit) or detached (a forked process creates the container
// and becomes its skiff-monitor).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/engine_parts.h"
#include "container/monitor.h"
#include "core/error.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/log.h"

namespace skiff::engine {

using namespace container;  // the records, specs and logs the engine drives

namespace {

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

UniqueFd open_devnull() {
  UniqueFd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fd) fail_errno("open /dev/null");
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Copies the container's stdout/stderr to ours and into the log until both
// pipes close or `stop` is set and nothing more is buffered.
void relay_output(int out, int err, LogWriter& log, const std::atomic<bool>& stop) {
  int fds[2] = {out, err};
  const char* names[2] = {"stdout", "stderr"};
  char buffer[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2];
    int n = 0, owner[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) p[n] = {fds[i], POLLIN, 0}, owner[n++] = i;
    int ready = ::poll(p, static_cast<nfds_t>(n), stop ? 0 : 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (stop) return;
      continue;
    }
    for (int i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      int s = owner[i];
      ssize_t got = ::read(fds[s], buffer, sizeof buffer);
      if (got > 0) {
        write_all(s == 0 ? STDOUT_FILENO : STDERR_FILENO, std::string_view(buffer, static_cast<size_t>(got)));
        log.write(names[s], std::string_view(buffer, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[s] = -1;
      }
    }
  }
}

}  // namespace

int Engine::run(const RunOptions& options, std::string& id, Progress* pull_progress) {
  parts_->boot_vm_during_create = !options.detach;  // VM isolation: boots while create runs
  Record record = create(options, pull_progress);
  parts_->boot_vm_during_create = false;
  id = record.id;
  if (record.isolation == "vm") return options.detach ? (start_vm_detached(record), 0) : run_vm_foreground(record);
  if (options.detach) {
    start_detached(record);
    return 0;
  }
  return run_foreground(record);
}

void Engine::start(const std::string& key) {
  Record record = get(key);
  if (record.state == State::running) return;  // docker start of a running container is a no-op
  mount_rootfs(record);
  ::unlink((container_dir(record.id) / "exit.json").c_str());
  if (record.isolation == "vm") start_vm_detached(record);
  else start_detached(record);
}

int Engine::run_foreground(Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  bool tty = record.config.value("Tty", false);
  bool interactive = record.config.value("OpenStdin", false);
  std::optional<FileLock> owner(std::in_place, paths.lock());
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  store_.update(record);

  runtime::RunOptions run;
  run.id = record.id;
  run.bundle = paths.bundle();
  run.init_reaper = record.config.value("Init", false);
  UniqueFd devnull = open_devnull();
  if (!interactive) run.stdio.in = devnull.get();

  // --rm output goes straight to our stdout/stderr: nobody can read a log
  // after the container is gone. Otherwise it is also logged, as docker does.
  std::optional<Pipe> out, err;
  std::optional<LogWriter> log;
  std::thread relay;
  std::atomic<bool> stop_relay{false};
  if (!record.auto_remove && !tty) {
    out.emplace();
    err.emplace();
    run.stdio.out = out->write.get();
    run.stdio.err = err->write.get();
    log.emplace(paths.log(), record.config.value("LogMaxSize", default_log_max_size));
  }

  runtime::ExitStatus status;
  std::optional<int> failed_exec;
  try {
    if (log) {
      relay = std::thread([&] { relay_output(out->read.get(), err->read.get(), *log, stop_relay); });
    }
    // The pid is recorded by the runtime's state; ps reconciles through it.
    status = parts_->runtime.run(run);
  } catch (const runtime::ExecError& e) {
    fmt::print(stderr, "skiff: {}\n", e.what());
    failed_exec = e.exit_code();
  } catch (...) {
    if (relay.joinable()) {
      out->write.reset();
      err->write.reset();
      stop_relay = true;
      relay.join();
    }
    owner.reset();
    cleanup(record.id, 125);
    throw;
  }
  if (relay.joinable()) {
    out->write.reset();
    err->write.reset();
    stop_relay = true;  // the init is gone: drain, but do not wait for its orphans
    relay.join();
    log->flush();
  }
  int code = failed_exec ? *failed_exec : status.exit_code;
  owner.reset();
  if (status.oom_killed) {
    record = store_.get(record.id);
    record.oom_killed = true;
    store_.update(record);
  }
  cleanup(record.id, code);
  return code;
}

void Engine::start_detached(Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  bool tty = record.config.value("Tty", false);
  auto monitor = monitor_binary_path();
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  record.pid = 0;
  record.exit_code.reset();
  record.finished_at.reset();
  store_.update(record);

  // Held by the monitor (inherited as fd 5) for as long as it lives.
  std::optional<FileLock> owner(std::in_place, paths.lock());
  Pipe out, err, sync;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  MonitorArgs args;
  args.monitor_binary = monitor;
  args.log_file = paths.log();
  args.log_max_size = record.config.value("LogMaxSize", default_log_max_size);
  args.exit_file = paths.exit_file();
  args.tty = tty;
  args.cleanup_command = {self.string(), "--root", root_.path().string(), "container", "cleanup", record.id};

  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // The future monitor: its own session, the container's parent.
    ::setsid();
    sync.read.reset();
    std::string message;
    try {
      runtime::CreateOptions create;
      create.id = record.id;
      create.bundle = paths.bundle();
      create.init_reaper = record.config.value("Init", false);
      UniqueFd devnull = open_devnull();
      create.stdio = {devnull.get(), out.write.get(), err.write.get()};
      runtime::Process process = parts_->runtime.create(create);
      parts_->runtime.start(record.id);
      args.pid = process.pid;
      // The monitor reads fd 3 (stdout or the pty master) and fd 4 (stderr).
      // Move the three descriptors above 10 first, so that placing them on
      // 3, 4 and 5 cannot overwrite one another.
      auto high = [](int fd) { return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 10); };
      int stdout_fd = high(tty ? process.pty_master.get() : out.read.get());
      int stderr_fd = tty ? -1 : high(err.read.get());
      int lock_fd = high(owner->fd());
      if (stdout_fd < 0 || lock_fd < 0 || ::dup2(stdout_fd, 3) < 0 || ::dup2(lock_fd, 5) < 0) _exit(1);
      if (stderr_fd >= 0 ? ::dup2(stderr_fd, 4) < 0 : ::close(4) != 0 && errno != EBADF) _exit(1);
      message = fmt::format("P{}", process.pid);
      write_all(sync.write.get(), message);
      auto argv_strings = monitor_argv(args);
      std::vector<char*> argv;
      for (auto& a : argv_strings) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      message = fmt::format("Eexec {}: {}", argv[0], std::strerror(errno));
    } catch (const std::exception& e) {
      message = std::string("E") + e.what();
    }
    write_all(sync.write.get(), message);
    ::_exit(1);
  }
  sync.write.reset();
  out.write.reset();
  err.write.reset();
  std::string reply;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(sync.read.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  if (!reply.starts_with("P") || reply.find('E') != std::string::npos) {
    ::waitpid(pid, nullptr, 0);
    owner.reset();
    auto error_at = reply.find('E');
    std::string why = error_at == std::string::npos ? "the container process did not start" : reply.substr(error_at + 1);
    cleanup(record.id, 125);
    fail(ErrorKind::internal, "start {}: {}", record.short_id(), why);
  }
  // Only if the container is still running: a fast container may already
  // have been cleaned up by its monitor.
  store_.set_pid_if_running(record.id, std::stoll(reply.substr(1)));
}

}  // namespace skiff::engine
