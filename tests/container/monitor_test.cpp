// The monitor adopts a running child, logs its output, records its exit
// status and runs the cleanup command — exercised with the real binary.
#include "container/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "container/log.h"
#include "core/fs.h"
#include "support/skiff_cli.h"

namespace skiff::container {

namespace {

// Forks a process that starts `script` under sh as its child with output
// pipes on fds 3/4, then execs the monitor (as skiff does for run -d).
pid_t start_monitored(const std::string& script, const fs::path& dir, std::vector<std::string> cleanup = {}) {
  int out[2], err[2];
  EXPECT_EQ(::pipe(out), 0);
  EXPECT_EQ(::pipe(err), 0);
  pid_t monitor = ::fork();
  if (monitor == 0) {
    pid_t child = ::fork();
    if (child == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
      ::_exit(127);
    }
    ::dup2(out[0], 3);
    ::dup2(err[0], 4);
    ::close(out[1]);
    ::close(err[1]);
    MonitorArgs args;
    args.monitor_binary = test::skiff_binary().parent_path() / "skiff-monitor";
    args.pid = child;
    args.log_file = dir / "container.log";
    args.log_max_size = 1 << 20;
    args.exit_file = dir / "exit.json";
    args.cleanup_command = cleanup;
    auto argv = monitor_argv(args);
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    ::_exit(127);
  }
  ::close(out[0]);
  ::close(out[1]);
  ::close(err[0]);
  ::close(err[1]);
  return monitor;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST(Monitor, LogsOutputAndRecordsExit) {
  TempDir dir;
  pid_t monitor = start_monitored("echo out1; echo err1 >&2; echo out2; exit 7", dir.path());
  int status = wait_for(monitor);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto exit = read_exit_file(dir.path() / "exit.json");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 7);
  EXPECT_FALSE(exit->finished_at.empty());
  std::vector<LogEntry> entries;
  read_logs(dir.path() / "container.log", {}, [&](const LogEntry& e) { entries.push_back(e); });
  std::string out, err;
  for (const auto& e : entries) (e.stream == "stdout" ? out : err) += e.text;
  EXPECT_EQ(out, "out1\nout2\n");
  EXPECT_EQ(err, "err1\n");
}

TEST(Monitor, ReportsSignalsAsShellExitCodes) {
  TempDir dir;
  pid_t monitor = start_monitored("kill -KILL $$", dir.path());
  wait_for(monitor);
  auto exit = read_exit_file(dir.path() / "exit.json");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 137);
}

TEST(Monitor, RunsTheCleanupCommandAfterRecording) {
  TempDir dir;
  auto marker = dir.path() / "cleaned";
  pid_t monitor = start_monitored("echo done", dir.path(),
                                  {"/bin/sh", "-c", "test -f " + (dir.path() / "exit.json").string() + " && touch " + marker.string()});
  wait_for(monitor);
  EXPECT_TRUE(fs::exists(marker));
}

TEST(Monitor, DoesNotWaitForDescendantsHoldingThePipe) {
  TempDir dir;
  // The init exits; a background grandchild keeps stdout open for a long time.
  auto pid_file = dir.path() / "grandchild";
  pid_t monitor = start_monitored("sleep 300 & echo $! > " + pid_file.string() + "; exit 0", dir.path());
  wait_for(monitor);
  ::kill(std::stoi(read_file(pid_file)), SIGKILL);
  auto exit = read_exit_file(dir.path() / "exit.json");
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);
}

}  // namespace skiff::container
