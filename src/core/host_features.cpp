#include "core/host_features.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <fstream>
#include <sstream>

#include "core/fd.h"
#include "core/fs.h"
#include "core/host.h"

namespace skiff {

std::string to_string(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::v1: return "v1";
    case CgroupLayout::v2: return "v2";
    case CgroupLayout::hybrid: return "hybrid";
    case CgroupLayout::none: return "none";
  }
  return "none";
}

CgroupLayout detect_cgroup_layout() {
  struct statfs st;
  if (::statfs("/sys/fs/cgroup", &st) != 0) return CgroupLayout::none;
  if (st.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::v2;
  if (st.f_type != TMPFS_MAGIC) return CgroupLayout::none;
  if (::statfs("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return CgroupLayout::hybrid;
  return CgroupLayout::v1;
}

std::string to_string(KvmStatus status) {
  switch (status) {
    case KvmStatus::usable: return "kvm";
    case KvmStatus::paravirtual: return "paravirtual (no vmx/svm)";
    case KvmStatus::unavailable: return "unavailable";
  }
  return "unavailable";
}

static bool cpu_has_virtualisation() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (!line.starts_with("flags")) continue;
    std::istringstream words(line);
    std::string word;
    while (words >> word)
      if (word == "vmx" || word == "svm") return true;
    return false;
  }
  return false;
}

KvmStatus detect_kvm() {
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm) return KvmStatus::unavailable;
  if (::ioctl(kvm.get(), KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return KvmStatus::unavailable;
  return cpu_has_virtualisation() ? KvmStatus::usable : KvmStatus::paravirtual;
}

bool filesystem_supported(const std::string& name) {
  auto text = read_file_if_exists("/proc/filesystems");
  if (!text) return false;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    auto tab = line.rfind('\t');
    if ((tab == std::string::npos ? line : line.substr(tab + 1)) == name) return true;
  }
  return false;
}

bool overlayfs_supported() { return filesystem_supported("overlay"); }

bool seccomp_supported() {
  // PR_GET_SECCOMP works whenever the kernel has CONFIG_SECCOMP; filter
  // mode needs CONFIG_SECCOMP_FILTER, which /proc/self/status reveals.
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) return false;
  auto status = read_file_if_exists("/proc/self/status");
  return status && status->find("Seccomp_filters:") != std::string::npos;
}

std::vector<FeatureCheck> check_host_features() {
  std::vector<FeatureCheck> checks;
  auto kernel = host_kernel_version();
  checks.push_back({"kernel", kernel >= KernelVersion{5, 6, 0}, kernel_release(),
                    "skiff needs Linux 5.6 or later (openat2); boot a newer kernel"});
  bool overlay = overlayfs_supported();
  checks.push_back({"overlayfs", overlay, overlay ? "supported" : "missing",
                    "run `modprobe overlay`; without it skiff copies root filesystems (slower, more disk)"});
  auto layout = detect_cgroup_layout();
  checks.push_back({"cgroups", layout != CgroupLayout::none, to_string(layout),
                    "mount cgroup2 on /sys/fs/cgroup (or the v1 hierarchies); limits need it"});
  bool seccomp = seccomp_supported();
  checks.push_back({"seccomp", seccomp, seccomp ? "supported" : "missing",
                    "the kernel lacks CONFIG_SECCOMP_FILTER; containers run without a syscall filter"});
  bool userns = ::access("/proc/self/ns/user", F_OK) == 0;
  checks.push_back({"user namespaces", userns, userns ? "supported" : "missing", "enable CONFIG_USER_NS"});
  auto kvm = detect_kvm();
  checks.push_back({"kvm", kvm == KvmStatus::usable, to_string(kvm),
                    kvm == KvmStatus::paravirtual
                        ? "the CPU exposes no vmx/svm: VM isolation runs under qemu TCG emulation (slower starts)"
                        : "load kvm_intel/kvm_amd and give access to /dev/kvm; VM isolation falls back to TCG emulation"});
  bool erofs = filesystem_supported("erofs");
  checks.push_back({"erofs", erofs, erofs ? "supported" : "missing (module may load on demand)", "run `modprobe erofs`"});
  return checks;
}

}  // namespace skiff
