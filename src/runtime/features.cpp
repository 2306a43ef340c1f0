// The OCI runtime "features" document: what this runtime implements.
#include "core/host_features.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/seccomp.h"

namespace skiff::runtime {

Json features() {
  Json capabilities = Json::array();
  for (int cap = 0; cap <= last_capability() && cap < 64; ++cap) capabilities.push_back(capability_name(cap));
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", oci_version},
      {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
        "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
        "nostrictatime", "nosuid", "nosymfollow", "private", "rbind", "relatime", "ro", "rprivate", "rshared",
        "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync", "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time"}},
        {"capabilities", capabilities},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", seccomp_actions()},
          {"operators", seccomp_operators()},
          {"archs", seccomp_architectures()},
          {"knownFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
          {"supportedFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}},
        {"intelRdt", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", false}}}}}}},
      {"annotations", {{"org.skiff.runtime.cgroup-layout", to_string(cgroup_layout())}}},
  };
}

}  // namespace skiff::runtime
