#include "builder/executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "builder/dockerfile.h"
#include "builder/executor_parts.h"
#include "core/error.h"
#include "core/fs.h"
#include "image/assemble.h"

namespace skiff::builder {

namespace {

constexpr const char* epoch_arg = "SOURCE_DATE_EPOCH";

std::filesystem::path dockerfile_path(const BuildRequest& request) {
  if (request.dockerfile.empty()) return request.context / "Dockerfile";
  return request.dockerfile;
}

std::optional<std::int64_t> parse_epoch(const std::map<std::string, std::string>& args) {
  auto it = args.find(epoch_arg);
  if (it == args.end() || it->second.empty()) return std::nullopt;
  const std::string& text = it->second;
  bool digits = text.size() <= 12 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits)
    fail(ErrorKind::invalid_argument, "--build-arg {}={}: give the time as seconds since 1970 (e.g. $(git log -1 "
         "--format=%ct))", epoch_arg, text);
  return std::stoll(text);
}

void check_request(const BuildRequest& request) {
  if (request.network != "host" && request.network != "none")
    fail(ErrorKind::invalid_argument, "--network {}: builds support host (the default) and none", request.network);
  std::error_code ec;
  if (!std::filesystem::is_directory(request.context, ec))
    fail(ErrorKind::not_found, "unable to prepare context: path \"{}\" is not a directory", request.context.string());
}

std::vector<Reference> parse_tags(const BuildRequest& request, const Config& config) {
  std::vector<Reference> names;
  ReferencePolicy policy{config.default_registry};
  for (const auto& tag : request.tags) {
    Reference reference = [&] {
      try {
        return Reference::parse(tag, policy);
      } catch (const Error& e) {
        fail(ErrorKind::invalid_argument, "invalid tag \"{}\": {}", tag, e.what());
      }
    }();
    if (!reference.digest().empty())
      fail(ErrorKind::invalid_argument, "invalid tag \"{}\": a digest cannot be a tag; use NAME[:TAG]", tag);
    names.push_back(reference);
  }
  return names;
}

void build_wave(Build& build, const std::vector<size_t>& wave, Workspace& main) {
  unsigned limit = build.request.parallel ? build.request.parallel : std::max(1u, std::thread::hardware_concurrency());
  if (wave.size() == 1 || limit == 1) {
    for (size_t stage : wave) build.outputs[stage] = build_stage(build, main, stage);
    return;
  }
  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<size_t>(limit, wave.size()); ++t) {
    threads.emplace_back([&] {
      try {
        Workspace workspace(build.root_path);  // its own database connection
        for (size_t i = next++; i < wave.size(); i = next++) {
          if (build.failed) return;
          build.outputs[wave[i]] = build_stage(build, workspace, wave[i]);
        }
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        build.failed = true;
        if (build.interrupts) build.interrupts->kill_running();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (failure) std::rethrow_exception(failure);
}

ImageRecord write_image(Build& build, Workspace& workspace, const StageOutput& target,
                        const std::vector<Reference>& names) {
  int vertex = build.reporter.begin("exporting to image");
  Json config = target.image;
  for (const char* stale : {"container", "container_config", "docker_version", "parent", "id", "config_digest"})
    config.erase(stale);
  config["created"] = rfc3339(target.epoch);
  if (!config.contains("config") || !config["config"].is_object()) config["config"] = Json::object();
  if (!build.request.labels.empty()) {
    Json& labels = config["config"]["Labels"];
    if (!labels.is_object()) labels = Json::object();
    for (const auto& [key, value] : build.request.labels) labels[key] = value;
  }
  ImageRecord image = assemble_image_with_history(workspace.images, config, target.stack.layers, target.history, names);
  build.reporter.detail(vertex, fmt::format("writing image {}", image.id.str()));
  for (const auto& name : names) build.reporter.detail(vertex, fmt::format("naming to {}", name.str()));
  build.reporter.done(vertex);
  return image;
}

}  // namespace

BuildResult build(const std::filesystem::path& root, const Config& config, const BuildRequest& request,
                  BuildReporter& reporter) {
  // Everything that can be wrong with the request is found before the
  // store is opened.
  check_request(request);
  auto file = std::filesystem::absolute(request.dockerfile_text ? request.context / "Dockerfile" : dockerfile_path(request));
  auto text = request.dockerfile_text ? request.dockerfile_text : read_file_if_exists(file);
  if (!text) fail(ErrorKind::not_found, "failed to read dockerfile: open {}: no such file", file.string());
  Dockerfile dockerfile = parse_dockerfile(*text, file.filename().string());

  BuildOptions options;
  options.build_args = request.build_args;
  options.build_args.erase(epoch_arg);  // a setting of the build, not an ARG
  options.target = request.target;
  if (!request.platform.empty()) options.target_platform = Platform::parse(request.platform);
  std::vector<Reference> names = parse_tags(request, config);

  Build build{root, config, request, reporter, plan_build(std::move(dockerfile), options),
              SourceTree::context(request.context, file), parse_epoch(request.build_args),
              skiff::Platform::parse(options.target_platform.str()), {}, {}, {}, nullptr, {}, {}};
  for (const auto& warning : build.plan.dockerfile.warnings) reporter.message(warning);
  for (const auto& warning : build.plan.warnings) reporter.message(warning);
  build.outputs.resize(build.plan.stages.size());
  build.exported.resize(build.plan.stages.size());
  for (size_t s = build.plan.target;;) {
    build.exported[s] = true;
    const StagePlan& stage = build.plan.stages[s];
    if (stage.base.kind != StageRef::Kind::stage) break;
    s = stage.base.stage;
  }

  Workspace workspace(root);
  remove_stale_build_roots(workspace);
  // No garbage collection while this build holds blobs no image names yet.
  auto lease = workspace.images.lease();
  InterruptWatch interrupts;
  build.interrupts = &interrupts;
  try {
    for (const auto& wave : build.plan.levels) build_wave(build, wave, workspace);
  } catch (const Error& e) {
    if (!interrupts.interrupted()) throw;
    const char* name = sigabbrev_np(interrupts.signal());
    fail(ErrorKind::unavailable, "build interrupted by SIG{}: its containers were stopped; no image was tagged",
         name ? name : "?");
  }

  BuildResult result;
  result.image = write_image(build, workspace, *build.outputs.at(build.plan.target), names);
  result.steps = build.steps;
  result.warnings = build.plan.warnings;
  return result;
}

}  // namespace skiff::builder
