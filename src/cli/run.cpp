#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "engine/engine.h"
#include "core/progress.h"

namespace skiff::cli {

void add_run_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("run", "Run a command in a new container");
  cmd->footer("Usage: skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
              "Options end at IMAGE: everything after it is the container's command.");
  static container::RunOptions options;
  add_run_options(cmd, options);
  cmd->add_flag("-d,--detach", options.detach, "Run in the background and print the container ID");
  cmd->add_flag("--rm", options.remove, "Remove the container when it exits");
  cmd->callback([&context] {
    finish_run_options(options, context.command_tail);
    engine::Engine engine(context.root(), context.config);
    Progress progress(Progress::Mode::automatic, stderr);
    std::string id;
    int code = engine.run(options, id, &progress);
    if (options.detach) fmt::print("{}\n", id);
    context.exit_code = code;
  });
}

void add_create_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("create", "Create a container without starting it");
  cmd->footer("Usage: skiff create [OPTIONS] IMAGE [COMMAND [ARG...]]");
  static container::RunOptions options;
  add_run_options(cmd, options);
  cmd->add_flag("--rm", options.remove, "Remove the container when it exits");
  cmd->callback([&context] {
    finish_run_options(options, context.command_tail);
    engine::Engine engine(context.root(), context.config);
    Progress progress(Progress::Mode::automatic, stderr);
    fmt::print("{}\n", engine.create(options, &progress).id);
  });
}

}  // namespace skiff::cli
