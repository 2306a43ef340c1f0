// skiff: parse the global options, hand over to one command, and turn any
// error into one line on stderr and a non-zero exit.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cli/command_tail.h"
#include "cli/commands.h"
#include "cli/runtime_commands.h"
#include "core/error.h"
#include "core/log.h"

namespace {

int error_exit(const std::string& message, int code) {
  fmt::print(stderr, "skiff: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skiff;
  if (cli::invoked_as_runtime(argv[0])) return cli::runtime_main(argc, argv);
  cli::Context context;
  CLI::App app{"skiff: containers on a nano base, under process or VM isolation", "skiff"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("-v,--version", std::string("skiff version ") + SKIFF_VERSION);
  app.add_option("--root", context.root_path, "Store root (default $SKIFF_ROOT or /var/lib/skiff)");
  app.add_option("--log-level", context.log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--insecure-registry", context.insecure_registries,
                 "Registry reached over plain HTTP (repeatable)");
  for (auto registrar : cli::all_commands) registrar(app, context);
  // Runs after parsing, before the command's callback.
  app.parse_complete_callback([&context] {
    log::set_level(log::parse_level(context.log_level));
    context.config = Config::load();
    for (const auto& r : context.insecure_registries) context.config.insecure_registries.push_back(r);
  });

  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    context.command_tail = cli::split_command_tail(app, args);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    return app.exit(CLI::CallForHelp());
  } catch (const CLI::CallForAllHelp&) {
    return app.exit(CLI::CallForAllHelp());
  } catch (const CLI::CallForVersion& e) {
    fmt::print("{}\n", e.what());
    return 0;
  } catch (const CLI::ParseError& e) {
    if (app.get_subcommands().empty() && argc > 1) {
      // The first word that is not an option names the command.
      for (int i = 1; i < argc; ++i) {
        std::string word = argv[i];
        if (word.starts_with("-")) {
          if (word == "--root" || word == "--log-level" || word == "--insecure-registry") ++i;
          continue;
        }
        return error_exit(fmt::format("unknown command \"{}\"; see 'skiff --help'", word), 2);
      }
    }
    std::string command = app.get_subcommands().empty() ? "" : " " + app.get_subcommands().front()->get_name();
    return error_exit(fmt::format("{}; see 'skiff{} --help'", e.what(), command), 2);
  } catch (const Error& e) {
    // docker run's convention: 125 when the engine failed before the
    // container's command could run (126/127 come from the command).
    bool runs_a_container = app.got_subcommand("run") || app.got_subcommand("create") ||
                            app.got_subcommand("start") || app.got_subcommand("exec");
    return error_exit(e.what(), runs_a_container ? 125 : 1);
  }
  return context.exit_code;
}
