// start, stop, kill, rm, wait: one verb on one or more containers each.
#include <signal.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "engine/engine.h"
#include "core/error.h"
#include "runtime/runtime.h"

namespace skiff::cli {

namespace {

// Runs `action` on every container named; like docker, reports each
// failure on its own line and exits 1 if any failed.
void for_each_container(Context& context, const std::vector<std::string>& names,
                        const std::function<void(engine::Engine&, const std::string&)>& action) {
  engine::Engine engine(context.root(), context.config);
  std::vector<std::string> errors;
  for (const auto& name : names) {
    try {
      action(engine, name);
    } catch (const Error& e) {
      if (names.size() == 1) throw;
      errors.push_back(e.what());
    }
  }
  for (const auto& e : errors) fmt::print(stderr, "skiff: {}\n", e);
  if (!errors.empty()) context.exit_code = 1;
}

}  // namespace

void add_start_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("start", "Start one or more stopped containers");
  static std::vector<std::string> names;
  cmd->add_option("CONTAINER", names, "Container name or ID (prefix)")->required();
  cmd->callback([&context] {
    for_each_container(context, names, [](engine::Engine& engine, const std::string& name) {
      engine.start(name);
      fmt::print("{}\n", name);
    });
  });
}

void add_stop_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("stop", "Stop running containers (StopSignal, then SIGKILL after the timeout)");
  static std::vector<std::string> names;
  static std::optional<int> timeout;
  cmd->add_option("CONTAINER", names, "Container name or ID (prefix)")->required();
  cmd->add_option("-t,--time", timeout, "Seconds to wait before killing (default: the container's stop timeout, 10)");
  cmd->callback([&context] {
    if (timeout && *timeout < 0) fail(ErrorKind::invalid_argument, "--time {}: use 0 or more seconds", *timeout);
    for_each_container(context, names, [](engine::Engine& engine, const std::string& name) {
      engine.stop(name, timeout ? std::optional(std::chrono::seconds(*timeout)) : std::nullopt);
      fmt::print("{}\n", name);
    });
  });
}

void add_kill_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("kill", "Send a signal to running containers");
  static std::vector<std::string> names;
  static std::string signal = "KILL";
  cmd->add_option("CONTAINER", names, "Container name or ID (prefix)")->required();
  cmd->add_option("-s,--signal", signal, "Signal name or number")->capture_default_str();
  cmd->callback([&context] {
    int number = runtime::parse_signal(signal);
    for_each_container(context, names, [number](engine::Engine& engine, const std::string& name) {
      engine.kill(name, number);
      fmt::print("{}\n", name);
    });
  });
}

void add_rm_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("rm", "Remove containers");
  static std::vector<std::string> names;
  static bool force = false;
  cmd->add_option("CONTAINER", names, "Container name or ID (prefix)")->required();
  cmd->add_flag("-f,--force", force, "Kill and remove a running container");
  cmd->callback([&context] {
    for_each_container(context, names, [](engine::Engine& engine, const std::string& name) {
      engine.remove(name, force);
      fmt::print("{}\n", name);
    });
  });
}

void add_wait_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("wait", "Wait for containers to stop and print their exit codes");
  static std::vector<std::string> names;
  cmd->add_option("CONTAINER", names, "Container name or ID (prefix)")->required();
  cmd->callback([&context] {
    for_each_container(context, names, [](engine::Engine& engine, const std::string& name) {
      fmt::print("{}\n", engine.wait(name));
    });
  });
}

void add_container_command(CLI::App& app, Context& context) {
  auto* group = app.add_subcommand("container", "Container housekeeping");
  group->require_subcommand(1);
  auto* cleanup = group->add_subcommand("cleanup", "Release what an exited container held (run by its monitor)");
  static std::string id;
  cleanup->add_option("ID", id, "Full container ID")->required();
  cleanup->callback([&context] {
    engine::Engine engine(context.root(), context.config);
    engine.cleanup(id);
  });
}

}  // namespace skiff::cli
