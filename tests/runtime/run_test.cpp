// `skiff run` under process isolation, through the real binary as a user
// runs it (issue 4): one busybox image in a store shared by the suite, real
// namespaces, mounts and cgroups. No timing assertions: waits only bound hangs.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/fd.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "support/skiff_cli.h"
#include "support/test_images.h"

namespace skiff::test {
namespace {

const char* kImage = "busybox:test";

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Reads `fd` until `needle` shows (or 60 s without output, or EOF).
std::string read_until(int fd, const std::string& needle) {
  std::string out;
  char buffer[4096];
  while (out.find(needle) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

class RunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root() || !have_busybox()) return;
    cli_ = new SkiffCli();
    add_busybox_image(cli_->root(), {});
  }
  static void TearDownTestSuite() {
    if (cli_) {
      // Leave nothing running behind a failed test.
      auto ids = cli_->run({"ps", "-a", "-q"});
      std::istringstream lines(ids.out);
      for (std::string id; std::getline(lines, id);)
        if (!id.empty()) cli_->run({"rm", "-f", id});
    }
    delete cli_;
    cli_ = nullptr;
  }
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "process isolation needs root (namespaces, mounts, cgroups)";
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    ASSERT_NE(cli_, nullptr);
  }
  const SkiffCli& cli() const { return *cli_; }

  // `skiff run --rm IMAGE sh -c SCRIPT` (extra flags before the image).
  CommandResult sh(const std::string& script, std::vector<std::string> flags = {}) const {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {kImage, "sh", "-c", script});
    return cli().run(args);
  }
  std::string sh_ok(const std::string& script, std::vector<std::string> flags = {}) const {
    auto r = sh(script, std::move(flags));
    EXPECT_EQ(r.exit_code, 0) << script << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r.out;
  }
  Json inspect(const std::string& name) const {
    Json j = Json::parse(cli().ok({"inspect", name}));
    return j.is_array() ? j.at(0) : j;
  }

  // skiff ARGS… as a child with stdout/stderr on a pipe; returns the read end.
  UniqueFd start(std::vector<std::string> args, pid_t& pid) const {
    std::vector<std::string> argv = {skiff_binary().string(), "--root", cli().root().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto cargv = c_argv(argv);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return UniqueFd();
    pid = ::fork();
    if (pid == 0) {
      ::dup2(pipe_fds[1], 1);
      ::dup2(pipe_fds[1], 2);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    return UniqueFd(pipe_fds[0]);
  }

  static inline SkiffCli* cli_ = nullptr;
};

int wait_status(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return exit_code_from_status(status);
}

// --- 1. isolation -----------------------------------------------------------

TEST_F(RunTest, ProcessIsPidOneInItsOwnPidNamespace) {
  EXPECT_EQ(trim(sh_ok("echo $$")), "1");
  // Only the container's own processes are visible: sh (1) and ps.
  std::string ps = sh_ok("ls /proc | grep -c '^[0-9]'");
  EXPECT_LE(std::stoi(trim(ps)), 3) << ps;
}

TEST_F(RunTest, HostProcessesAreInvisible) {
  std::string me = std::to_string(::getpid());
  auto r = sh("test -e /proc/" + me + " && echo visible || echo hidden");
  // Our pid could collide with a container pid only if it were tiny.
  if (::getpid() > 10) {
    EXPECT_EQ(trim(r.out), "hidden") << r.err;
  }
}

TEST_F(RunTest, HostnameIsItsOwn) {
  EXPECT_EQ(trim(sh_ok("hostname", {"--hostname", "skiffbox"})), "skiffbox");
  EXPECT_EQ(trim(sh_ok("cat /etc/hostname", {"--hostname", "skiffbox"})), "skiffbox");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_NE(trim(sh_ok("hostname")), host);
}

TEST_F(RunTest, HostMountsAreInvisible) {
  std::string mounts = sh_ok("cat /proc/self/mountinfo");
  // The host's store and test dirs must not leak in.
  EXPECT_EQ(mounts.find(cli().root().string() + " "), std::string::npos) << mounts;
  EXPECT_EQ(mounts.find(" /var/tmp "), std::string::npos) << mounts;
  EXPECT_EQ(mounts.find(" /work"), std::string::npos) << mounts;
  // And the container cannot see the host's files.
  auto r = sh("test -e /work/HELPERS.md || test -e " + cli().root().string());
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(RunTest, ProcSysIsReadOnly) {
  auto r = sh("echo 1 > /proc/sys/kernel/ns_last_pid");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(sh_ok("grep ' /proc/sys ' /proc/self/mountinfo").find(" ro"), std::string::npos);
}

TEST_F(RunTest, MknodAndUnshareAreDenied) {
  auto m = sh("mknod /tmp/sda b 8 0");
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE((m.out + m.err).find("not permitted"), std::string::npos) << m.out << m.err;
  auto u = sh("unshare -m true");
  EXPECT_NE(u.exit_code, 0);
  EXPECT_NE((u.out + u.err).find("not permitted"), std::string::npos) << u.out << u.err;
}

// CapEff of the container's process, from /proc/self/status.
uint64_t cap_field(const std::string& status, const std::string& field) {
  auto at = status.find(field + ":");
  if (at == std::string::npos) return ~0ULL;
  return std::stoull(status.substr(at + field.size() + 1), nullptr, 16);
}

TEST_F(RunTest, SecurityDefaultsAreOn) {
  std::string status = sh_ok("cat /proc/self/status");
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  EXPECT_NE(status.find("Seccomp:\t2"), std::string::npos) << status;
  uint64_t eff = cap_field(status, "CapEff");
  uint64_t bnd = cap_field(status, "CapBnd");
  std::string host = slurp("/proc/self/status");
  EXPECT_NE(eff, cap_field(host, "CapEff"));
  // CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16), CAP_NET_ADMIN (12), CAP_MKNOD (27,
  // dropped in podman's set) are gone; CAP_CHOWN (0) and CAP_KILL (5) stay.
  for (int cap : {21, 16, 12, 27}) {
    EXPECT_EQ(eff & (1ULL << cap), 0u) << "cap " << cap;
    EXPECT_EQ(bnd & (1ULL << cap), 0u) << "cap " << cap;
  }
  EXPECT_NE(eff & 1ULL, 0u);
  EXPECT_NE(eff & (1ULL << 5), 0u);
}

TEST_F(RunTest, CapDropAllLeavesNoCapabilities) {
  std::string status = sh_ok("cat /proc/self/status", {"--cap-drop", "ALL"});
  EXPECT_EQ(cap_field(status, "CapEff"), 0u) << status;
}

// --- 2. exit codes and signals ------------------------------------------------

TEST_F(RunTest, ExitCodePassesThrough) {
  EXPECT_EQ(sh("exit 3").exit_code, 3);
  EXPECT_EQ(sh("exit 0").exit_code, 0);
}

TEST_F(RunTest, DeathBySignalIs128PlusN) {
  // The kernel shields a pid namespace's init from its own signals: kill it
  // from the host side, through skiff, while `run` waits in the foreground.
  std::string name = "sig-" + std::to_string(::getpid());
  pid_t pid = -1;
  UniqueFd out = start({"run", "--rm", "--name", name, kImage, "sh", "-c", "echo ready; sleep 300"}, pid);
  ASSERT_GT(pid, 0);
  std::string seen = read_until(out.get(), "ready");
  ASSERT_NE(seen.find("ready"), std::string::npos) << seen;
  cli().ok({"kill", "-s", "KILL", name});
  EXPECT_EQ(wait_status(pid), 128 + SIGKILL);
  // A child killed by a signal: the shell passes 128+N on as its exit code.
  EXPECT_EQ(sh("sh -c 'kill -SEGV $$'; exit $?").exit_code, 128 + SIGSEGV);
}

TEST_F(RunTest, SigtermIsForwardedInTheForeground) {
  pid_t pid = -1;
  UniqueFd out = start({"run", "--rm", kImage, "sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.1; done"}, pid);
  ASSERT_GT(pid, 0);
  std::string seen = read_until(out.get(), "ready");
  ASSERT_NE(seen.find("ready"), std::string::npos) << seen;
  ::kill(pid, SIGTERM);
  seen += read_until(out.get(), "got-term");
  EXPECT_NE(seen.find("got-term"), std::string::npos) << seen;
  EXPECT_EQ(wait_status(pid), 7);
}

// Container cgroups (/sys/fs/cgroup/<hierarchy>/skiff/<id>) that hold no
// process: a live container (of another store on this machine) always has one.
std::set<std::string> empty_container_cgroups() {
  std::set<std::string> out;
  std::error_code ec;
  for (auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
    auto parent = hierarchy.path() / "skiff";
    if (!std::filesystem::is_directory(parent, ec)) continue;
    for (auto& dir : std::filesystem::directory_iterator(parent, ec))
      if (dir.is_directory(ec) && trim(slurp(dir.path() / "cgroup.procs")).empty()) out.insert(dir.path().string());
  }
  return out;
}

// Empty container cgroups that were not there `before` and stay: another
// test's container is empty only between its cgroup's creation and its first
// process (or its removal), so a bounded wait tells it from a leak.
std::set<std::string> leaked_cgroups(const std::set<std::string>& before) {
  std::set<std::string> left;
  for (int i = 0; i < 100; ++i) {
    left.clear();
    for (auto& p : empty_container_cgroups())
      if (!before.count(p)) left.insert(p);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return left;
}

// --- 3. limits -------------------------------------------------------------
// On each cgroup layout skiff can meet here: the host's hybrid one (v1
// hierarchies plus the v2 `unified` mount, which crun 1.8 refuses) and v1
// only (the unified mount hidden in a private mount namespace). A pure v2
// layout cannot be made on this host: memory and pids stay bound to v1.

enum class Layout { host, v1_only };

class LimitsTest : public RunTest, public ::testing::WithParamInterface<Layout> {
 protected:
  void SetUp() override {
    RunTest::SetUp();
    if (IsSkipped()) return;
    if (GetParam() == Layout::v1_only) {
      if (!find_program("unshare")) GTEST_SKIP() << "unshare (util-linux) missing";
      bool unified = slurp("/proc/self/mountinfo").find(" /sys/fs/cgroup/unified ") != std::string::npos;
      if (!unified) GTEST_SKIP() << "no /sys/fs/cgroup/unified mount to hide: this host is not hybrid";
    }
  }
  // skiff ARGS…, in a mount namespace without the unified mount for v1_only.
  CommandResult skiff(const std::vector<std::string>& args) const {
    if (GetParam() == Layout::host) return cli().run(args);
    std::vector<std::string> argv = {"unshare", "-m", "--propagation", "private", "sh", "-c",
                                     "umount /sys/fs/cgroup/unified && exec \"$@\"", "sh",
                                     skiff_binary().string(), "--root", cli().root().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

TEST_P(LimitsTest, SkiffSeesTheLayout) {
  auto r = skiff({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(GetParam() == Layout::host ? "hybrid" : "Cgroup layout:     v1"), std::string::npos) << r.out;
}

TEST_P(LimitsTest, MemoryHogIsOomKilled) {
  std::string name = "oom-" + std::to_string(::getpid()) + (GetParam() == Layout::host ? "-host" : "-v1");
  // A line of /dev/zero never ends: tail holds all of it in memory.
  auto r = skiff({"run", "--name", name, "--memory", "32m", kImage, "sh", "-c", "tail /dev/zero"});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  Json state = inspect(name);
  Json s = state.contains("State") ? state["State"] : state;
  EXPECT_TRUE(s.value("OOMKilled", false)) << state.dump(2);
  cli().run({"rm", "-f", name});
}

TEST_P(LimitsTest, PidsLimitStopsAForkLoop) {
  // A child shell tries to start 50 sleepers under a limit of 10 and dies
  // when fork fails; the sleepers it did start stay, and the outer shell
  // counts them with builtins only (no fork is left for anything else).
  auto r = skiff({"run", "--rm", "--pids-limit", "10", kImage, "sh", "-c",
                  "sh -c 'i=0; while [ $i -lt 50 ]; do sleep 30 & i=$((i+1)); done'; echo loop=$?; "
                  "set -- /proc/[0-9]*; echo count=$#"});
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("loop=0"), std::string::npos) << r.out;
  auto at = r.out.find("count=");
  ASSERT_NE(at, std::string::npos) << r.out << r.err;
  int n = std::stoi(r.out.substr(at + 6));
  EXPECT_LE(n, 10) << r.out;
  EXPECT_GT(n, 2) << r.out;  // the outer shell and some sleepers did start
}

TEST_P(LimitsTest, NoCgroupIsLeftBehind) {
  auto before = empty_container_cgroups();
  auto r = skiff({"run", "--rm", "--memory", "64m", "--pids-limit", "20", "--cpus", "0.5", kImage, "true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto left = leaked_cgroups(before);
  EXPECT_TRUE(left.empty()) << *left.begin();
}

INSTANTIATE_TEST_SUITE_P(Cgroups, LimitsTest, ::testing::Values(Layout::host, Layout::v1_only),
                         [](const auto& info) { return info.param == Layout::host ? "HostLayout" : "V1Only"; });

// --- 4. -t through a pty the test opens --------------------------------------

TEST_F(RunTest, TtyGetsATerminalOfTheCallersSize) {
  std::vector<std::string> argv = {skiff_binary().string(), "--root", cli().root().string(), "run", "--rm", "-it", kImage,
                                   "sh", "-c", "tty; stty size; while read line; do stty size; done; echo bye"};
  auto cargv = c_argv(argv);
  int master = -1;
  winsize size{30, 100, 0, 0};
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  UniqueFd terminal(master);
  std::string seen = read_until(master, "30 100");
  EXPECT_NE(seen.find("/dev/pts/"), std::string::npos) << seen;
  EXPECT_NE(seen.find("30 100"), std::string::npos) << seen;
  winsize bigger{40, 120, 0, 0};
  ::ioctl(master, TIOCSWINSZ, &bigger);
  // skiff gets SIGWINCH and resizes the container's pty; each line makes
  // the shell print its size again until the change shows (bounded).
  std::string after;
  for (int i = 0; i < 50 && after.find("40 120") == std::string::npos; ++i) {
    EXPECT_EQ(::write(master, "\r", 1), 1);
    pollfd p{master, POLLIN, 0};
    while (after.find("40 120") == std::string::npos && ::poll(&p, 1, 2000) > 0) {
      char buffer[256];
      ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) break;
      after.append(buffer, static_cast<size_t>(n));
    }
  }
  EXPECT_NE(after.find("40 120"), std::string::npos) << after;
  EXPECT_EQ(::write(master, "\x04", 1), 1);  // end of input: the loop ends
  EXPECT_NE(read_until(master, "bye").find("bye"), std::string::npos);
  EXPECT_EQ(wait_status(pid), 0);
}

// --- 5. detached life cycle -------------------------------------------------

TEST_F(RunTest, DetachedLifeCycle) {
  std::string name = "life-" + std::to_string(::getpid());
  std::string id = trim(cli().ok({"run", "-d", "--name", name, kImage, "sh", "-c",
                                  "trap 'echo term-seen; exit 0' TERM; for i in 1 2 3; do echo line$i; done; while :; do sleep 0.1; done"}));
  ASSERT_GE(id.size(), 12u) << id;
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  // Names are unique.
  auto dup = cli().run({"run", "-d", "--name", name, kImage, "true"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.err.find(name), std::string::npos) << dup.err;

  EXPECT_NE(cli().ok({"ps"}).find(name), std::string::npos);
  Json ps = Json::parse(cli().ok({"ps", "--format", "json"}));
  std::string ps_dump = ps.dump();
  EXPECT_NE(ps_dump.find(id.substr(0, 12)), std::string::npos) << ps_dump;

  // logs: poll until the three lines are written (bounded, not timed).
  std::string logs;
  for (int i = 0; i < 200 && logs.find("line3") == std::string::npos; ++i) {
    logs = cli().ok({"logs", name});
    if (logs.find("line3") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(logs.find("line1\nline2\nline3"), std::string::npos) << logs;
  EXPECT_EQ(trim(cli().ok({"logs", "--tail", "1", name})), "line3");

  // exec joins its namespaces, by unique ID prefix.
  EXPECT_EQ(trim(cli().ok({"exec", id.substr(0, 8), "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"})).find("sh -c"), 0u);
  EXPECT_EQ(trim(cli().ok({"exec", name, "hostname"})), trim(cli().ok({"exec", name, "cat", "/etc/hostname"})));

  // stop: TERM, which the trap answers.
  cli().ok({"stop", "-t", "20", name});
  EXPECT_EQ(cli().ok({"ps", "-q"}).find(id.substr(0, 12)), std::string::npos);
  EXPECT_NE(cli().ok({"ps", "-a"}).find(name), std::string::npos);
  EXPECT_NE(cli().ok({"logs", name}).find("term-seen"), std::string::npos);
  EXPECT_EQ(trim(cli().ok({"wait", name})), "0");
  cli().ok({"rm", name});
  EXPECT_EQ(cli().ok({"ps", "-a"}).find(name), std::string::npos);
  EXPECT_NE(cli().run({"inspect", name}).exit_code, 0);
}

TEST_F(RunTest, StopKillsWhatIgnoresTerm) {
  std::string id = trim(cli().ok({"run", "-d", kImage, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"}));
  cli().ok({"stop", "-t", "1", id});
  EXPECT_EQ(trim(cli().ok({"wait", id})), "137");
  cli().ok({"rm", id});
}

TEST_F(RunTest, KillSendsTheSignalAndRmForceRemovesARunningOne) {
  std::string id = trim(cli().ok({"run", "-d", kImage, "sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.1; done"}));
  // rm without -f refuses a running container.
  EXPECT_NE(cli().run({"rm", id}).exit_code, 0);
  // The trap must be installed before the signal: wait for the shell's loop.
  for (int i = 0; i < 200; ++i) {
    auto r = cli().run({"exec", id, "sh", "-c", "ls /proc | grep -c '^[0-9]'"});
    if (r.exit_code == 0 && std::stoi("0" + trim(r.out)) >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  cli().ok({"kill", "-s", "USR1", id});
  EXPECT_EQ(trim(cli().ok({"wait", id})), "42");
  cli().ok({"rm", id});

  std::string running = trim(cli().ok({"run", "-d", kImage, "sleep", "300"}));
  cli().ok({"rm", "-f", running});
  EXPECT_EQ(cli().ok({"ps", "-a", "-q"}).find(running.substr(0, 12)), std::string::npos);
}

// --- 6. leaks ---------------------------------------------------------------

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Processes whose command line mentions this store (monitors, containers).
size_t processes_of_store(const std::string& root) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(e.path() / "cmdline");
    if (cmdline.find(root) != std::string::npos) ++n;
  }
  return n;
}

TEST_F(RunTest, TwoHundredRunRmCyclesLeaveNothingBehind) {
  std::string root = cli().root().string();
  size_t mounts_before = count_lines_with(slurp("/proc/self/mountinfo"), root);
  auto cgroups_before = empty_container_cgroups();
  size_t fds_before = open_fds();
  for (int i = 0; i < 200; ++i) {
    auto r = cli().run({"run", "--rm", kImage, "true"});
    ASSERT_EQ(r.exit_code, 0) << "cycle " << i << ": " << r.err;
  }
  EXPECT_EQ(count_lines_with(slurp("/proc/self/mountinfo"), root), mounts_before);
  auto left = leaked_cgroups(cgroups_before);
  EXPECT_TRUE(left.empty()) << left.size() << " left, e.g. " << *left.begin();
  EXPECT_EQ(open_fds(), fds_before);
  EXPECT_EQ(processes_of_store(root), 0u);
  EXPECT_EQ(trim(cli().ok({"ps", "-a", "-q"})), "");
}

// --- 7. CVE cases -----------------------------------------------------------

// CVE-2024-21626: a descriptor the caller leaks must not reach the container.
TEST_F(RunTest, InheritedDescriptorsAreClosed) {
  int leaked = ::open("/", O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leaked, 0);
  UniqueFd keep(leaked);
  std::vector<std::string> argv = {skiff_binary().string(), "--root", cli().root().string(), "run", "--rm", kImage,
                                   "ls", "/proc/self/fd"};
  auto cargv = c_argv(argv);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  UniqueFd out(pipe_fds[0]);
  std::string listing = read_until(out.get(), "\x01never");
  EXPECT_EQ(wait_status(pid), 0);
  // ls itself opens one directory fd (3) to list; nothing beyond it.
  std::set<std::string> fds;
  std::istringstream words(listing);
  for (std::string w; words >> w;) fds.insert(w);
  for (auto& fd : fds) EXPECT_LE(std::stoi(fd), 3) << listing;
  EXPECT_EQ(fds.count(std::to_string(leaked > 3 ? leaked : 99)), 0u) << listing;
}

TEST_F(RunTest, WorkdirThroughProcSelfFdIsRefused) {
  for (std::string dir : {"/proc/self/fd/7", "/proc/self/fd/3", "/proc/self/cwd/../../proc/self/fd/4"}) {
    auto r = cli().run({"run", "--rm", "-w", dir, kImage, "sh", "-c", "pwd; ls .."});
    EXPECT_NE(r.exit_code, 0) << dir << ": " << r.out;
    EXPECT_EQ(r.out.find("/var/tmp"), std::string::npos) << r.out;
  }
}

// CVE-2019-5736: the container cannot rewrite the skiff binary via /proc.
TEST_F(RunTest, SkiffBinaryCannotBeOverwrittenFromInside) {
  std::string before = slurp(skiff_binary());
  ASSERT_FALSE(before.empty());
  // Every process the container can see: none of their exe may be written.
  auto r = sh("for p in /proc/[0-9]*; do echo x > $p/exe && echo WROTE $p; done; "
              "echo x > /proc/self/exe && echo WROTE self; exit 0");
  EXPECT_EQ(r.out.find("WROTE"), std::string::npos) << r.out;
  // Exec'ing a process that joins: the exec helper must not expose skiff either.
  std::string id = trim(cli().ok({"run", "-d", kImage, "sleep", "300"}));
  auto e = cli().run({"exec", id, "sh", "-c", "for p in /proc/[0-9]*; do echo x > $p/exe && echo WROTE $p; done; exit 0"});
  EXPECT_EQ(e.out.find("WROTE"), std::string::npos) << e.out;
  cli().ok({"rm", "-f", id});
  EXPECT_EQ(slurp(skiff_binary()), before);
}

}  // namespace
}  // namespace skiff::test
