// From what the user asked for (RunOptions) and what the image says (its
// config) to the OCI runtime spec the runtime executes. Starts from the
// runtime's secure default spec and only changes what was asked for.
#pragma once

#include <filesystem>
#include <string>

#include "container/options.h"
#include "container/user.h"
#include "core/json.h"

namespace skiff::container {

struct SpecInputs {
  const RunOptions& options;
  const Json& image_config;  // the image's "config" object (Env, Cmd, User…)
  std::filesystem::path rootfs;
  User user;
  std::string hostname;
  std::string cgroup_path;  // "/skiff/<id>"
  // Generated files bind-mounted into the container (hostname, hosts, resolv.conf).
  std::filesystem::path etc_dir;
};

// `base` is runtime::default_spec(). Throws invalid_argument naming the
// option for anything malformed (a seccomp file that does not parse, an
// unknown capability…).
Json make_runtime_spec(Json base, const SpecInputs& inputs);

// Writes hostname, hosts and resolv.conf for the container into etc_dir.
void write_etc_files(const std::filesystem::path& etc_dir, const std::string& hostname, const std::string& network);

// The working directory: -w, else the image's WorkingDir, else "/".
std::string resolve_workdir(const Json& image_config, const RunOptions& options);

}  // namespace skiff::container
