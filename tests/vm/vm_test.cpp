// Real VMs: qemu microvm with Debian's cloud kernel and skiff's agent (TCG
// here, so each test takes seconds).
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>

#include "core/digest.h"
#include "core/error.h"
#include "core/host.h"
#include "support/skiff_cli.h"
#include "vm/initramfs.h"
#include "vm/vm_fixture.h"

namespace skiff::test {
namespace {

struct Captured {
  int code = -1;
  std::string out, err;
};

Captured run_captured(const Root& root, const vm::VmConfig& config, const std::string& input = {}, bool with_stdin = false) {
  TestPipe in, out, err;
  vm::VmBox box(root, "test", config);
  vm::Stdio stdio{with_stdin ? in.read.get() : -1, out.write.get(), err.write.get()};
  box.start(stdio);
  in.read.reset();
  out.write.reset();
  err.write.reset();
  if (with_stdin) {
    if (!input.empty()) {
      EXPECT_EQ(::write(in.write.get(), input.data(), input.size()), static_cast<ssize_t>(input.size()));
    }
    in.write.reset();
  }
  Captured c;
  c.code = box.wait();
  // The box closed its copies of the pipes when the process exited.
  c.out = read_all(out.read.get());
  c.err = read_all(err.read.get());
  return c;
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

std::string file_digest(const std::filesystem::path& path) { return sha256_of(read_file(path)).str(); }

TEST_F(VmTest, ExitCodeStdoutAndStderrReachTheHost) {
  auto c = run_captured(*root_, config({"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"}));
  EXPECT_EQ(c.code, 7);
  EXPECT_EQ(c.out, "to-stdout\n");
  EXPECT_EQ(c.err, "to-stderr\n");
}

TEST_F(VmTest, StdinEnvUserGroupsAndCwdReachTheProcess) {
  auto cfg = config({"sh", "-c", "cat; echo \"FOO=$FOO\"; id -u; id -g; id -G; pwd; hostname"});
  cfg.process.env.push_back("FOO=bar baz");
  cfg.process.uid = 1000;
  cfg.process.gid = 1000;
  cfg.process.additional_gids = {1000, 2000};
  cfg.process.cwd = "/tmp";
  cfg.process.hostname = "guest-host";
  auto c = run_captured(*root_, cfg, "line one\nline two\n", true);
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, "line one\nline two\nFOO=bar baz\n1000\n1000\n1000 2000\n/tmp\nguest-host\n");
}

TEST_F(VmTest, UnameShowsTheGuestKernelNotTheHosts) {
  auto c = run_captured(*root_, config({"uname", "-r"}));
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out, kernel_->release + "\n");
  if (kernel_->release != kernel_release()) {
    EXPECT_NE(c.out, kernel_release() + "\n");
  }
}

TEST_F(VmTest, MissingCommandExits127WithTheReason) {
  vm::VmBox box(*root_, "test", config({"no-such-command"}));
  box.start({});
  try {
    EXPECT_EQ(box.wait(), 127);
  } catch (const Error& e) {
    FAIL() << e.what();
  }
  EXPECT_NE(box.errors().find("no-such-command"), std::string::npos) << box.errors();
}

TEST_F(VmTest, WritesInsideNeverChangeTheImage) {
  auto cfg = config({"sh", "-c", "echo changed > /etc/motd; echo new > /etc/marker; rm /bin/false; cat /etc/motd /etc/marker"});
  cfg.rootfs_key = "test-image-" + std::to_string(::getpid());
  auto first = run_captured(*root_, cfg);
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(first.out, "changed\nnew\n");
  // The cached image and the rootfs directory are as before.
  std::filesystem::path images = vm::vm_dir(*root_) / "images";
  std::vector<std::filesystem::path> erofs;
  for (const auto& e : std::filesystem::directory_iterator(images))
    if (e.path().extension() == ".erofs") erofs.push_back(e.path());
  ASSERT_EQ(erofs.size(), 1u) << "one cached image per key, no leftovers";
  std::string digest = file_digest(erofs[0]);
  EXPECT_EQ(read_file(rootfs_ / "etc/motd"), "from the image\n");
  EXPECT_FALSE(std::filesystem::exists(rootfs_ / "etc/marker"));

  cfg.process.args = {"sh", "-c", "cat /etc/motd; test -e /etc/marker && echo marker || echo no-marker; test -e /bin/false && echo has-false"};
  auto second = run_captured(*root_, cfg);
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(second.out, "from the image\nno-marker\nhas-false\n");
  EXPECT_EQ(file_digest(erofs[0]), digest);
}

TEST_F(VmTest, DetachedStartThenKillDeliversTheSignal) {
  TestPipe out;
  vm::VmBox box(*root_, "test", config({"sh", "-c", "echo ready; exec sleep 1000"}));
  box.start({-1, out.write.get(), -1});
  out.write.reset();
  ASSERT_NE(read_until(out.read.get(), "ready").find("ready"), std::string::npos);
  EXPECT_FALSE(box.wait_for(std::chrono::milliseconds(0)).has_value());
  box.kill(SIGTERM);
  EXPECT_EQ(box.wait(), 128 + SIGTERM);
}

TEST_F(VmTest, ExecRunsASecondProcessInTheRunningVm) {
  TestPipe out;
  vm::VmBox box(*root_, "test", config({"sh", "-c", "echo started > /tmp/state; echo ready; exec sleep 1000"}));
  box.start({-1, out.write.get(), -1});
  out.write.reset();
  ASSERT_NE(read_until(out.read.get(), "ready").find("ready"), std::string::npos);
  TestPipe exec_out;
  vm::Process p;
  p.args = {"sh", "-c", "cat /tmp/state; exit 5"};
  p.env = {"PATH=/bin"};
  auto id = box.exec(p, {-1, exec_out.write.get(), -1});
  exec_out.write.reset();
  EXPECT_EQ(box.wait_exec(id), 5);
  EXPECT_EQ(read_all(exec_out.read.get()), "started\n");

  // An exec with a terminal and a signal: `sh -i` gets a pty, then SIGKILL.
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  UniqueFd master_fd(master);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  UniqueFd slave(::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC));
  vm::Process shell;
  shell.args = {"sh", "-c", "tty; stty size; echo exec-waiting; exec sleep 1000"};
  shell.env = {"PATH=/bin"};
  shell.terminal = true;
  shell.rows = 20;
  shell.cols = 70;
  auto tty_id = box.exec(shell, {slave.get(), slave.get(), -1});
  std::string seen = read_until(master, "exec-waiting");
  EXPECT_NE(seen.find("/dev/pts/"), std::string::npos) << seen;
  EXPECT_NE(seen.find("20 70"), std::string::npos) << seen;
  box.kill_exec(tty_id, SIGKILL);
  EXPECT_EQ(box.wait_exec(tty_id), 128 + SIGKILL);
  EXPECT_EQ(box.stop(std::chrono::seconds(5)), 128 + SIGTERM);
}

TEST_F(VmTest, HangingVmIsKilledAndLeavesNothingBehind) {
  pid_t qemu = -1;
  {
    TestPipe out;
    auto cfg = config({"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"});
    cfg.rootfs_key = "hang-test";
    vm::VmBox box(*root_, "test", cfg);
    box.start({-1, out.write.get(), -1});
    out.write.reset();
    qemu = box.qemu_pid();
    ASSERT_GT(qemu, 0);
    ASSERT_NE(read_until(out.read.get(), "ready").find("ready"), std::string::npos);
    EXPECT_TRUE(process_exists(qemu));
    // SIGTERM is ignored inside: stop() must fall back to killing the VM.
    EXPECT_EQ(box.stop(std::chrono::milliseconds(500)), 128 + SIGKILL);
    EXPECT_FALSE(process_exists(qemu)) << "qemu " << qemu << " still exists after stop";
  }
  EXPECT_FALSE(process_exists(qemu));
  EXPECT_TRUE(std::filesystem::is_empty(root_->tmp_dir())) << "temp files left in " << root_->tmp_dir();
  for (const auto& e : std::filesystem::directory_iterator(vm::vm_dir(*root_) / "images"))
    EXPECT_FALSE(e.path().filename().string().starts_with(".build-")) << e.path();
  std::string mounts = read_file("/proc/self/mountinfo");
  EXPECT_EQ(mounts.find(store_dir_->path().string()), std::string::npos) << "a mount was left under the store";
}

TEST_F(VmTest, VmKilledWhileStillBootingLeavesNothingBehind) {
  pid_t qemu = -1;
  {
    vm::VmBox box(*root_, "test", config({"sleep", "1000"}));
    box.start({});
    qemu = box.qemu_pid();
    box.kill(SIGKILL);
    EXPECT_EQ(box.wait(), 128 + SIGKILL);
  }
  EXPECT_FALSE(process_exists(qemu));
  EXPECT_TRUE(std::filesystem::is_empty(root_->tmp_dir()));
}

TEST_F(VmTest, ImageNeedingANewerKernelIsRefused) {
  auto cfg = config({"true"});
  cfg.min_kernel = "99.1";
  try {
    vm::VmBox box(*root_, "test", cfg);
    FAIL() << "a VM was created for an image needing Linux 99.1";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
    EXPECT_NE(std::string(e.what()).find("needs Linux 99.1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(kernel_->release), std::string::npos) << e.what();
  }
  cfg.min_kernel = kernel_->version.str();  // exactly the guest's: accepted
  EXPECT_NO_THROW(vm::VmBox(*root_, "test", cfg));
}

TEST_F(VmTest, TerminalSessionGetsAPtyAndWindowSizes) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  UniqueFd master_fd(master);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  UniqueFd slave(::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave.valid());
  termios raw;
  ::tcgetattr(slave.get(), &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave.get(), TCSANOW, &raw);

  auto cfg = config({"sh", "-c", "tty; stty size; echo waiting; read line; stty size; echo got:$line"});
  cfg.process.terminal = true;
  cfg.process.rows = 33;
  cfg.process.cols = 101;
  vm::VmBox box(*root_, "test", cfg);
  box.start({slave.get(), slave.get(), -1});
  std::string seen = read_until(master, "waiting");
  EXPECT_NE(seen.find("/dev/pts/0"), std::string::npos) << seen;
  EXPECT_NE(seen.find("33 101"), std::string::npos) << seen;
  box.resize(40, 120);
  // The resize and the input travel in order on one channel.
  ASSERT_EQ(::write(master, "hi\n", 3), 3);
  seen = read_until(master, "got:hi");
  EXPECT_NE(seen.find("40 120"), std::string::npos) << seen;
  EXPECT_NE(seen.find("got:hi"), std::string::npos) << seen;
  EXPECT_EQ(box.wait(), 0);
}

TEST_F(VmTest, InitramfsIsDeterministicAndCarriesTheModules) {
  TempDir a("/var/tmp", "skiff-test-initrd-"), b("/var/tmp", "skiff-test-initrd-");
  auto first = vm::ensure_initramfs(a.path(), *kernel_);
  auto second = vm::ensure_initramfs(b.path(), *kernel_);
  EXPECT_EQ(file_digest(first), file_digest(second));
  auto modules = vm::resolve_modules(*kernel_, vm::required_modules());
  auto position = [&](const std::string& name) {
    for (size_t i = 0; i < modules.size(); ++i)
      if (modules[i].name == name) return static_cast<int>(i);
    return -1;
  };
  for (const auto& m : vm::required_modules()) {
    // Built-in drivers are absent on purpose; Debian's cloud kernel has all as modules.
    if (kernel_->release.find("cloud") != std::string::npos) {
      EXPECT_GE(position(m), 0) << m;
    }
  }
  if (position("virtio_ring") >= 0) {
    EXPECT_LT(position("virtio_ring"), position("virtio_mmio"));
  }
  if (position("libcrc32c") >= 0) {
    EXPECT_LT(position("libcrc32c"), position("erofs"));
  }
}

TEST_F(VmTest, CliRunsACommandInAVm) {
  SkiffCli cli(root_->path());
  auto result = cli.run({"vm", "run", "--rootfs", rootfs_.string(), "--vm-kernel", kernel_->image.string(),
                         "--vm-modules", kernel_->modules_dir.string(), "-e", "GREETING=hi",
                         "sh", "-c", "echo $GREETING from $(uname -r); exit 4"});
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_EQ(result.out, "hi from " + kernel_->release + "\n");
  auto refused = cli.run({"vm", "run", "--rootfs", rootfs_.string(), "--vm-kernel", kernel_->image.string(),
                          "--vm-modules", kernel_->modules_dir.string(), "--min-kernel", "99.0", "true"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("needs Linux 99.0"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace skiff::test

namespace skiff::test {
namespace {

TEST_F(VmTest, BadInputIsRefusedBeforeAnythingRuns) {
  auto cfg = config({"true"});
  cfg.rootfs = store_dir_->path() / "no-such-dir";
  {
    vm::VmBox box(*root_, "test", cfg);
    try {
      box.start({});
      FAIL() << "a VM started over a missing rootfs";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::not_found);
      EXPECT_NE(std::string(e.what()).find("not a directory"), std::string::npos) << e.what();
    }
  }
  cfg = config({"true"});
  cfg.kernel.kernel = rootfs_ / "etc/motd";
  try {
    vm::VmBox box(*root_, "test", cfg);
    FAIL() << "a text file was accepted as a kernel";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::corrupt);
    EXPECT_NE(std::string(e.what()).find("bzImage"), std::string::npos) << e.what();
  }
  cfg = config({"true"});
  cfg.resources.memory_bytes = 1 << 20;
  EXPECT_THROW(vm::VmBox(*root_, "test", cfg), Error);
  cfg = config({});
  EXPECT_THROW(vm::VmBox(*root_, "test", cfg), Error);
  cfg = config({"true"});
  cfg.rootfs_key = "../escape";
  {
    vm::VmBox box(*root_, "test", cfg);
    EXPECT_THROW(box.start({}), Error);
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_->tmp_dir())) << "a refused VM left files in " << root_->tmp_dir();
  EXPECT_FALSE(std::filesystem::exists(vm::vm_dir(*root_) / "escape.erofs"));
}

TEST_F(VmTest, BrokenInitramfsFailsWithTheAgentsReason) {
  // Only the agent, none of the modules it needs: it cannot reach the host.
  std::filesystem::path dir = store_dir_->path() / "initramfs";
  ensure_dir(dir / "dev");
  write_file_atomic(dir / "init", std::string(vm::agent_binary()), 0755, false);
  CommandOptions options;
  options.directory = dir;
  auto list = check_output({"find", ".", "-print"}, options);
  options.input = list;
  std::string archive = check_output({"cpio", "-o", "-H", "newc", "--quiet"}, options);
  write_file_atomic(store_dir_->path() / "broken.cpio", archive, 0644, false);
  auto cfg = config({"true"});
  cfg.kernel.initramfs = store_dir_->path() / "broken.cpio";
  vm::VmBox box(*root_, "test", cfg);
  box.start({});
  try {
    box.wait();
    FAIL() << "a VM without its modules ran the process";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no virtio-serial port"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace skiff::test
