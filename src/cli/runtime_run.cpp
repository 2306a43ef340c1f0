// skiff runtime run: create + start + wait + delete in the foreground, or
// create + start with --detach.
#include <fmt/format.h>

#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"

namespace skiff::cli {

namespace {
struct RunArgs {
  std::string id, bundle = ".", console_socket, pid_file;
  int preserve_fds = 0;
  bool detach = false, keep = false, init = false, no_subreaper = false, no_pivot = false, no_new_keyring = false;
};
}  // namespace

void add_runtime_run(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Create and start a container, wait for it and delete it (exit status passes through)");
  cmd->add_option("id", args->id, "Container id")->required();
  cmd->add_option("-b,--bundle", args->bundle, "Bundle directory (config.json, rootfs)")->capture_default_str();
  cmd->add_option("--console-socket", args->console_socket, "Unix socket that receives the pty master (terminal: true)");
  cmd->add_option("--pid-file", args->pid_file, "Write the container's init pid here");
  cmd->add_option("--preserve-fds", args->preserve_fds, "Pass this many extra descriptors (from fd 3) to the container");
  cmd->add_flag("-d,--detach", args->detach, "Return once the container runs");
  cmd->add_flag("--keep", args->keep, "Keep the container's state after it exits");
  cmd->add_flag("--init", args->init, "Run a tiny reaper as pid 1 that forwards signals and reaps zombies");
  cmd->add_flag("--no-subreaper", args->no_subreaper, "Accepted for runc compatibility");
  cmd->add_flag("--no-pivot", args->no_pivot, "Accepted for runc compatibility (skiff always uses pivot_root)");
  cmd->add_flag("--no-new-keyring", args->no_new_keyring, "Accepted for runc compatibility");
  cmd->callback([args, &context] {
    context.guarded([&] {
      runtime::RunOptions options;
      options.id = args->id;
      options.bundle = args->bundle;
      options.console_socket = args->console_socket;
      options.pid_file = args->pid_file;
      options.preserve_fds = args->preserve_fds;
      options.init_reaper = args->init;
      options.keep = args->keep;
      auto runtime = context.runtime();
      if (args->detach) {
        auto process = runtime.create(options);
        if (process.pty_master)
          fail(ErrorKind::invalid_argument, "run -d {}: terminal: true needs --console-socket when detached", args->id);
        runtime.start(args->id);
        return;
      }
      auto status = runtime.run(options);
      if (status.oom_killed) fmt::print(stderr, "skiff-runtime: container {} was killed by the OOM killer (memory limit)\n", args->id);
      context.set_exit_code(status.exit_code);
    });
  });
}

}  // namespace skiff::cli
