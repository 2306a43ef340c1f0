// `skiff runtime …` (and the binary called as `skiff-runtime`): runc's
// command line over an OCI bundle, one file per command (runtime_*.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "runtime/runtime.h"

namespace skiff::cli {

// runc's global flags.
struct RuntimeContext {
  std::string root;         // --root: the state directory
  std::string log_path;     // --log: errors also go there (podman reads them)
  std::string log_format = "text";  // --log-format text|json
  bool systemd_cgroup = false;
  bool debug = false;
  std::string rootless;
  int* exit_code = nullptr;

  runtime::Runtime runtime() const;
  // Runs a command body; an error is also written to --log before it
  // propagates (one line on stderr, exit 1).
  void guarded(const std::function<void()>& body) const;
  void set_exit_code(int code) const {
    if (exit_code) *exit_code = code;
  }
};

void add_runtime_global_options(CLI::App& app, RuntimeContext& context);
void add_runtime_commands(CLI::App& app, RuntimeContext& context);

// One per file.
void add_runtime_create(CLI::App& app, RuntimeContext& context);
void add_runtime_start(CLI::App& app, RuntimeContext& context);
void add_runtime_state(CLI::App& app, RuntimeContext& context);
void add_runtime_kill(CLI::App& app, RuntimeContext& context);
void add_runtime_delete(CLI::App& app, RuntimeContext& context);
void add_runtime_run(CLI::App& app, RuntimeContext& context);
void add_runtime_exec(CLI::App& app, RuntimeContext& context);
void add_runtime_spec(CLI::App& app, RuntimeContext& context);
void add_runtime_features(CLI::App& app, RuntimeContext& context);
void add_runtime_list(CLI::App& app, RuntimeContext& context);

// main() hands over when argv[0] is "skiff-runtime".
bool invoked_as_runtime(const char* argv0);
int runtime_main(int argc, char** argv);

}  // namespace skiff::cli
