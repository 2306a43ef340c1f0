#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fd.h"
#include "image/archive.h"

namespace skiff::cli {

void add_load_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("load", "Load images from a tar archive (OCI layout or docker save)");
  static std::string input;
  static bool quiet = false;
  cmd->add_option("-i,--input", input, "Archive to read (default: standard input)");
  cmd->add_flag("-q,--quiet", quiet, "Print nothing");
  cmd->callback([&context] {
    UniqueFd fd;
    int source = STDIN_FILENO;
    if (!input.empty() && input != "-") {
      fd.reset(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) fail_errno("load: open " + input);
      source = fd.get();
    } else if (::isatty(STDIN_FILENO)) {
      fail(ErrorKind::invalid_argument, "load: no archive: use -i FILE or redirect standard input");
    }
    ImageStore store(context.root());
    auto loaded = load_images(store, source, context.policy());
    if (quiet) return;
    for (const auto& image : loaded) {
      if (image.names.empty()) fmt::print("Loaded image ID: {}\n", image.id.str());
      for (const auto& name : image.names)
        fmt::print("Loaded image: {}\n", name.familiar_name(context.policy()) + (name.digest().empty() ? ":" + name.tag() : "@" + name.digest()));
    }
  });
}

}  // namespace skiff::cli
