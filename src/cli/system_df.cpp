// skiff system df: docker's disk usage table (and -v detail, --format json).
#include <fmt/format.h>

#include "cli/system_commands.h"
#include "cli/table.h"
#include "core/humanize.h"
#include "core/json.h"
#include "engine/engine.h"

namespace skiff::cli {

namespace {

std::string reclaimable_text(const engine::UsageRow& row) {
  std::string text = human_size(row.reclaimable);
  if (row.bytes > 0) text += fmt::format(" ({}%)", row.reclaimable * 100 / row.bytes);
  return text;
}

Json row_json(const engine::UsageRow& row) {
  // docker's keys (strings), and the numbers for scripts.
  return {{"Type", row.type},
          {"TotalCount", std::to_string(row.total)},
          {"Active", std::to_string(row.active)},
          {"Size", human_size(row.bytes)},
          {"Reclaimable", reclaimable_text(row)},
          {"SizeBytes", row.bytes},
          {"ReclaimableBytes", row.reclaimable}};
}

std::string short_id(const std::string& id) {
  auto hex = id.starts_with("sha256:") ? id.substr(7) : id;
  return hex.substr(0, 12);
}

void print_detail(const engine::DiskUsage& usage) {
  fmt::print("\nImages space usage:\n\n");
  Table images({"REPOSITORY:TAG", "IMAGE ID", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"});
  for (const auto& i : usage.images) {
    std::vector<std::string> names = i.names;
    if (names.empty()) names.push_back("<none>:<none>");
    for (const auto& name : names)
      images.add({name, short_id(i.id), human_size(i.bytes), human_size(i.shared_bytes),
                  human_size(i.bytes - i.shared_bytes), std::to_string(i.containers)});
  }
  images.print();
  fmt::print("\nContainers space usage:\n\n");
  Table containers({"CONTAINER ID", "IMAGE", "SIZE", "STATUS", "NAMES"});
  for (const auto& c : usage.containers)
    containers.add({short_id(c.id), c.image, human_size(c.bytes), c.state, c.name});
  containers.print();
  fmt::print("\nBuild cache usage: {}\n\n", human_size(usage.rows.back().bytes));
  Table cache({"CACHE ID", "SIZE", "SHARED", "DESCRIPTION"});
  for (const auto& e : usage.build_cache)
    cache.add({short_id(e.id), human_size(e.bytes), e.shared ? "true" : "false", e.description});
  cache.print();
}

Json detail_json(const engine::DiskUsage& usage) {
  Json out = {{"Types", Json::array()}, {"Images", Json::array()}, {"Containers", Json::array()},
              {"BuildCache", Json::array()}};
  for (const auto& row : usage.rows) out["Types"].push_back(row_json(row));
  for (const auto& i : usage.images)
    out["Images"].push_back({{"ID", i.id}, {"RepoTags", i.names}, {"Created", i.created}, {"Size", i.bytes},
                             {"SharedSize", i.shared_bytes}, {"Containers", i.containers}});
  for (const auto& c : usage.containers)
    out["Containers"].push_back(
        {{"ID", c.id}, {"Names", c.name}, {"Image", c.image}, {"State", c.state}, {"SizeRw", c.bytes}});
  for (const auto& e : usage.build_cache)
    out["BuildCache"].push_back({{"ID", e.id}, {"Description", e.description}, {"Size", e.bytes}, {"Shared", e.shared}});
  return out;
}

}  // namespace

void add_system_df(CLI::App& system, Context& context) {
  auto* cmd = system.add_subcommand("df", "Show the disk usage of images, snapshots, containers and the build cache");
  cmd->footer("Images: their blobs (compressed layers, configs, manifests). Snapshots: the unpacked layers.\n"
              "VM Root Images: the erofs images VM isolation boots from, one per image.\n"
              "Containers: their writable layers. RECLAIMABLE: what `skiff system prune -a` would free.");
  static bool verbose = false;
  static std::string format;
  cmd->add_flag("-v,--verbose", verbose, "Show the usage of each image, container and build cache entry");
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    bool json = wants_json(format);
    engine::Engine engine(context.root(), context.config);
    auto usage = engine.disk_usage();
    if (json && verbose) {
      fmt::print("{}\n", detail_json(usage).dump());
      return;
    }
    if (json) {
      for (const auto& row : usage.rows) fmt::print("{}\n", row_json(row).dump());
      return;
    }
    Table table({"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"});
    for (const auto& row : usage.rows)
      table.add({row.type, std::to_string(row.total), std::to_string(row.active), human_size(row.bytes),
                 reclaimable_text(row)});
    table.print();
    if (verbose) print_detail(usage);
  });
}

}  // namespace skiff::cli
