#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <set>

#include "base/base.h"
#include "base/steps.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/host.h"
#include "core/strings.h"

namespace skiff::base {

std::filesystem::path definitions_dir() {
  if (const char* env = std::getenv("SKIFF_IMAGES_DIR"); env && *env) return env;
#ifdef SKIFF_SOURCE_IMAGES_DIR
  if (std::filesystem::is_directory(SKIFF_SOURCE_IMAGES_DIR)) return SKIFF_SOURCE_IMAGES_DIR;
#endif
  return "/usr/share/skiff/images";
}

std::vector<std::string> flavours(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator(); ++it)
    if (it->path().extension() == ".slices") out.push_back(it->path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

Json BaseImageSpec::to_oci_config() const {
  Json config = Json::object();
  if (!this->config.user.empty()) config["User"] = this->config.user;
  if (!this->config.env.empty()) config["Env"] = this->config.env;
  if (!this->config.entrypoint.empty()) config["Entrypoint"] = this->config.entrypoint;
  if (!this->config.cmd.empty()) config["Cmd"] = this->config.cmd;
  if (!this->config.working_dir.empty()) config["WorkingDir"] = this->config.working_dir;
  if (!this->config.stop_signal.empty()) config["StopSignal"] = this->config.stop_signal;
  if (!this->config.labels.empty()) config["Labels"] = this->config.labels;
  return {{"created", created}, {"architecture", architecture}, {"os", os}, {"config", config}};
}

namespace {

std::string rfc3339(std::int64_t epoch) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(epoch)));
}

std::filesystem::path definition_file(const std::string& flavour, const std::filesystem::path& dir) {
  static const std::regex name("[a-z0-9][a-z0-9-]*");
  auto file = dir / (flavour + ".slices");
  if (!std::regex_match(flavour, name) || !std::filesystem::is_regular_file(file)) {
    auto known = flavours(dir);
    fail(ErrorKind::not_found, "unknown base image flavour \"{}\" (known: {}; definitions in {})", flavour,
         known.empty() ? "none" : join(known, ", "), dir.string());
  }
  return file;
}

void check_output_dir(const std::filesystem::path& out_dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(out_dir, ec))) return;
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(out_dir)) ||
      !std::filesystem::is_empty(out_dir))
    fail(ErrorKind::conflict, "{}: exists and is not an empty directory; name a new directory for the root filesystem",
         out_dir.string());
}

std::string join_versions(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return join(items, " ");
}

void fill_labels(BaseImageSpec& spec, const ImageDefinition& definition) {
  auto& labels = spec.config.labels;
  std::vector<std::string> binaries, sources;
  for (const auto& p : spec.packages) {
    binaries.push_back(p.name + "=" + p.version);
    sources.push_back(p.source + "=" + p.source_version);
  }
  labels["org.opencontainers.image.title"] = "skiff " + spec.flavour;
  if (!definition.description.empty()) labels["org.opencontainers.image.description"] = definition.description;
  labels["org.opencontainers.image.created"] = spec.created;
  labels["org.opencontainers.image.version"] =
      fmt::format("{}-{:%Y%m%d}", spec.release, fmt::gmtime(static_cast<std::time_t>(spec.source_date_epoch)));
  labels["org.opencontainers.image.vendor"] = "skiff";
  labels["org.skiff.flavour"] = spec.flavour;
  labels["org.skiff.release"] = spec.release;
  labels["org.skiff.packages"] = join_versions(binaries);
  labels["org.skiff.source-packages"] = join_versions(sources);
}

std::vector<std::string> tags_for(const std::string& image, const std::string& variant, const std::string& release) {
  std::vector<std::string> tags;
  tags.push_back(image + ":" + release + (variant.empty() ? "" : "-" + variant));
  if (release == default_release) tags.push_back(image + ":" + (variant.empty() ? "latest" : variant));
  return tags;
}

}  // namespace

BaseImageSpec build_rootfs(const std::string& flavour, const std::filesystem::path& out_dir,
                           const BuildOptions& options) {
  auto file = definition_file(flavour, options.definitions_dir);
  ImageDefinition definition = load_definition(file, options.release);
  check_output_dir(out_dir);
  if (options.cache_dir.empty()) fail(ErrorKind::internal, "build_rootfs: no cache directory");

  BaseImageSpec spec;
  spec.flavour = flavour;
  spec.image = definition.image;
  spec.variant = definition.variant;
  spec.release = options.release;
  spec.tags = tags_for(definition.image, definition.variant, options.release);
  spec.architecture = host_architecture();

  AptRepository repository(options.release, options.cache_dir);
  repository.update(options.refresh_lists, options.progress);

  // The epoch: the build date of the release's base-files, rebuilt for every
  // point release. Newer files are clamped to it, so the tree depends only on
  // the package versions, never on when it was built.
  std::vector<std::string> names;
  for (const auto& p : definition.packages) names.push_back(p.name);
  if (std::find(names.begin(), names.end(), "base-files") == names.end()) names.push_back("base-files");
  std::vector<FetchedPackage> fetched;
  try {
    fetched = repository.fetch(names, options.progress);
  } catch (const Error& e) {
    rethrow_with_context(e, file.string());
  }
  auto base_files = std::find_if(fetched.begin(), fetched.end(), [](auto& p) { return p.name == "base-files"; });
  spec.source_date_epoch = options.source_date_epoch.value_or(base_files->build_time);
  spec.created = rfc3339(spec.source_date_epoch);

  auto parent = out_dir.parent_path().empty() ? std::filesystem::path(".") : out_dir.parent_path();
  ensure_dir(parent);
  TempDir work(parent, ".skiff-rootfs-");
  auto root = work.path() / "rootfs";

  if (!definition.bootstrap.empty()) {
    bootstrap_tree(definition, repository, spec.source_date_epoch, root, options.progress);
    spec.packages = installed_packages(root);
  } else {
    ensure_dir(root);
    for (const auto& p : definition.packages) {
      auto f = std::find_if(fetched.begin(), fetched.end(), [&](auto& x) { return x.name == p.name; });
      spec.packages.push_back({f->name, f->version, f->source, f->source_version});
    }
  }
  std::sort(spec.packages.begin(), spec.packages.end(), [](auto& a, auto& b) { return a.name < b.name; });

  RootTree tree(root);
  tree.make_directory("", 0755);
  if (definition.bootstrap.empty()) {
    make_merged_usr(tree);
    extract_slices(definition, fetched, tree, options.progress);
  }
  apply_directives(definition, tree);
  run_generators(definition, flavour, tree);
  apply_removals(definition, tree);
  clamp_mtimes(root, spec.source_date_epoch);

  spec.config.user = definition.config.user;
  spec.config.env = definition.config.env;
  spec.config.entrypoint = definition.config.entrypoint;
  spec.config.cmd = definition.config.cmd;
  spec.config.working_dir = definition.config.working_dir;
  spec.config.stop_signal = definition.config.stop_signal;
  fill_labels(spec, definition);
  for (const auto& [k, v] : definition.config.labels) spec.config.labels[k] = v;

  std::error_code ec;
  std::filesystem::remove(out_dir, ec);  // an empty directory, checked above
  if (::rename(root.c_str(), out_dir.c_str()) != 0) fail_errno("move the finished tree to " + out_dir.string());
  return spec;
}

}  // namespace skiff::base
