// skiff build: parses docker's options and prints; the build itself is
// builder::build (src/builder/executor.h).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "builder/executor.h"
#include "builder/stages.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff::cli {

namespace {

builder::ConsoleReporter::Mode progress_mode(const std::string& progress, bool quiet) {
  if (quiet) return builder::ConsoleReporter::Mode::quiet;
  if (progress == "auto") return builder::ConsoleReporter::Mode::automatic;
  if (progress == "plain") return builder::ConsoleReporter::Mode::plain;
  if (progress == "tty") return builder::ConsoleReporter::Mode::tty;
  if (progress == "quiet") return builder::ConsoleReporter::Mode::quiet;
  fail(ErrorKind::invalid_argument, "--progress {}: use auto, plain, tty or quiet", progress);
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& labels) {
  std::map<std::string, std::string> out;
  for (const auto& label : labels) {
    auto eq = label.find('=');
    std::string key = label.substr(0, eq);
    if (key.empty()) fail(ErrorKind::invalid_argument, "--label \"{}\": the key is empty (use KEY=VALUE)", label);
    out[key] = eq == std::string::npos ? std::string() : label.substr(eq + 1);
  }
  return out;
}

}  // namespace

void add_build_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("build", "Build an image from a Dockerfile");
  cmd->footer(
      "Usage: skiff build [OPTIONS] CONTEXT\n"
      "Stages the target does not need are skipped; independent stages build in parallel. Each RUN, COPY, ADD and\n"
      "WORKDIR is cached in the store: a rebuild re-runs only the steps whose inputs changed (skiff builder prune\n"
      "reclaims the cache). Identical inputs give an identical image ID: timestamps are clamped to\n"
      "SOURCE_DATE_EPOCH (a build arg or the environment variable), else to the base image's creation time.");
  static std::vector<std::string> tags, build_args, labels;
  static std::string file, target, network = "host", platform, iidfile, progress = "auto", context_dir;
  static bool no_cache = false, quiet = false;
  cmd->add_option("-t,--tag", tags, "Name and optionally a tag (NAME[:TAG]); repeatable");
  cmd->add_option("-f,--file", file, "The Dockerfile (default: CONTEXT/Dockerfile; - reads it from stdin)");
  cmd->add_option("--build-arg", build_args, "Set a build-time variable (K=V, or K to take it from the environment)");
  cmd->add_option("--target", target, "The stage to build (default: the last)");
  cmd->add_option("--label", labels, "Set a label on the image (K=V); repeatable");
  cmd->add_flag("--no-cache", no_cache, "Run every step again instead of using the build cache");
  cmd->add_option("--network", network, "Network of RUN steps: host (default, reaches the apt mirror) or none")
      ->capture_default_str();
  cmd->add_option("--platform", platform, "Target platform (os/arch[/variant]); default: this host's");
  cmd->add_option("--iidfile", iidfile, "Write the image ID to this file");
  cmd->add_option("--progress", progress, "auto, plain, tty or quiet")->capture_default_str();
  cmd->add_flag("-q,--quiet", quiet, "Print only the image ID");
  cmd->add_option("CONTEXT", context_dir, "The build context directory")->required();
  cmd->callback([&context] {
    builder::BuildRequest request;
    request.context = context_dir;
    if (file == "-") {
      request.dockerfile_text = std::string(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      request.dockerfile = file;
    }
    request.tags = tags;
    request.target = target;
    request.no_cache = no_cache;
    request.network = network;
    request.platform = platform;
    request.labels = parse_labels(labels);
    for (const auto& text : build_args)
      if (auto arg = builder::parse_build_arg(text)) request.build_args[arg->first] = arg->second;
    // As buildx does: the environment's SOURCE_DATE_EPOCH reaches the build.
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && !request.build_args.count("SOURCE_DATE_EPOCH"))
      request.build_args["SOURCE_DATE_EPOCH"] = epoch;

    builder::ConsoleReporter reporter(progress_mode(progress, quiet), stderr);
    auto result = [&] {
      try {
        return builder::build(context.root_path.empty() ? Root::default_path() : std::filesystem::path(context.root_path), context.config,
                              request, reporter);
      } catch (...) {
        reporter.finish();
        throw;
      }
    }();
    reporter.finish();
    if (!iidfile.empty()) write_file_atomic(iidfile, result.image.id.str(), 0644, false);
    if (quiet) fmt::print("{}\n", result.image.id.str());
  });
}

}  // namespace skiff::cli
