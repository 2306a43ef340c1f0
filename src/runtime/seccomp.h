// Seccomp: OCI seccomp JSON compiled to a BPF program with libseccomp, in
// the runtime before the container process exists (compiled programs are
// cached by the profile's digest), and loaded by the container's init with
// one seccomp(2) call right before exec.
#pragma once

#include <linux/filter.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::runtime {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_*
  bool empty() const { return filter.empty(); }
};

// Checks actions, operators, architectures and flags; throws
// invalid_argument naming the field.
void validate_seccomp(const Json& profile);

// Compiles an OCI seccomp object. With a non-empty cache_dir, a program
// compiled before for the same profile is read from there instead.
SeccompProgram compile_seccomp(const Json& profile, const std::filesystem::path& cache_dir = {});

// Installs `program` on the calling thread. Async-signal-safe: called in the
// container's init. Returns 0 or an errno value.
int load_seccomp(const SeccompProgram& program);

// docker's/podman's default: EPERM for every syscall outside an allow-list;
// syscalls that need a capability (mount, unshare, setns, clone with
// namespace flags, ptrace, reboot, module loading…) are allowed only when
// `capabilities` holds it.
Json default_seccomp_profile(const std::vector<std::string>& capabilities);

// Names libseccomp knows for the OCI "features" document.
std::vector<std::string> seccomp_actions();
std::vector<std::string> seccomp_operators();
std::vector<std::string> seccomp_architectures();

}  // namespace skiff::runtime
