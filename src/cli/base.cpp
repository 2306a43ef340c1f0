// skiff base: skiff's own base images. `skiff base rootfs FLAVOUR DIR`
// builds only the root filesystem (a debugging and measuring aid; the image
// itself comes from `skiff base build`).
#include <fmt/format.h>

#include <cstdio>

#include "base/base.h"
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

}  // namespace

void add_base_command(CLI::App& app, Context& context) {
  auto* base = app.add_subcommand("base", "skiff's own base images: nano, nano-noshell and core");
  base->require_subcommand(1);
  add_rootfs_command(*base, context);
}

}  // namespace skiff::cli
