// skiff runtime delete: remove a stopped container (cgroup, state).
#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"

namespace skiff::cli {

namespace {
struct DeleteArgs {
  std::string id;
  bool force = false;
};
}  // namespace

void add_runtime_delete(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<DeleteArgs>();
  auto* cmd = app.add_subcommand("delete", "Delete a stopped container; --force kills it first");
  cmd->add_option("id", args->id, "Container id")->required();
  cmd->add_flag("-f,--force", args->force, "Kill the container if it is running");
  cmd->callback([args, &context] {
    context.guarded([&] {
      try {
        context.runtime().remove(args->id, args->force);
      } catch (const Error& e) {
        // runc: deleting what is already gone succeeds with --force.
        if (!(args->force && e.kind() == ErrorKind::not_found)) throw;
      }
    });
  });
}

}  // namespace skiff::cli
