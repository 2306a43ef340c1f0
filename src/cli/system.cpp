#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/system_commands.h"
#include "cli/table.h"
#include "core/host_features.h"
#include "core/json.h"

namespace skiff::cli {

namespace {

void add_check(CLI::App& system, Context& context) {
  auto* cmd = system.add_subcommand("check", "Check the kernel features skiff needs, with the fix for each missing one");
  static std::string format;
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    auto checks = check_host_features();
    // Without these, process isolation cannot work at all; the rest degrade.
    auto required = [](const FeatureCheck& c) { return c.name == "kernel" || c.name == "cgroups"; };
    bool ok = true;
    for (const auto& c : checks)
      if (!c.ok && required(c)) ok = false;
    if (wants_json(format)) {
      Json out = Json::array();
      for (const auto& c : checks)
        out.push_back({{"Name", c.name}, {"Ok", c.ok}, {"Detail", c.detail}, {"Required", required(c)},
                       {"Fix", c.ok ? "" : c.fix}});
      fmt::print("{}\n", out.dump());
    } else {
      for (const auto& c : checks) {
        fmt::print("{:<16} {:<4} {}\n", c.name, c.ok ? "ok" : (required(c) ? "FAIL" : "no"), c.detail);
        if (!c.ok) fmt::print("{:<16}      fix: {}\n", "", c.fix);
      }
      fmt::print("{}\n", ok ? "skiff can run containers on this host"
                            : "skiff cannot run containers on this host until the failures above are fixed");
    }
    context.exit_code = ok ? 0 : 1;
  });
}

}  // namespace

void add_system_command(CLI::App& app, Context& context) {
  auto* system = app.add_subcommand("system", "Check the host, show disk usage, reclaim space");
  system->require_subcommand(1);
  add_check(*system, context);
  add_system_df(*system, context);
  add_system_prune(*system, context);
}

}  // namespace skiff::cli
