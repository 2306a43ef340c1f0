// skiff runtime start: let a created container run its program.
#include <memory>

#include "cli/runtime_commands.h"

namespace skiff::cli {

void add_runtime_start(CLI::App& app, RuntimeContext& context) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("start", "Start a created container's program");
  cmd->add_option("id", *id, "Container id")->required();
  cmd->callback([id, &context] { context.guarded([&] { context.runtime().start(*id); }); });
}

}  // namespace skiff::cli
