// skiff commit: a container's changes as a new image.
#include <fmt/format.h>

#include "cli/commands.h"
#include "engine/engine.h"

namespace skiff::cli {

void add_commit_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("commit", "Create a new image from a container's changes");
  cmd->footer("The container's writable layer becomes a layer on top of its image (a running container is read\n"
              "as it is, without pausing). Prints the new image ID.\n"
              "--change takes CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or\n"
              "WORKDIR, as a Dockerfile line: --change 'CMD [\"/app\"]'.");
  static engine::CommitRequest request;
  cmd->add_option("CONTAINER", request.container, "Container name or ID (prefix)")->required();
  cmd->add_option("REPOSITORY[:TAG]", request.reference, "Name for the new image");
  cmd->add_option("-m,--message", request.message, "Commit message (the history entry's comment)");
  cmd->add_option("-a,--author", request.author, "Author (\"Name <email>\")");
  cmd->add_option("-c,--change", request.changes, "Apply a Dockerfile instruction to the image's config (repeatable)")
      ->allow_extra_args(false);  // one instruction per -c, as docker
  cmd->callback([&context] {
    engine::Engine engine(context.root(), context.config);
    auto image = engine.commit(request);
    fmt::print("{}\n", image.id.str());
  });
}

}  // namespace skiff::cli
