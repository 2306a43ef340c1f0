// The per-container monitor (conmon's role): a tiny static program that
// outlives the CLI, owns the container's output, writes the json-file log,
// waits for the container's init, records its exit status and then runs
// the cleanup command. It holds no library state, so it stays small.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::container {

// Written atomically by the monitor when the container exits.
struct ExitRecord {
  int exit_code = 0;
  std::string finished_at;  // RFC 3339
};
std::optional<ExitRecord> read_exit_file(const std::filesystem::path& path);

// The argv that turns a process whose child is the container's init (with
// the output pipes or pty master at fds 3 and 4, -1 for none) into the
// monitor. Called right before execv() in the forked process.
struct MonitorArgs {
  std::filesystem::path monitor_binary;  // skiff-monitor beside skiff
  pid_t pid = 0;
  std::filesystem::path log_file;
  std::uint64_t log_max_size = 0;
  std::filesystem::path exit_file;
  bool tty = false;
  std::vector<std::string> cleanup_command;  // run (exec'd) after the exit is recorded
};
std::vector<std::string> monitor_argv(const MonitorArgs& args);

// Where skiff-monitor lives: next to the running skiff binary.
std::filesystem::path monitor_binary_path();

}  // namespace skiff::container
