#include "vm/vm_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "core/log.h"
#include "core/subprocess.h"
#include "support/skiff_cli.h"
#include "vm/kernel.h"

namespace skiff::test {

std::filesystem::path vm_test_cache() {
  const char* env = std::getenv("SKIFF_TEST_VM_CACHE");
  return env && *env ? env : "/var/tmp/skiff-test-vm-cache";
}

const vm::GuestKernel* test_kernel(std::string& why_not) {
  static std::once_flag once;
  static std::unique_ptr<vm::GuestKernel> kernel;
  static std::string error;
  std::call_once(once, [] {
    vm::KernelCache cache(vm_test_cache() / "kernels");
    try {
      kernel = std::make_unique<vm::GuestKernel>(cache.ensure());
    } catch (const Error&) {
      // A fresh machine may have no package lists yet.
      run_command({"apt-get", "update", "-q"});
      try {
        kernel = std::make_unique<vm::GuestKernel>(cache.ensure());
      } catch (const Error& e) {
        error = e.what();
      }
    }
  });
  why_not = error;
  return kernel.get();
}

void make_busybox_rootfs(const std::filesystem::path& dir) {
  ensure_dir(dir / "bin");
  ensure_dir(dir / "etc");
  ensure_dir(dir / "tmp", 01777);
  ::chmod((dir / "tmp").c_str(), 01777);
  std::filesystem::copy_file("/bin/busybox", dir / "bin/busybox");
  for (const char* applet : {"sh", "cat", "echo", "id", "uname", "sleep", "true", "false", "env", "ls", "touch", "stty",
                             "tty", "hostname", "pwd", "test", "rm"})
    std::filesystem::create_symlink("busybox", dir / "bin" / applet);
  write_file_atomic(dir / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n", 0644, false);
  write_file_atomic(dir / "etc/group", "root:x:0:\nuser:x:1000:\n", 0644, false);
  write_file_atomic(dir / "etc/motd", "from the image\n", 0644, false);
}

void VmTest::SetUp() {
  if (const char* level = std::getenv("SKIFF_TEST_LOG"); level && *level) log::set_level(log::parse_level(level));
  if (!running_as_root()) GTEST_SKIP() << "VM tests need root (qemu, mounts)";
  if (!find_program("qemu-system-x86_64")) GTEST_SKIP() << "qemu-system-x86_64 missing: apt-get install qemu-system-x86";
  if (!find_program("mkfs.erofs")) GTEST_SKIP() << "mkfs.erofs missing: apt-get install erofs-utils";
  if (!std::filesystem::exists("/bin/busybox")) GTEST_SKIP() << "busybox missing: apt-get install busybox-static";
  std::string why;
  kernel_ = test_kernel(why);
  if (!kernel_) GTEST_SKIP() << "no guest kernel: " << why;
  store_dir_ = std::make_unique<TempDir>("/var/tmp", "skiff-test-vm-");
  root_ = std::make_unique<Root>(store_dir_->path() / "store");
  rootfs_ = store_dir_->path() / "rootfs";
  make_busybox_rootfs(rootfs_);
}

vm::VmConfig VmTest::config(std::vector<std::string> args) const {
  vm::VmConfig c;
  c.rootfs = rootfs_;
  c.process.args = std::move(args);
  c.process.env = {"PATH=/bin", "HOME=/root"};
  c.kernel.kernel = kernel_->image;
  c.kernel.modules_dir = kernel_->modules_dir;
  c.resources.memory_bytes = 256ull << 20;
  return c;
}

TestPipe::TestPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe");
  read.reset(fds[0]);
  write.reset(fds[1]);
}

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::string read_until(int fd, const std::string& needle) {
  std::string out;
  char buffer[4096];
  while (out.find(needle) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 120000) <= 0) break;  // a stuck VM fails the test, not the run
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace skiff::test
