#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "core/error.h"
#include "core/fd.h"
#include "core/pipe.h"

extern char** environ;

namespace skiff {

int exit_code_from_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

std::optional<std::filesystem::path> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

namespace {
std::string command_name(const std::vector<std::string>& argv) { return argv.empty() ? "" : argv[0]; }
}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  if (argv.empty()) fail(ErrorKind::internal, "run_command: empty argv");
  auto program = find_program(argv[0]);
  if (!program) fail(ErrorKind::not_found, "{}: command not found; install it with apt-get", argv[0]);

  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
  if (options.capture) {
    posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  }
  if (options.directory) posix_spawn_file_actions_addchdir_np(&actions, options.directory->c_str());

  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  for (const auto& extra : options.extra_env) env_storage.push_back(extra);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program->c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail_errno(rc, "run " + command_name(argv));
  ChildProcess child(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();

  CommandResult result;
  std::string_view input = options.input ? std::string_view(*options.input) : std::string_view();
  if (input.empty()) in.write.reset();
  else ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);
  while (in.write || (options.capture && (out.read || err.read))) {
    pollfd fds[3];
    int count = 0;
    if (in.write) fds[count++] = {in.write.get(), POLLOUT, 0};
    if (options.capture && out.read) fds[count++] = {out.read.get(), POLLIN, 0};
    if (options.capture && err.read) fds[count++] = {err.read.get(), POLLIN, 0};
    if (::poll(fds, static_cast<nfds_t>(count), -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    for (int i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in.write.get()) {
        ssize_t n = ::write(in.write.get(), input.data(), input.size());
        if (n > 0) input.remove_prefix(static_cast<size_t>(n));
        if (n < 0 && errno != EAGAIN && errno != EINTR) input = {};
        if (input.empty()) in.write.reset();
        continue;
      }
      UniqueFd& source = fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& sink = fds[i].fd == out.read.get() ? result.out : result.err;
      char buffer[65536];
      ssize_t n = ::read(source.get(), buffer, sizeof buffer);
      if (n > 0) sink.append(buffer, static_cast<size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) source.reset();
    }
  }
  result.exit_code = child.wait();
  return result;
}

std::string check_output(const std::vector<std::string>& argv, const CommandOptions& options) {
  auto result = run_command(argv, options);
  if (result.exit_code != 0) {
    std::string detail = result.err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    auto newline = detail.rfind('\n');
    if (newline != std::string::npos) detail = detail.substr(newline + 1);
    std::string joined;
    for (const auto& a : argv) joined += (joined.empty() ? "" : " ") + a;
    fail(ErrorKind::unavailable, "`{}` exited with {}{}{}", joined, result.exit_code, detail.empty() ? "" : ": ", detail);
  }
  return std::move(result.out);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

int ChildProcess::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      pid_ = -1;
      return -1;
    }
  }
  pid_ = -1;
  return exit_code_from_status(status);
}

std::optional<int> ChildProcess::poll() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return exit_code_from_status(status);
  }
  return std::nullopt;
}

void ChildProcess::kill(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

pid_t ChildProcess::release() { return std::exchange(pid_, -1); }

}  // namespace skiff
