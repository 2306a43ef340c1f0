// skiff system prune: docker's, over containers, images, the build cache
// and then the snapshots and blobs nothing needs.
#include <fmt/format.h>

#include "cli/confirm.h"
#include "cli/system_commands.h"
#include "core/humanize.h"
#include "engine/engine.h"

namespace skiff::cli {

void add_system_prune(CLI::App& system, Context& context) {
  auto* cmd = system.add_subcommand("prune", "Remove stopped containers, unused images and build cache");
  cmd->footer("Removes every stopped container, the images without a tag that no container uses, the build cache\n"
              "no image uses, then the snapshots and blobs nothing needs any more. With -a: every image no\n"
              "container uses and all build cache.");
  static bool all = false, force = false;
  cmd->add_flag("-a,--all", all, "Remove every image no container uses, not only untagged ones, and all build cache");
  cmd->add_flag("-f,--force", force, "Do not prompt for confirmation");
  cmd->callback([&context] {
    std::string images = all ? "all images without at least one container associated to them"
                             : "all dangling images";
    std::string cache = all ? "all build cache" : "unused build cache";
    std::string question = fmt::format(
        "WARNING! This will remove:\n  - all stopped containers\n  - {}\n  - {}\n\nAre you sure you want to continue?",
        images, cache);
    if (!force && !confirmed(question)) return;
    engine::Engine engine(context.root(), context.config);
    auto report = engine.prune(all);
    if (!report.containers.empty()) {
      fmt::print("Deleted Containers:\n");
      for (const auto& id : report.containers) fmt::print("{}\n", id);
      fmt::print("\n");
    }
    if (!report.untagged.empty() || !report.images.empty()) {
      fmt::print("Deleted Images:\n");
      for (const auto& name : report.untagged) fmt::print("untagged: {}\n", name);
      for (const auto& id : report.images) fmt::print("deleted: {}\n", id.str());
      fmt::print("\n");
    }
    if (report.cache_entries > 0) fmt::print("Deleted build cache entries: {}\n\n", report.cache_entries);
    const auto& r = report.reclaimed;
    if (r.snapshots > 0 || r.blobs > 0 || r.vm_images > 0)
      fmt::print("Deleted snapshots: {}, VM root images: {}, blobs: {}\n\n", r.snapshots, r.vm_images, r.blobs);
    fmt::print("Total reclaimed space: {}\n", human_size(report.reclaimed.bytes));
  });
}

}  // namespace skiff::cli
