// `skiff runtime`: the OCI runtime command group, and `skiff-runtime`, the
// same commands with runc's global flags at top level (podman --runtime,
// the OCI validation suite).
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/runtime_commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"

#ifndef SKIFF_VERSION
#define SKIFF_VERSION "0.0.0"
#endif

namespace skiff::cli {

namespace {

void append_log(const RuntimeContext& context, const std::string& message) {
  if (context.log_path.empty()) return;
  auto now = std::chrono::system_clock::now();
  std::string line;
  if (context.log_format == "json") {
    line = Json{{"level", "error"}, {"msg", message}, {"time", fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)))}}.dump();
  } else {
    line = fmt::format("time=\"{:%FT%TZ}\" level=error msg={}", fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                       Json(message).dump());
  }
  line += '\n';
  if (FILE* file = std::fopen(context.log_path.c_str(), "a")) {
    std::fwrite(line.data(), 1, line.size(), file);
    std::fclose(file);
  }
}

}  // namespace

runtime::Runtime RuntimeContext::runtime() const {
  return runtime::Runtime(root.empty() ? runtime::default_state_root() : std::filesystem::path(root));
}

void RuntimeContext::guarded(const std::function<void()>& body) const {
  try {
    if (debug) log::set_level(log::Level::debug);
    if (systemd_cgroup)
      fail(ErrorKind::unsupported, "--systemd-cgroup: skiff manages cgroups through cgroupfs only; drop the flag "
                                   "(podman: --cgroup-manager=cgroupfs)");
    if (log_format != "text" && log_format != "json")
      fail(ErrorKind::invalid_argument, "--log-format {}: use text or json", log_format);
    body();
  } catch (const runtime::ExecError& e) {
    append_log(*this, e.what());
    fmt::print(stderr, "skiff-runtime: {}\n", e.what());
    set_exit_code(e.exit_code());
  } catch (const Error& e) {
    append_log(*this, e.what());
    throw;
  }
}

void add_runtime_global_options(CLI::App& app, RuntimeContext& context) {
  app.add_option("--root", context.root, "Directory for the containers' state (default /run/skiff-runtime)");
  app.add_option("--log", context.log_path, "Also append errors to this file");
  app.add_option("--log-format", context.log_format, "Format of --log: text or json");
  app.add_flag("--systemd-cgroup", context.systemd_cgroup, "Refused: skiff uses cgroupfs");
  app.add_flag("--debug", context.debug, "Debug logging");
  app.add_option("--rootless", context.rootless, "Accepted for runc compatibility (auto, true, false)");
  app.add_option("--criu", "Accepted for runc compatibility; checkpointing is not supported");
}

void add_runtime_commands(CLI::App& app, RuntimeContext& context) {
  add_runtime_create(app, context);
  add_runtime_start(app, context);
  add_runtime_state(app, context);
  add_runtime_kill(app, context);
  add_runtime_delete(app, context);
  add_runtime_run(app, context);
  add_runtime_exec(app, context);
  add_runtime_spec(app, context);
  add_runtime_features(app, context);
  add_runtime_list(app, context);
}

void add_runtime_command(CLI::App& app, Context& context) {
  static RuntimeContext runtime_context;
  runtime_context.exit_code = &context.exit_code;
  auto* cmd = app.add_subcommand("runtime", "The OCI runtime: runc's commands on an OCI bundle (config.json + rootfs)");
  cmd->require_subcommand(1);
  add_runtime_global_options(*cmd, runtime_context);
  add_runtime_commands(*cmd, runtime_context);
}

bool invoked_as_runtime(const char* argv0) {
  return argv0 && std::filesystem::path(argv0).filename() == "skiff-runtime";
}

int runtime_main(int argc, char** argv) {
  int exit_code = 0;
  RuntimeContext context;
  context.exit_code = &exit_code;
  CLI::App app{"skiff-runtime: an OCI runtime (runc's command line)", "skiff-runtime"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version", fmt::format("skiff-runtime version {}\nspec: {}", SKIFF_VERSION, runtime::oci_version));
  add_runtime_global_options(app, context);
  add_runtime_commands(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return app.exit(CLI::CallForHelp());
  } catch (const CLI::CallForAllHelp&) {
    return app.exit(CLI::CallForAllHelp());
  } catch (const CLI::CallForVersion& e) {
    fmt::print("{}\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "skiff-runtime: {}; see 'skiff-runtime --help'\n", e.what());
    return 2;
  } catch (const Error& e) {
    fmt::print(stderr, "skiff-runtime: {}\n", e.what());
    return 1;
  }
  return exit_code;
}

}  // namespace skiff::cli
