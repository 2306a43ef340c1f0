// Kernel features the engine depends on, probed once, each with the fix a
// user can apply when it is missing (skiff info / skiff system check).
#pragma once

#include <string>
#include <vector>

namespace skiff {

enum class CgroupLayout {
  v1,      // only legacy hierarchies
  v2,      // unified hierarchy at /sys/fs/cgroup
  hybrid,  // legacy hierarchies plus a v2 mount at /sys/fs/cgroup/unified
  none,
};
std::string to_string(CgroupLayout layout);
CgroupLayout detect_cgroup_layout();

enum class KvmStatus {
  usable,        // /dev/kvm opens and the CPU has vmx/svm
  paravirtual,   // /dev/kvm exists but the CPU has no vmx/svm (e.g. PVM): stock kernels cannot boot
  unavailable,   // no /dev/kvm or it cannot be opened
};
std::string to_string(KvmStatus status);
KvmStatus detect_kvm();

struct FeatureCheck {
  std::string name;    // "overlayfs"
  bool ok = false;
  std::string detail;  // "supported" / what is missing
  std::string fix;     // what to do when !ok
};

bool overlayfs_supported();
bool seccomp_supported();
bool filesystem_supported(const std::string& name);  // /proc/filesystems

std::vector<FeatureCheck> check_host_features();

}  // namespace skiff
