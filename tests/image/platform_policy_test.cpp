// The run-time platform policy: which images this Linux host runs, under
// which isolation, and what the refusal tells the user to do.
#include <gtest/gtest.h>

#include "core/host.h"
#include "image/platform.h"

namespace skiff {
namespace {

Platform linux_image(std::string os_version) {
  Platform p = Platform::host();
  p.os_version = std::move(os_version);
  return p;
}

TEST(PlatformPolicy, ProcessIsolationRefusesAnImageNeedingANewerHostKernelAndSuggestsVm) {
  auto r = runnable_here(linux_image("99.0"), Isolation::process);
  EXPECT_FALSE(r.runnable);
  EXPECT_NE(r.reason.find("needs Linux 99.0"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find(host_kernel_version().str()), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("--isolation=vm"), std::string::npos) << r.reason;
}

TEST(PlatformPolicy, VmIsolationLeavesTheKernelCheckToTheGuestKernel) {
  EXPECT_TRUE(runnable_here(linux_image("99.0"), Isolation::vm).runnable);
  EXPECT_TRUE(runnable_here(linux_image(""), Isolation::process).runnable);
  EXPECT_TRUE(runnable_here(linux_image("3.10"), Isolation::process).runnable);
}

TEST(PlatformPolicy, WindowsImagesAreRefusedUnderBothModesWithTheirRule) {
  Platform windows{"windows", Platform::host().architecture, "", "10.0.20348.1850", {}};
  auto process = runnable_here(windows, Isolation::process);
  EXPECT_FALSE(process.runnable);
  EXPECT_NE(process.reason.find("Windows Server 2022"), std::string::npos) << process.reason;
  EXPECT_NE(process.reason.find("process isolation needs the host's own build"), std::string::npos) << process.reason;
  auto vm = runnable_here(windows, Isolation::vm);
  EXPECT_FALSE(vm.runnable);
  EXPECT_NE(vm.reason.find("Hyper-V isolation takes any build up to the host's"), std::string::npos) << vm.reason;
  EXPECT_EQ(parse_isolation("hyperv"), Isolation::vm);
}

}  // namespace
}  // namespace skiff
