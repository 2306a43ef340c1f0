// Running helper programs (apt-get, mkfs.erofs, qemu) from the engine.
// Children never inherit skiff's descriptors beyond stdio.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace skiff {

struct CommandResult {
  int exit_code = 0;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::optional<std::string> input;                // written to stdin, then closed
  std::optional<std::filesystem::path> directory;  // working directory
  std::vector<std::string> extra_env;              // K=V added to the environment
  bool capture = true;                             // false: inherit stdout/stderr
};

// Runs argv[0] (looked up in PATH) to completion.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

// Like run_command but throws an error naming the command and its stderr's
// last line when it exits non-zero.
std::string check_output(const std::vector<std::string>& argv, const CommandOptions& options = {});

// Finds `name` in PATH; nullopt if absent.
std::optional<std::filesystem::path> find_program(const std::string& name);

// A child process that is killed (SIGKILL) and reaped if still running when
// the object goes away.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Waits and returns the exit code (128+N for a signal).
  int wait();
  // Non-blocking: the exit code if it has exited.
  std::optional<int> poll();
  void kill(int signal);
  pid_t release();

 private:
  pid_t pid_ = -1;
};

// Converts a waitpid() status to a shell-style exit code.
int exit_code_from_status(int status);

}  // namespace skiff
