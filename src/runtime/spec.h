// The OCI runtime spec (config.json) as skiff implements it: parsed once
// into plain structs, validated with errors that name the field, so the rest
// of the runtime never looks at JSON again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::runtime {

inline constexpr const char* oci_version = "1.1.0";

struct IdMapping {
  std::uint32_t container_id = 0;
  std::uint32_t host_id = 0;
  std::uint32_t size = 0;
};

struct User {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask;
  std::vector<gid_t> additional_gids;
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  std::string name;  // "RLIMIT_NOFILE"
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Capability sets as bitmasks of CAP_* numbers.
struct CapabilitySets {
  std::uint64_t bounding = 0;
  std::uint64_t effective = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t permitted = 0;
  std::uint64_t ambient = 0;
};

struct ProcessSpec {
  bool terminal = false;
  std::optional<std::pair<unsigned, unsigned>> console_size;  // height, width
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<CapabilitySets> capabilities;  // absent: no capability changes (runc)
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;
  std::string selinux_label;
};

struct MountSpec {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() &&
           start_container.empty() && poststart.empty() && poststop.empty();
  }
};

enum class NamespaceType { pid, network, mount, ipc, uts, user, cgroup, time };
std::string to_string(NamespaceType type);
// CLONE_NEW* flag of a namespace type.
int clone_flag(NamespaceType type);
// The name under /proc/<pid>/ns/.
const char* proc_ns_name(NamespaceType type);

struct NamespaceSpec {
  NamespaceType type;
  std::string path;  // empty: create a new one
};

struct DeviceSpec {
  char type = 'c';  // c, b, u, p
  std::string path;
  std::int64_t major = 0, minor = 0;
  std::optional<mode_t> file_mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

struct DeviceRule {
  bool allow = false;
  char type = 'a';  // a, c, b
  std::optional<std::int64_t> major, minor;  // absent: any ('*')
  std::string access = "rwm";
};

struct MemoryResources {
  std::optional<std::int64_t> limit, reservation, swap;  // bytes; swap = memory+swap (runc semantics); -1 unlimited
  std::optional<std::uint64_t> swappiness;
  bool disable_oom_killer = false;
};

struct CpuResources {
  std::optional<std::uint64_t> shares;
  std::optional<std::int64_t> quota;
  std::optional<std::uint64_t> period;
  std::optional<std::int64_t> realtime_runtime;
  std::optional<std::uint64_t> realtime_period;
  std::string cpus, mems;
};

struct HugepageLimit {
  std::string page_size;  // "2MB"
  std::uint64_t limit = 0;
};

struct Resources {
  MemoryResources memory;
  CpuResources cpu;
  std::optional<std::int64_t> pids_limit;  // <= 0: unlimited
  std::optional<std::uint16_t> blkio_weight;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<std::uint32_t> network_class_id;
  std::vector<DeviceRule> devices;
  std::map<std::string, std::string> unified;  // v2 files written verbatim
  bool empty_limits() const;
};

struct LinuxSpec {
  std::vector<NamespaceSpec> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, std::string> sysctl;
  std::optional<Resources> resources;
  std::string cgroups_path;
  std::vector<DeviceSpec> devices;
  std::optional<Json> seccomp;  // the OCI seccomp object, compiled by seccomp.cpp
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  std::optional<unsigned long> personality;  // PER_LINUX / PER_LINUX32

  const NamespaceSpec* find_namespace(NamespaceType type) const;
  bool has_namespace(NamespaceType type) const { return find_namespace(type) != nullptr; }
};

struct Spec {
  std::string oci_version;
  std::optional<ProcessSpec> process;
  std::filesystem::path root_path;  // absolute (resolved against the bundle)
  bool root_readonly = false;
  std::string hostname, domainname;
  std::vector<MountSpec> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  LinuxSpec linux;
};

// Parses a config.json document. Relative root and bind-mount paths are
// resolved against `bundle`. Errors name the offending field.
Spec parse_spec(const Json& config, const std::filesystem::path& bundle);
// Reads bundle/config.json.
Json load_config(const std::filesystem::path& bundle);

// A process object (config.json's "process", or runc exec --process).
ProcessSpec parse_process(const Json& process);

// Capability name ("CAP_CHOWN" or "chown") to its number; nullopt if unknown.
std::optional<int> capability_from_name(std::string_view name);
std::string capability_name(int cap);
std::vector<std::string> capability_names(std::uint64_t mask);
// The highest capability number the running kernel knows.
int last_capability();

// rlimit name ("RLIMIT_NOFILE") to its RLIMIT_* number.
std::optional<int> rlimit_from_name(std::string_view name);

// The configuration `skiff runtime spec` prints and `skiff run` starts from:
// pid/ipc/uts/mount/network/cgroup namespaces, podman's capability set,
// no_new_privs, the default seccomp profile, masked and read-only /proc
// paths, /sys read-only, a minimal /dev.
Json default_spec();

// podman's default capability set.
const std::vector<std::string>& default_capabilities();
const std::vector<std::string>& default_masked_paths();
const std::vector<std::string>& default_readonly_paths();

}  // namespace skiff::runtime
