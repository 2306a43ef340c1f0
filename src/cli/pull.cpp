#include <fmt/format.h>

#include "cli/commands.h"
#include "core/progress.h"
#include "image/unpack.h"

namespace skiff::cli {

void add_pull_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("pull", "Download an image from a registry");
  cmd->footer("REF is [HOST[:PORT]/]NAME[:TAG][@DIGEST]; layers are verified against their digests.");
  static std::string reference;
  static bool quiet = false;
  static std::string platform;
  cmd->add_option("REF", reference, "Image to pull")->required();
  cmd->add_flag("-q,--quiet", quiet, "Print only the image name when done");
  cmd->add_option("--platform", platform, "OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this host)");
  cmd->callback([&context] {
    Reference ref = context.parse_reference(reference);
    Progress progress(quiet ? Progress::Mode::quiet : Progress::Mode::automatic);
    PullOptions options;
    if (!platform.empty()) options.platform = Platform::parse(platform);
    options.isolation = parse_isolation(context.config.default_isolation);
    options.registry = RegistryOptions::from(context.config);
    options.max_concurrent_downloads = context.config.max_concurrent_downloads;
    options.progress = &progress;
    ImageStore store(context.root());
    snapshot::Snapshotter snapshots(context.root());
    pull_and_unpack(store, snapshots, ref, options);
    fmt::print("{}\n", ref.str());
  });
}

}  // namespace skiff::cli
