// skiff runtime kill: signal a container's init (or all its processes).
#include <memory>

#include "cli/runtime_commands.h"

namespace skiff::cli {

namespace {
struct KillArgs {
  std::string id, signal = "SIGTERM";
  bool all = false;
};
}  // namespace

void add_runtime_kill(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<KillArgs>();
  auto* cmd = app.add_subcommand("kill", "Send a signal (default SIGTERM) to a container's init");
  cmd->add_option("id", args->id, "Container id")->required();
  cmd->add_option("signal", args->signal, "Signal name or number")->capture_default_str();
  cmd->add_flag("-a,--all", args->all, "Signal every process of the container");
  cmd->callback([args, &context] {
    context.guarded([&] { context.runtime().kill(args->id, runtime::parse_signal(args->signal), args->all); });
  });
}

}  // namespace skiff::cli
