// skiff: parse the global options, hand over to one command, and turn any
// error into one line on stderr and a non-zero exit.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"

namespace {

constexpr skiff::cli::CommandRegistrar registrars[] = {
    skiff::cli::add_version_command,
    skiff::cli::add_info_command,
    skiff::cli::add_vm_command,
};

int error_exit(const std::string& message, int code) {
  fmt::print(stderr, "skiff: {}\n", message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skiff;
  cli::Context context;
  CLI::App app{"skiff: containers on a nano base, under process or VM isolation", "skiff"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("-v,--version", std::string("skiff version ") + SKIFF_VERSION);
  app.add_option("--root", context.root_path, "Store root (default $SKIFF_ROOT or /var/lib/skiff)");
  app.add_option("--log-level", context.log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--insecure-registry", context.insecure_registries,
                 "Registry reached over plain HTTP (repeatable)");
  for (auto registrar : registrars) registrar(app, context);
  // Runs after parsing, before the command's callback.
  app.parse_complete_callback([&context] {
    log::set_level(log::parse_level(context.log_level));
    context.config = Config::load();
    for (const auto& r : context.insecure_registries) context.config.insecure_registries.push_back(r);
  });

  try {
    app.parse(argc, argv);
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
    return error_exit(e.what(), 1);
  }
  return context.exit_code;
}
