// skiff runtime create: the container's init set up and waiting for start.
#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"

namespace skiff::cli {

namespace {
struct CreateArgs {
  std::string id, bundle = ".", console_socket, pid_file;
  int preserve_fds = 0;
  bool no_pivot = false, no_new_keyring = false, init = false;
};
}  // namespace

void add_runtime_create(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<CreateArgs>();
  auto* cmd = app.add_subcommand("create", "Create a container from an OCI bundle; its process waits for `start`");
  cmd->add_option("id", args->id, "Container id")->required();
  cmd->add_option("-b,--bundle", args->bundle, "Bundle directory (config.json, rootfs)")->capture_default_str();
  cmd->add_option("--console-socket", args->console_socket, "Unix socket that receives the pty master (terminal: true)");
  cmd->add_option("--pid-file", args->pid_file, "Write the container's init pid here");
  cmd->add_option("--preserve-fds", args->preserve_fds, "Pass this many extra descriptors (from fd 3) to the container");
  cmd->add_flag("--no-pivot", args->no_pivot, "Accepted for runc compatibility (skiff always uses pivot_root)");
  cmd->add_flag("--no-new-keyring", args->no_new_keyring, "Accepted for runc compatibility (no session keyring is created)");
  cmd->add_flag("--init", args->init, "Run a tiny reaper as pid 1 that forwards signals and reaps zombies");
  cmd->callback([args, &context] {
    context.guarded([&] {
      runtime::CreateOptions options;
      options.id = args->id;
      options.bundle = args->bundle;
      options.console_socket = args->console_socket;
      options.pid_file = args->pid_file;
      options.preserve_fds = args->preserve_fds;
      options.init_reaper = args->init;
      auto process = context.runtime().create(options);
      if (process.pty_master)
        fail(ErrorKind::invalid_argument,
             "create {}: terminal: true needs --console-socket: nobody would hold the pty once create returns", args->id);
    });
  });
}

}  // namespace skiff::cli
