#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/host.h"
#include "core/json.h"

namespace skiff::cli {

void add_version_command(CLI::App& app, Context&) {
  auto* cmd = app.add_subcommand("version", "Show the skiff version");
  static std::string format;
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([] {
    Json info = {{"Version", SKIFF_VERSION},
                 {"GitCommit", SKIFF_GIT_COMMIT},
                 {"Os", host_os()},
                 {"Arch", host_architecture()},
                 {"KernelVersion", kernel_release()}};
    if (wants_json(format)) {
      fmt::print("{}\n", info.dump());
      return;
    }
    fmt::print("skiff version {} (commit {})\n", SKIFF_VERSION, SKIFF_GIT_COMMIT);
    fmt::print(" OS/Arch:        {}/{}\n", host_os(), host_architecture());
    fmt::print(" Kernel:         {}\n", kernel_release());
  });
}

}  // namespace skiff::cli
