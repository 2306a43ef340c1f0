// skiff builder: the build cache (prune, du).
#include <fmt/format.h>

#include "builder/cache_store.h"
#include "cli/commands.h"
#include "cli/confirm.h"
#include "core/humanize.h"

namespace skiff::cli {

namespace {

void add_prune_command(CLI::App& builder, Context& context) {
  auto* cmd = builder.add_subcommand("prune", "Remove build cache");
  static bool all = false, force = false;
  cmd->add_flag("-a,--all", all, "Remove all build cache, not only the layers no image uses");
  cmd->add_flag("-f,--force", force, "Do not prompt for confirmation");
  cmd->footer("Without --all, cache entries whose layers are in an image stay; the rest go, with the snapshots and\n"
              "blobs nothing else uses.");
  cmd->callback([&context] {
    std::string what = all ? "all build cache" : "the build cache no image uses";
    if (!force && !confirmed(fmt::format("WARNING! This will remove {}. Are you sure you want to continue?", what)))
      return;
    auto report = builder::prune_cache(context.root(), all);
    fmt::print("Deleted build cache entries: {} ({} snapshots, {} blobs)\n", report.entries, report.snapshots,
               report.blobs);
    fmt::print("Total reclaimed space: {}\n", human_size(report.reclaimed_bytes));
  });
}

void add_du_command(CLI::App& builder, Context& context) {
  auto* cmd = builder.add_subcommand("du", "Show the disk usage of the build cache");
  cmd->callback([&context] {
    auto usage = builder::cache_usage(context.root());
    fmt::print("Entries:   {}\n", usage.entries);
    fmt::print("Layers:    {}\n", usage.layers);
    fmt::print("Shared:    {} (layers images use too)\n", human_size(usage.shared_bytes));
    fmt::print("Total:     {}\n", human_size(usage.bytes));
  });
}

}  // namespace

void add_builder_command(CLI::App& app, Context& context) {
  auto* builder = app.add_subcommand("builder", "Manage the build cache");
  builder->require_subcommand(1);
  add_prune_command(*builder, context);
  add_du_command(*builder, context);
}

}  // namespace skiff::cli
