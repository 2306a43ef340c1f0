#include <fmt/format.h>

#include "cli/commands.h"
#include "core/progress.h"
#include "image/push.h"

namespace skiff::cli {

void add_push_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("push", "Upload an image to a registry");
  cmd->footer("The image is the one named REF in the store; tag it first (skiff tag) to push it elsewhere.");
  static std::string reference;
  static bool quiet = false;
  cmd->add_option("REF", reference, "HOST[:PORT]/NAME[:TAG]")->required();
  cmd->add_flag("-q,--quiet", quiet, "Print nothing but errors");
  cmd->callback([&context] {
    Reference ref = context.parse_reference(reference);
    Progress progress(quiet ? Progress::Mode::quiet : Progress::Mode::automatic);
    PushOptions options;
    options.registry = RegistryOptions::from(context.config);
    options.max_concurrent_uploads = context.config.max_concurrent_downloads;
    options.progress = &progress;
    ImageStore store(context.root());
    push(store, ref, options);
  });
}

}  // namespace skiff::cli
