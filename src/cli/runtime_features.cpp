// skiff runtime features: what this runtime implements (OCI features JSON).
#include <fmt/format.h>

#include "cli/runtime_commands.h"

namespace skiff::cli {

void add_runtime_features(CLI::App& app, RuntimeContext& context) {
  auto* cmd = app.add_subcommand("features", "Print the OCI features document (JSON)");
  cmd->callback([&context] { context.guarded([] { fmt::print("{}\n", runtime::features().dump(2)); }); });
}

}  // namespace skiff::cli
