// Shared setup for the VM tests: a guest kernel (Debian's cloud kernel,
// fetched once with apt into a cache kept between runs, like ccache), a
// fresh store per test binary, and a busybox root filesystem.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/root.h"
#include "vm/vm.h"

namespace skiff::test {

// $SKIFF_TEST_VM_CACHE or /var/tmp/skiff-test-vm-cache.
std::filesystem::path vm_test_cache();

// The cached guest kernel; nullptr (and a reason) if it cannot be had.
const vm::GuestKernel* test_kernel(std::string& why_not);

// A root filesystem with busybox-static and the applets the tests use.
void make_busybox_rootfs(const std::filesystem::path& dir);

class VmTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // A config running `args` over the busybox rootfs with the test kernel.
  vm::VmConfig config(std::vector<std::string> args) const;

  std::unique_ptr<TempDir> store_dir_;
  std::unique_ptr<Root> root_;
  std::filesystem::path rootfs_;
  const vm::GuestKernel* kernel_ = nullptr;
};

// A pipe whose ends close themselves.
struct TestPipe {
  UniqueFd read, write;
  TestPipe();
};

// Reads until EOF.
std::string read_all(int fd);
// Reads until `needle` shows up (or EOF); returns what was read.
std::string read_until(int fd, const std::string& needle);

}  // namespace skiff::test
