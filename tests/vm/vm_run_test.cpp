// `skiff run --isolation=vm` through the CLI, as a user runs it: a busybox
// image in a store shared by the whole suite (so the guest kernel, the
// initramfs and the image's erofs are built once), real VMs (TCG here:
// seconds per boot; the tests share boots where they can).
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/host.h"
#include "core/json.h"
#include "core/strings.h"
#include "support/skiff_cli.h"
#include "support/test_images.h"
#include "vm/vm_fixture.h"

namespace skiff::test {
namespace {

const char* kImage = "vmtest:latest";

class VmRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root() || !find_program("qemu-system-x86_64") || !find_program("mkfs.erofs") || !have_busybox())
      return;
    std::string why;
    kernel_ = test_kernel(why);
    if (!kernel_) return;
    cli_ = new SkiffCli();
    // The suite's store gets the cached guest kernel as if `skiff vm kernel
    // fetch` had put it there.
    ensure_dir(cli_->root() / "vm/kernels");
    std::filesystem::create_directory_symlink(kernel_->image.parent_path(),
                                              cli_->root() / "vm/kernels" / kernel_->release);
    TestImage image;
    image.name = kImage;
    image.config = {{"User", "containeruser"},
                    {"Env", {"PATH=/bin", "GREETING=hello"}},
                    {"WorkingDir", "/home/containeruser"},
                    {"Cmd", {"sh"}}};
    image.files = {{"/etc/motd", "from the image\n"}};
    add_busybox_image(cli_->root(), image);
    TestImage newer;
    newer.name = "needs-new-kernel:latest";
    newer.os_version = "99.0";
    add_busybox_image(cli_->root(), newer);
  }
  static void TearDownTestSuite() {
    delete cli_;
    cli_ = nullptr;
  }

  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "VM tests need root (qemu, mounts)";
    if (!find_program("qemu-system-x86_64")) GTEST_SKIP() << "qemu-system-x86_64 missing: apt-get install qemu-system-x86";
    if (!find_program("mkfs.erofs")) GTEST_SKIP() << "mkfs.erofs missing: apt-get install erofs-utils";
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    std::string why;
    if (!test_kernel(why)) GTEST_SKIP() << "no guest kernel: " << why;
    ASSERT_NE(cli_, nullptr);
  }

  const SkiffCli& cli() const { return *cli_; }

  // Every container of the store, any state.
  std::string all_containers() const { return cli().ok({"ps", "-a", "-q"}); }

  Json inspect(const std::string& name) const {
    auto out = cli().ok({"inspect", "--type", "container", name});
    Json j = parse_json(out, "inspect");
    return j.is_array() ? j.at(0) : j;
  }

  // Polls `skiff logs` until `needle` shows up (a boot takes seconds here).
  std::string logs_until(const std::string& name, const std::string& needle) const {
    std::string logs;
    for (int i = 0; i < 600 && logs.find(needle) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      logs = cli().run({"logs", name}).out;
    }
    return logs;
  }

  static SkiffCli* cli_;
  static const vm::GuestKernel* kernel_;
};

SkiffCli* VmRunTest::cli_ = nullptr;
const vm::GuestKernel* VmRunTest::kernel_ = nullptr;

bool process_exists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

// Processes whose command line mentions `text` (the container's ID).
std::vector<std::string> processes_mentioning(const std::string& text) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmdline = read_file_if_exists(entry.path() / "cmdline");
    if (!cmdline) continue;
    std::replace(cmdline->begin(), cmdline->end(), '\0', ' ');
    if (cmdline->find(text) != std::string::npos && name != std::to_string(::getpid())) found.push_back(name + ": " + *cmdline);
  }
  return found;
}

int resize_session(const SkiffCli& cli, std::vector<std::string> args);

// Non-empty lines of `text` that contain `needle`.
size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (const auto& line : split(text, '\n'))
    if (!line.empty() && line.find(needle) != std::string::npos) ++n;
  return n;
}

TEST_F(VmRunTest, ExitCodeStdioEnvAndUserReachTheContainerInItsVm) {
  CommandOptions with_input;
  with_input.input = "line from stdin\n";
  auto r = cli().run({"run", "--rm", "-i", "--isolation=vm", "-e", "EXTRA=given", kImage, "sh", "-c",
                      "id -un; id -u; pwd; echo \"$GREETING $EXTRA\"; cat; echo to-stderr >&2; uname -r; exit 3"},
                     with_input);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "containeruser\n1000\n/home/containeruser\nhello given\nline from stdin\n" + kernel_->release + "\n");
  EXPECT_EQ(count_lines_with(r.err, "to-stderr"), 1u) << r.err;
  if (kernel_->release != kernel_release()) {
    EXPECT_EQ(r.out.find(kernel_release()), std::string::npos);
  }
  // Under TCG: one line says so, and nothing else is added.
  auto info = parse_json(cli().ok({"info", "--format", "json"}), "info");
  if (info["Isolation"]["vm"]["Accelerator"] == "tcg") {
    EXPECT_EQ(count_lines_with(r.err, "runs emulated"), 1u) << r.err;
  }
  EXPECT_EQ(all_containers(), "");  // --rm
}

TEST_F(VmRunTest, WritesInsideTheVmNeverReachTheImage) {
  auto first = cli().run({"run", "--rm", "--isolation=vm", "-u", "root", kImage, "sh", "-c",
                          "echo changed > /etc/motd && rm /bin/ls && cat /etc/motd"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "changed\n");
  // The second boot: vm isolation from the environment (the config's
  // default), the kernel named with --vm-kernel.
  CommandOptions vm_default;
  vm_default.extra_env = {"SKIFF_ISOLATION=vm"};
  auto second = cli().run({"run", "--rm", "--vm-kernel", kernel_->image.string(), kImage, "sh", "-c",
                           "cat /etc/motd; test -e /bin/ls && echo ls-still-there; uname -r"},
                          vm_default);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "from the image\nls-still-there\n" + kernel_->release + "\n");
}

TEST_F(VmRunTest, DetachedVmServesLogsPsInspectExecStopAndRm) {
  auto id = std::string(trim(cli().ok({"run", "-d", "--isolation=hyperv", "--name", "vmweb", "--memory", "256m", "--cpus",
                                       "1.5", kImage, "sh", "-c",
                                       "echo started; trap 'echo got-term; exit 5' TERM; while true; do sleep 0.2; done"})));
  ASSERT_EQ(id.size(), 64u) << id;
  EXPECT_NE(logs_until("vmweb", "started").find("started"), std::string::npos);

  Json running = inspect("vmweb");
  EXPECT_EQ(running["HostConfig"]["Isolation"], "vm");
  EXPECT_EQ(running["State"]["Status"], "running");
  pid_t qemu = running["State"]["Pid"].get<pid_t>();
  ASSERT_GT(qemu, 0);
  EXPECT_NE(read_file_if_exists(fs::path("/proc") / std::to_string(qemu) / "cmdline").value_or("").find("qemu"),
            std::string::npos);
  EXPECT_NE(cli().ok({"ps"}).find("vmweb"), std::string::npos);

  auto e = cli().run({"exec", "vmweb", "sh", "-c", "echo in-the-vm; echo exec-stderr >&2; uname -r; exit 4"});
  EXPECT_EQ(e.exit_code, 4) << e.err;
  EXPECT_EQ(e.out, "in-the-vm\n" + kernel_->release + "\n");
  EXPECT_NE(e.err.find("exec-stderr"), std::string::npos);
  CommandOptions input;
  input.input = "piped in\n";
  EXPECT_EQ(cli().ok({"exec", "-i", "vmweb", "cat"}, input), "piped in\n");
  EXPECT_EQ(cli().ok({"exec", "vmweb", "id", "-un"}), "containeruser\n");
  EXPECT_EQ(cli().ok({"exec", "-u", "root", "-w", "/tmp", "vmweb", "sh", "-c", "id -un; pwd"}), "root\n/tmp\n");
  // --cpus 1.5 rounds up to whole vCPUs; --memory 256m is the VM's memory.
  EXPECT_EQ(cli().ok({"exec", "vmweb", "sh", "-c",
                      "grep -c ^processor /proc/cpuinfo; awk '/MemTotal/ { print ($2 > 131072 && $2 <= 262144) }' /proc/meminfo"}),
            "2\n1\n");
  EXPECT_EQ(cli().run({"exec", "vmweb", "sh", "-c", "kill -TERM $$"}).exit_code, 128 + SIGTERM);
  auto missing = cli().run({"exec", "vmweb", "no-such-program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
  auto tty = cli().run({"exec", "-t", "vmweb", "tty"});
  EXPECT_EQ(tty.exit_code, 0) << tty.err;
  EXPECT_TRUE(tty.out.starts_with("/dev/pts/")) << tty.out;
  // exec -it: the terminal's size and its changes reach the guest through the owner.
  int status = resize_session(cli(), {"exec", "-it", "vmweb"});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  cli().ok({"stop", "vmweb"});
  Json stopped = inspect("vmweb");
  EXPECT_EQ(stopped["State"]["Status"], "exited");
  EXPECT_EQ(stopped["State"]["ExitCode"], 5);
  EXPECT_NE(cli().ok({"logs", "vmweb"}).find("got-term"), std::string::npos);
  EXPECT_FALSE(process_exists(qemu));
  cli().ok({"rm", "vmweb"});
  EXPECT_EQ(all_containers(), "");
}

TEST_F(VmRunTest, StopKillsAHungVmAndLeavesNoProcessFileOrMountBehind) {
  auto id = std::string(trim(cli().ok({"run", "-d", "--isolation=vm", kImage, "sh", "-c",
                                       "trap '' TERM; echo ignoring-term; while true; do sleep 1; done"})));
  ASSERT_EQ(id.size(), 64u) << id;
  EXPECT_NE(logs_until(id, "ignoring-term").find("ignoring-term"), std::string::npos);
  pid_t qemu = inspect(id)["State"]["Pid"].get<pid_t>();
  ASSERT_TRUE(process_exists(qemu));
  EXPECT_FALSE(processes_mentioning(id).empty());  // its owner and monitor

  cli().ok({"stop", "-t", "1", id});
  Json stopped = inspect(id);
  EXPECT_EQ(stopped["State"]["Status"], "exited");
  EXPECT_EQ(stopped["State"]["ExitCode"], 137);
  EXPECT_FALSE(process_exists(qemu));
  // The monitor's cleanup command may still be on its way out.
  for (int i = 0; i < 100 && !processes_mentioning(id).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(processes_mentioning(id), std::vector<std::string>{});
  std::vector<std::string> leftovers;
  for (const auto& e : std::filesystem::recursive_directory_iterator(cli().root() / "tmp")) leftovers.push_back(e.path());
  for (const auto& e : std::filesystem::directory_iterator(cli().root() / "vm/images"))
    if (e.path().filename().string().starts_with(".build-")) leftovers.push_back(e.path());
  if (fs::exists(cli().root() / "containers" / id / "vm.sock")) leftovers.push_back("vm.sock");
  EXPECT_EQ(leftovers, std::vector<std::string>{});
  auto mounts = read_file("/proc/self/mountinfo");
  EXPECT_EQ(mounts.find(id), std::string::npos) << "a mount of the container is left";
  cli().ok({"rm", id});
}

// skiff ARGS… on the slave side of a new pty (its controlling terminal, as
// under a shell) of `size`; returns the master and sets `pid`.
UniqueFd start_on_pty(const SkiffCli& cli, const std::vector<std::string>& args, winsize size, pid_t& pid) {
  std::vector<std::string> argv = {skiff_binary().string(), "--root", cli.root().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  int master = -1;
  pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    ::setenv("SKIFF_CONFIG", "/nonexistent", 1);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  return UniqueFd(master);
}

// A terminal session: `skiff ARGS… sh -c <loop>` on the slave side of a pty,
// as under a shell. The guest's pty must start with the terminal's size and
// follow a resize (the kernel sends skiff SIGWINCH). Returns skiff's status.
int resize_session(const SkiffCli& cli, std::vector<std::string> args) {
  args.insert(args.end(), {"sh", "-c", "stty size; while read line; do stty size; done; echo bye"});
  pid_t pid = -1;
  UniqueFd terminal = start_on_pty(cli, args, {30, 100, 0, 0}, pid);
  if (pid < 0) return -1;
  int master = terminal.get();
  std::string seen = read_until(master, "30 100");
  EXPECT_NE(seen.find("30 100"), std::string::npos) << seen;
  winsize bigger{40, 120, 0, 0};
  ::ioctl(master, TIOCSWINSZ, &bigger);
  // Each line makes the guest print its size again, until the change shows.
  std::string after;
  for (int i = 0; i < 50 && after.find("40 120") == std::string::npos; ++i) {
    EXPECT_EQ(::write(master, "\r", 1), 1);
    pollfd p{master, POLLIN, 0};
    while (::poll(&p, 1, 2000) > 0) {
      char buffer[256];
      ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) break;
      after.append(buffer, static_cast<size_t>(n));
      if (after.find("40 120") != std::string::npos) break;
    }
  }
  EXPECT_NE(after.find("40 120"), std::string::npos) << after;
  EXPECT_EQ(::write(master, "\x04", 1), 1);  // end of input: the loop ends
  EXPECT_NE(read_until(master, "bye").find("bye"), std::string::npos);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST_F(VmRunTest, TtyHasTheTerminalsSizeAndFollowsResizes) {
  int status = resize_session(cli(), {"run", "--rm", "-it", "--isolation=vm", kImage});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// Without -t, Ctrl-C on the user's terminal is forwarded to the container
// (and does not reach qemu, which shares the terminal).
TEST_F(VmRunTest, CtrlCReachesTheContainerNotTheVm) {
  pid_t pid = -1;
  UniqueFd terminal = start_on_pty(cli(), {"run", "--rm", "--isolation=vm", kImage, "sh", "-c",
                                           "trap 'echo got-int; exit 3' INT; echo ready; while true; do sleep 0.2; done"},
                                   {24, 80, 0, 0}, pid);
  ASSERT_GE(pid, 0);
  std::string seen = read_until(terminal.get(), "ready");
  ASSERT_NE(seen.find("ready"), std::string::npos) << seen;
  EXPECT_EQ(::write(terminal.get(), "\x03", 1), 1);  // the terminal sends SIGINT to its foreground group
  seen = read_until(terminal.get(), "got-int");
  EXPECT_NE(seen.find("got-int"), std::string::npos) << seen;
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << " " << seen;
}

TEST_F(VmRunTest, PlatformPolicyNamesTheKernelThatFallsShort) {
  auto in_vm = cli().run({"run", "--rm", "--isolation=vm", "needs-new-kernel", "true"});
  EXPECT_EQ(in_vm.exit_code, 125);
  EXPECT_NE(in_vm.err.find("99.0"), std::string::npos) << in_vm.err;
  EXPECT_NE(in_vm.err.find("guest kernel is " + kernel_->version.str()), std::string::npos) << in_vm.err;
  EXPECT_NE(in_vm.err.find("--vm-kernel"), std::string::npos) << in_vm.err;
  EXPECT_EQ(count_lines_with(in_vm.err, "skiff: "), 1u) << in_vm.err;

  auto on_host = cli().run({"run", "--rm", "--isolation=process", "needs-new-kernel", "true"});
  EXPECT_EQ(on_host.exit_code, 125);
  EXPECT_NE(on_host.err.find("needs Linux 99.0"), std::string::npos) << on_host.err;
  EXPECT_NE(on_host.err.find("--isolation=vm"), std::string::npos) << on_host.err;
  EXPECT_EQ(all_containers(), "");
}

TEST_F(VmRunTest, BadInputIsOneLineAndLeavesNoContainer) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{"run", "--rm", "--isolation=container", kImage, "true"}, "--isolation container: use process, vm or hyperv"},
      {{"run", "--rm", "--isolation=vm", "--vm-kernel", "/nonexistent/vmlinuz", kImage, "true"},
       "--vm-kernel /nonexistent/vmlinuz: no such file"},
      {{"run", "--rm", "--isolation=vm", "--vm-kernel", "/etc/hostname", kImage, "true"}, "not an x86 bzImage"},
      {{"run", "--rm", "--isolation=process", "--vm-kernel", kernel_->image.string(), kImage, "true"},
       "needs --isolation=vm"},
      {{"run", "--rm", "--isolation=vm", "-v", "/tmp:/data", kImage, "true"}, "-v/--volume is not available with --isolation=vm"},
      {{"run", "--rm", "--isolation=vm", "--memory", "64m", kImage, "true"}, "a VM needs at least 128m"},
      {{"create", "--isolation=vm", "needs-new-kernel", "true"}, "give a newer kernel with --vm-kernel"},
  };
  for (const auto& c : cases) {
    auto r = cli().run(c.args);
    EXPECT_NE(r.exit_code, 0) << c.expected;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    EXPECT_EQ(count_lines_with(r.err, ""), 1u) << r.err;
  }
  EXPECT_EQ(all_containers(), "");
}

TEST_F(VmRunTest, InfoSaysWhichIsolationModesWorkAndHow) {
  auto info = parse_json(cli().ok({"info", "--format", "json"}), "info");
  auto vm = info["Isolation"]["vm"];
  EXPECT_EQ(vm["Usable"], true);
  EXPECT_TRUE(vm["Accelerator"] == "kvm" || vm["Accelerator"] == "tcg") << vm.dump();
  EXPECT_FALSE(vm["Reason"].get<std::string>().empty());
  EXPECT_EQ(vm["GuestKernel"], kernel_->release);
  EXPECT_TRUE(info["Isolation"]["process"].contains("Usable"));
  auto text = cli().ok({"info"});
  EXPECT_NE(text.find("  vm "), std::string::npos) << text;
}

TEST_F(VmRunTest, RmiAndPruneCollectTheVmRootImageOfAnImageNoLongerStored) {
  auto erofs_images = [this] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(cli().root() / "vm/images"))
      n += e.path().extension() == ".erofs" && !e.path().filename().string().starts_with(".");
    return n;
  };
  TestImage image;
  image.name = "vm-gc:latest";
  image.files = {{"/etc/only-here", "a chain of its own\n"}};
  add_busybox_image(cli().root(), image);
  EXPECT_EQ(cli().ok({"run", "--rm", "--isolation=vm", image.name, "cat", "/etc/only-here"}), "a chain of its own\n");
  size_t with_it = erofs_images();
  ASSERT_GE(with_it, 1u);
  Json row;
  for (const auto& line : split(cli().ok({"system", "df", "--format", "json"}), '\n'))
    if (!line.empty() && parse_json(line, "df")["Type"] == "VM Root Images") row = parse_json(line, "df");
  EXPECT_EQ(row["TotalCount"], std::to_string(with_it)) << row;
  EXPECT_GT(row["SizeBytes"].get<std::uint64_t>(), 0u) << row;

  cli().ok({"rmi", image.name});
  EXPECT_EQ(erofs_images(), with_it - 1) << "the image's erofs went with it; the suite's image keeps its own";
  EXPECT_EQ(cli().ok({"system", "prune", "-f"}), "Total reclaimed space: 0B\n");
  EXPECT_EQ(erofs_images(), with_it - 1);
}

}  // namespace
}  // namespace skiff::test
