#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "engine/engine.h"

namespace skiff::cli {

void add_rmi_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("rmi", "Remove images");
  cmd->footer("A name removes that name, and the image with its last name; an ID removes the image.\n"
              "The snapshots and blobs no image, container or build cache entry uses any more are deleted.");
  static std::vector<std::string> names;
  static bool force = false;
  cmd->add_option("IMAGE", names, "Image name or ID (prefix)")->required();
  cmd->add_flag("-f,--force", force, "Remove an image in use by a container (untags it) or named in several repositories");
  cmd->callback([&context] {
    engine::Engine engine(context.root(), context.config);
    std::vector<std::string> errors;
    for (const auto& name : names) {
      try {
        auto removal = engine.remove_image(name, force);
        for (const auto& u : removal.untagged) fmt::print("Untagged: {}\n", u);
        for (const auto& d : removal.deleted) fmt::print("Deleted: {}\n", d.str());
      } catch (const Error& e) {
        if (names.size() == 1) throw;
        errors.push_back(e.what());
      }
    }
    engine.collect_garbage();
    for (const auto& e : errors) fmt::print(stderr, "skiff: {}\n", e);
    if (!errors.empty()) context.exit_code = 1;
  });
}

}  // namespace skiff::cli
