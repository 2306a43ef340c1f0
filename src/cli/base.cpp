// skiff base: skiff's own base images. `skiff base rootfs FLAVOUR DIR`
// builds only the root filesystem (a debugging and measuring aid; the image
// itself comes from `skiff base build`).
#include <fmt/format.h>

#include <cstdio>

#include "base/base.h"
#include "base/image.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "core/humanize.h"
#include "core/json.h"

namespace skiff::cli {

namespace {

void add_rootfs_command(CLI::App& base, Context& context) {
  auto* cmd = base.add_subcommand("rootfs", "Build the root filesystem of a base image flavour into a new directory");
  static std::string flavour, directory, release = base::default_release, format;
  static std::int64_t epoch = -1;
  static bool refresh = false;
  cmd->add_option("flavour", flavour, "nano, nano-noshell or core (images/<flavour>.slices)")->required();
  cmd->add_option("directory", directory, "Where the tree goes; must not exist or be empty")->required();
  cmd->add_option("--release", release, "Debian release the packages come from")->capture_default_str();
  cmd->add_option("--source-date-epoch", epoch, "Clamp mtimes to this time (default: the release's base-files date)");
  cmd->add_flag("--refresh", refresh, "Re-read the mirror's package lists even if the cached ones are recent");
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->footer(
      "Packages come through the host's apt configuration and are cached under ROOT/cache/debs/RELEASE.\n"
      "The definitions live in " + base::definitions_dir().string() + " (override with SKIFF_IMAGES_DIR).");
  cmd->callback([&context] {
    bool json = wants_json(format);
    Progress progress(json ? Progress::Mode::quiet : Progress::Mode::automatic, stdout);
    base::BuildOptions options;
    options.release = release;
    options.cache_dir = context.root().cache_dir();
    options.refresh_lists = refresh;
    options.progress = &progress;
    if (epoch >= 0) options.source_date_epoch = epoch;
    auto spec = base::build_rootfs(flavour, directory, options);
    auto size = base::measure_tree(directory);
    auto digest = base::tree_digest(directory);
    if (json) {
      Json packages = Json::array();
      for (const auto& p : spec.packages)
        packages.push_back({{"Package", p.name}, {"Version", p.version}, {"Source", p.source},
                            {"SourceVersion", p.source_version}});
      Json out = {{"Flavour", spec.flavour}, {"Release", spec.release}, {"Directory", directory},
                  {"Tags", spec.tags}, {"SourceDateEpoch", spec.source_date_epoch},
                  {"Config", spec.to_oci_config()}, {"Packages", packages}, {"TreeDigest", digest},
                  {"Size", {{"Entries", size.entries}, {"Unpacked", size.unpacked_bytes},
                            {"Tar", size.tar_bytes}, {"TarGzip", size.tar_gzip_bytes}}}};
      fmt::print("{}\n", out.dump());
      return;
    }
    fmt::print("{} ({}) in {}\n", spec.flavour, spec.release, directory);
    fmt::print("  tags:      {}\n", fmt::join(spec.tags, " "));
    fmt::print("  created:   {} (SOURCE_DATE_EPOCH={})\n", spec.created, spec.source_date_epoch);
    fmt::print("  user:      {}\n", spec.config.user.empty() ? "root" : spec.config.user);
    fmt::print("  cmd:       {}\n", fmt::join(spec.config.cmd, " "));
    fmt::print("  packages:  {} ({})\n", spec.packages.size(), spec.config.labels["org.skiff.packages"].size() > 200
                                                                  ? "see --format json"
                                                                  : spec.config.labels["org.skiff.packages"]);
    fmt::print("  size:      {} unpacked ({} bytes), {} as tar.gz ({} bytes), {} entries\n",
               human_size(size.unpacked_bytes), size.unpacked_bytes, human_size(size.tar_gzip_bytes),
               size.tar_gzip_bytes, size.entries);
    fmt::print("  tree:      {}\n", digest);
  });
}

void add_base_build_command(CLI::App& base, Context& context) {
  auto* cmd = base.add_subcommand("build", "Build base images into the store (nano, nano-noshell, core)");
  static std::vector<std::string> flavours_to_build;
  static std::string release = base::default_release;
  static bool refresh = false, quiet = false;
  cmd->add_option("flavour", flavours_to_build, "nano (also builds nano-noshell), nano-noshell or core")->required();
  cmd->add_option("--release", release, "Debian release the packages come from")->capture_default_str();
  cmd->add_flag("--refresh", refresh, "Re-read the mirror's package lists even if the cached ones are recent");
  cmd->add_flag("-q,--quiet", quiet, "Print only the image IDs");
  cmd->footer("Reproducible: the same release and packages give the same image digest.");
  cmd->callback([&context] {
    std::vector<std::string> todo;
    for (const auto& f : flavours_to_build) {
      todo.push_back(f);
      // nano's users want the production flavour beside it, as the article pairs them.
      if (f == "nano") todo.push_back("nano-noshell");
    }
    Progress progress(quiet ? Progress::Mode::quiet : Progress::Mode::automatic, stdout);
    for (const auto& flavour : todo) {
      base::BuildOptions options;
      options.release = release;
      options.cache_dir = context.root().cache_dir();
      options.refresh_lists = refresh;
      options.progress = &progress;
      auto built = base::build_image(context.root(), flavour, options);
      if (quiet) {
        fmt::print("{}\n", built.image.id.str());
        continue;
      }
      progress.message(fmt::format("{}: {} ({} compressed, {} unpacked), tags {}", flavour,
                                   built.image.id.short_hex(), human_size(built.layer_size),
                                   human_size(built.unpacked_size), fmt::join(built.spec.tags, " ")));
    }
  });
}

}  // namespace

void add_base_command(CLI::App& app, Context& context) {
  auto* base = app.add_subcommand("base", "skiff's own base images: nano, nano-noshell and core");
  base->require_subcommand(1);
  add_base_build_command(*base, context);
  add_rootfs_command(*base, context);
}

}  // namespace skiff::cli
