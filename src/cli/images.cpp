#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/humanize.h"
#include "image/inspect.h"

namespace skiff::cli {

namespace {

struct Row {
  std::string repository, tag, digest, id;
  std::string created_at, created_since;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point created;
};

std::uint64_t display_size(ImageStore& store, const ImageRecord& image) {
  // docker shows the unpacked size; skiff knows it once the layers are unpacked.
  try {
    std::uint64_t total = 0;
    for (const auto& layer : stored_manifest(store, image).layers) {
      auto unpacked = store.unpacked_size(layer.digest);
      if (!unpacked) return image.size;
      total += *unpacked;
    }
    return total;
  } catch (const Error&) {
    return image.size;
  }
}

}  // namespace

void add_images_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("images", "List images");
  cmd->alias("image-ls");
  cmd->footer("SIZE is the unpacked size once the layers are unpacked, the compressed size before.");
  static bool quiet = false, digests = false;
  static std::string format, filter;
  cmd->add_flag("-q,--quiet", quiet, "Only show image IDs");
  cmd->add_flag("--digests", digests, "Show digests");
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->add_option("REPOSITORY", filter, "Only images of this repository (NAME or NAME:TAG)");
  cmd->callback([&context] {
    bool json = wants_json(format);
    std::optional<Reference> wanted;
    bool wanted_tag = false;
    if (!filter.empty()) {
      wanted = context.parse_reference(filter);
      auto slash = filter.rfind('/');
      wanted_tag = filter.find(':', slash == std::string::npos ? 0 : slash) != std::string::npos;
    }
    ImageStore store(context.root());
    auto policy = context.policy();
    std::vector<Row> rows;
    for (const auto& image : store.list()) {
      Row base;
      base.id = image.id.short_hex();
      base.size = display_size(store, image);
      if (!image.created.empty()) {
        try {
          base.created = parse_rfc3339(image.created);
          base.created_at = image.created;
          base.created_since = time_ago(base.created);
        } catch (const std::exception&) {
        }
      }
      if (base.created_since.empty()) base.created_since = "N/A";
      auto digest_for = [&](const std::string& repository) {
        for (const auto& d : image.digests)
          if (d.name() == repository) return d.digest();
        return std::string("<none>");
      };
      std::vector<Row> mine;
      std::set<std::string> tagged_repositories;
      for (const auto& t : image.tags) {
        Row r = base;
        r.repository = t.familiar_name(policy);
        r.tag = t.tag();
        r.digest = digest_for(t.name());
        tagged_repositories.insert(t.name());
        if (wanted && (t.name() != wanted->name() || (wanted_tag && t.tag() != wanted->tag()))) continue;
        mine.push_back(r);
      }
      for (const auto& d : image.digests) {
        if (tagged_repositories.count(d.name())) continue;
        tagged_repositories.insert(d.name());
        Row r = base;
        r.repository = d.familiar_name(policy);
        r.tag = "<none>";
        r.digest = d.digest();
        if (wanted && (d.name() != wanted->name() || wanted_tag)) continue;
        mine.push_back(r);
      }
      if (image.tags.empty() && image.digests.empty() && !wanted) {
        Row r = base;
        r.repository = r.tag = r.digest = "<none>";
        mine.push_back(r);
      }
      rows.insert(rows.end(), mine.begin(), mine.end());
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.created > b.created; });

    if (quiet) {
      std::set<std::string> seen;
      for (const auto& r : rows)
        if (seen.insert(r.id).second) fmt::print("{}\n", r.id);
      return;
    }
    if (json) {
      for (const auto& r : rows) {
        Json j = {{"Repository", r.repository}, {"Tag", r.tag},          {"Digest", r.digest},
                  {"ID", r.id},                 {"CreatedAt", r.created_at}, {"CreatedSince", r.created_since},
                  {"Size", human_size(r.size)}, {"VirtualSize", human_size(r.size)}};
        fmt::print("{}\n", j.dump());
      }
      return;
    }
    std::vector<std::string> header = {"REPOSITORY", "TAG"};
    if (digests) header.push_back("DIGEST");
    header.insert(header.end(), {"IMAGE ID", "CREATED", "SIZE"});
    Table table(header);
    for (const auto& r : rows) {
      std::vector<std::string> row = {r.repository, r.tag};
      if (digests) row.push_back(r.digest);
      row.insert(row.end(), {r.id, r.created_since, human_size(r.size)});
      table.add(row);
    }
    table.print();
  });
}

}  // namespace skiff::cli
