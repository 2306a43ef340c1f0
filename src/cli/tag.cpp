#include "cli/commands.h"
#include "image/store.h"

namespace skiff::cli {

void add_tag_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("tag", "Give an image another name");
  static std::string source, target;
  cmd->add_option("SOURCE", source, "Image name or ID")->required();
  cmd->add_option("TARGET", target, "New name, [HOST[:PORT]/]NAME[:TAG]")->required();
  cmd->callback([&context] {
    Reference name = context.parse_reference(target);
    ImageStore store(context.root());
    ImageRecord image = store.resolve(source, context.policy());
    store.tag(image.id, name);
  });
}

}  // namespace skiff::cli
