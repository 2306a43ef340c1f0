// skiff container vm-monitor ID: the owner of a detached VM container (its
// VmBox and control socket), started by `skiff run -d` / `skiff start`
// under skiff-monitor; see src/engine/isolation_vm.h.
#include "cli/commands.h"
#include "engine/engine.h"

namespace skiff::cli {

void add_container_vm_command(CLI::App& app, Context& context) {
  auto* group = app.get_subcommand("container");
  auto* cmd = group->add_subcommand("vm-monitor", "Own a detached VM container while it runs (started by skiff itself)");
  static std::string id;
  cmd->add_option("ID", id, "Full container ID")->required();
  cmd->callback([&context] {
    engine::Engine engine(context.root(), context.config);
    context.exit_code = engine.own_vm(id);
  });
}

}  // namespace skiff::cli
