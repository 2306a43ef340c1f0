#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/host.h"
#include "core/host_features.h"
#include "core/json.h"
#include "vm/vm.h"

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
    // Which isolation modes work here, and how.
    std::string missing;
    for (const auto& c : checks)
      if (!c.ok && (c.name == "kernel" || c.name == "cgroups" || c.name == "seccomp"))
        missing += (missing.empty() ? "" : ", ") + c.name + " (fix: " + c.fix + ")";
    Json process = {{"Usable", missing.empty()},
                    {"Detail", missing.empty() ? fmt::format("namespaces, {} cgroups, seccomp on the host kernel {}",
                                                             to_string(detect_cgroup_layout()), kernel_release())
                                               : "missing " + missing}};
    auto vm_support = vm::vm_support(context.root());
    Json vm = {{"Usable", vm_support.usable},
               {"Accelerator", vm::to_string(vm_support.accel.accel)},
               {"Reason", vm_support.accel.reason},
               {"GuestKernel", vm_support.kernel ? vm_support.kernel->release : ""},
               {"Detail", vm_support.detail}};
    Json info = {{"Root", context.root().path().string()},
                 {"StorageDriver", overlay ? "overlay" : "copy"},
                 {"KernelVersion", kernel_release()},
                 {"OperatingSystem", host_os()},
                 {"Architecture", host_architecture()},
                 {"CgroupLayout", to_string(detect_cgroup_layout())},
                 {"DefaultRegistry", context.config.default_registry},
                 {"DefaultIsolation", context.config.default_isolation},
                 {"Isolation", {{"process", process}, {"vm", vm}}},
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
    fmt::print("  process          {:<4} {}\n", missing.empty() ? "ok" : "no", process["Detail"].get<std::string>());
    fmt::print("  vm               {:<4} {}\n", vm_support.usable ? "ok" : "no", vm_support.detail);
    if (vm_support.usable) fmt::print("  {:<16}      {}: {}\n", "", vm::to_string(vm_support.accel.accel), vm_support.accel.reason);
    fmt::print("Features:\n");
    for (const auto& c : checks) {
      fmt::print("  {:<16} {:<4} {}\n", c.name, c.ok ? "ok" : "no", c.detail);
      if (!c.ok) fmt::print("  {:<16}      fix: {}\n", "", c.fix);
    }
  });
}

}  // namespace skiff::cli
