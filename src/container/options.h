// What `skiff run` / `skiff create` were asked for, parsed and checked.
// The CLI fills the raw strings; parse_* turn them into checked values with
// errors that name the bad option.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::container {

struct BindMount {
  std::string source;       // absolute host path
  std::string destination;  // absolute container path
  bool read_only = false;
};

struct TmpfsMount {
  std::string destination;
  std::string options;  // "size=64m,mode=1777"
};

struct RunOptions {
  std::string image;                // as typed
  std::vector<std::string> command;  // CMD override (after the image)
  std::optional<std::string> entrypoint;
  std::string name;
  std::vector<std::string> env;       // -e K=V or K
  std::vector<std::string> env_files;
  std::optional<std::string> user;    // -u
  std::optional<std::string> workdir;  // -w
  std::string hostname;
  std::vector<std::string> volumes;  // -v SRC:DST[:ro]
  std::vector<std::string> tmpfs;    // --tmpfs DST[:OPTS]
  bool read_only = false;
  std::optional<std::string> memory;  // "64m"
  std::optional<double> cpus;
  std::optional<std::int64_t> pids_limit;
  std::vector<std::string> cap_add, cap_drop;
  std::vector<std::string> security_opts;  // seccomp=unconfined|FILE, no-new-privileges[:true|false]
  std::string network = "none";           // none | host (bridge later)
  bool init = false;
  bool interactive = false;  // -i
  bool tty = false;          // -t
  bool detach = false;       // -d
  bool remove = false;       // --rm
  std::string isolation;     // "" (config default) | process | vm | hyperv
  std::string vm_kernel;     // --vm-kernel: guest kernel for vm ("" the config's, else Debian's cloud kernel)
  std::optional<std::string> platform;
  std::string pull = "missing";  // always | missing | never
  std::optional<std::string> log_max_size;
  std::string stop_signal;       // overrides the image's StopSignal
  std::optional<int> stop_timeout;
  std::vector<std::string> labels;
};

// docker's rules: --entrypoint replaces the image's Entrypoint and drops
// its Cmd; arguments after the image replace Cmd. Fails when nothing is
// left to run.
std::vector<std::string> resolve_command(const Json& image_config, const RunOptions& options);

// The process environment: the image's Env, then --env-file lines, then -e,
// later entries replacing earlier ones by key; PATH, HOSTNAME and HOME are
// filled in when absent, TERM=xterm with -t. `K` without '=' takes the
// value from skiff's own environment (and is dropped when unset).
std::vector<std::string> resolve_environment(const Json& image_config, const RunOptions& options,
                                             const std::string& hostname, const std::string& home);

// Parses one env file (docker's format: K=V lines, '#' comments).
std::vector<std::string> read_env_file(const std::string& path);

BindMount parse_volume(const std::string& text);
TmpfsMount parse_tmpfs(const std::string& text);

// 0.5 → quota 50000 / period 100000.
struct CpuQuota {
  std::int64_t quota = 0;
  std::uint64_t period = 100000;
};
CpuQuota parse_cpus(double cpus);

// Checks capability names (with or without CAP_, any case, or ALL).
std::string normalize_capability(const std::string& name);

}  // namespace skiff::container
