// Internal to the executor: a RUN step's process in a container on the
// stage's writable root filesystem, with the runtime's secure defaults
// (seccomp, reduced capabilities, masked /proc paths) and the network the
// build asked for.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/evaluate.h"
#include "builder/workspace.h"

namespace skiff::builder {

// A --mount of the step with what it reads resolved on the host.
struct ResolvedMount {
  RunMount mount;
  std::filesystem::path source;  // bind: the directory or file to mount; cache: its directory
};

struct RunSettings {
  std::string network = "host";  // the build's --network, used when the step names none
  // Receives the process's stdout and stderr as they come.
  std::function<void(std::string_view)> output;
  // Told the container's ID before it starts (true) and after it ended
  // (false), so an interrupted build can kill what runs.
  std::function<void(const std::string& id, bool running)> track;
};

// Runs the step in `root`. Throws invalid_argument with docker's wording
// when the process fails:
//   process "/bin/sh -c make" did not complete successfully: exit code: 2
void run_step(WritableRoot& root, const RunStep& step, const std::vector<ResolvedMount>& mounts,
              const RunSettings& settings);

}  // namespace skiff::builder
