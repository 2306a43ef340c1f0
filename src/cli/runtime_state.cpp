// skiff runtime state: the OCI state of a container as JSON.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <memory>

#include "cli/runtime_commands.h"

namespace skiff::cli {

void add_runtime_state(CLI::App& app, RuntimeContext& context) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("state", "Print a container's OCI state (JSON)");
  cmd->add_option("id", *id, "Container id")->required();
  cmd->callback([id, &context] {
    context.guarded([&] {
      auto state = context.runtime().state(*id);
      auto json = state.to_oci_json();
      json["created"] = fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(state.created)));
      json["owner"] = state.owner;
      fmt::print("{}\n", json.dump(2));
    });
  });
}

}  // namespace skiff::cli
