#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/host.h"
#include "core/host_features.h"
#include "core/json.h"

namespace skiff::cli {

void add_info_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("info", "Show the store, the kernel and which isolation features work");
  static std::string format;
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    auto checks = check_host_features();
    bool overlay = overlayfs_supported();
    Json features = Json::object();
    for (const auto& c : checks) features[c.name] = {{"ok", c.ok}, {"detail", c.detail}};
    Json info = {{"Root", context.root().path().string()},
                 {"StorageDriver", overlay ? "overlay" : "copy"},
                 {"KernelVersion", kernel_release()},
                 {"OperatingSystem", host_os()},
                 {"Architecture", host_architecture()},
                 {"CgroupLayout", to_string(detect_cgroup_layout())},
                 {"DefaultRegistry", context.config.default_registry},
                 {"DefaultIsolation", context.config.default_isolation},
                 {"Features", features}};
    if (wants_json(format)) {
      fmt::print("{}\n", info.dump());
      return;
    }
    fmt::print("Root:              {}\n", context.root().path().string());
    fmt::print("Storage driver:    {}\n", overlay ? "overlay" : "copy (overlayfs unavailable: root filesystems are copied)");
    fmt::print("Kernel:            {}\n", kernel_release());
    fmt::print("OS/Arch:           {}/{}\n", host_os(), host_architecture());
    fmt::print("Cgroup layout:     {}\n", to_string(detect_cgroup_layout()));
    fmt::print("Default registry:  {}\n", context.config.default_registry.empty() ? "(none: short names are local)" : context.config.default_registry);
    fmt::print("Isolation:         {} (default)\n", context.config.default_isolation);
    fmt::print("Features:\n");
    for (const auto& c : checks) {
      fmt::print("  {:<16} {:<4} {}\n", c.name, c.ok ? "ok" : "no", c.detail);
      if (!c.ok) fmt::print("  {:<16}      fix: {}\n", "", c.fix);
    }
  });
}

}  // namespace skiff::cli
