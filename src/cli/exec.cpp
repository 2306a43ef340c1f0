#include <fmt/format.h>

#include "cli/commands.h"
#include "engine/engine.h"
#include "core/error.h"

namespace skiff::cli {

void add_exec_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("exec", "Run a command in a running container");
  cmd->footer("Usage: skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  static std::string name;
  static engine::ExecRequest request;
  cmd->add_option("CONTAINER", name, "Container name or ID (prefix)")->required();
  cmd->add_flag("-i,--interactive", request.interactive, "Keep stdin open");
  cmd->add_flag("-t,--tty", request.tty, "Allocate a pseudo-terminal");
  cmd->add_option("-e,--env", request.env, "Set environment variables (KEY=VALUE)");
  cmd->add_option("-u,--user", request.user, "USER[:GROUP] to run as");
  cmd->add_option("-w,--workdir", request.workdir, "Working directory");
  cmd->callback([&context] {
    request.command = context.command_tail;
    if (request.command.empty())
      fail(ErrorKind::invalid_argument, "exec {}: give the command to run after the container", name);
    engine::Engine engine(context.root(), context.config);
    context.exit_code = engine.exec(name, request);
  });
}

}  // namespace skiff::cli
