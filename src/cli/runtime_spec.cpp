// skiff runtime spec: write (or print) skiff's default config.json.
#include <fmt/format.h>

#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff::cli {

namespace {
struct SpecArgs {
  std::string bundle = ".";
  bool print = false, rootless = false;
};
}  // namespace

void add_runtime_spec(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<SpecArgs>();
  auto* cmd = app.add_subcommand(
      "spec", "Write the default config.json into the bundle (podman's capabilities, seccomp, no_new_privs, masked /proc)");
  cmd->add_option("-b,--bundle", args->bundle, "Bundle directory")->capture_default_str();
  cmd->add_flag("--stdout", args->print, "Print the configuration instead of writing config.json");
  cmd->add_flag("--rootless", args->rootless, "Refused: skiff runs containers as root");
  cmd->callback([args, &context] {
    context.guarded([&] {
      if (args->rootless) fail(ErrorKind::unsupported, "spec --rootless: rootless containers are not supported yet");
      auto text = runtime::default_spec().dump(2) + "\n";
      if (args->print) {
        fmt::print("{}", text);
        return;
      }
      auto path = fs::path(args->bundle) / "config.json";
      if (fs::exists(path)) fail(ErrorKind::conflict, "{} exists already: remove it first", path.string());
      write_file_atomic(path, text, 0644, false);
    });
  });
}

}  // namespace skiff::cli
