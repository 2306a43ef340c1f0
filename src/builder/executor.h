// skiff build: a Dockerfile and its context made into an image in the
// store. The front end (builder.h) says what to do; this runs it: FROM an
// image (pulled when missing), an earlier stage or scratch; RUN in a
// process-isolated container whose changes become a layer; COPY/ADD into a
// new snapshot; the other instructions change only the config. Each layer
// step is looked up in the build cache first (cache.h keys, cache_store.h
// entries). Only the stages the target needs are built, the independent
// ones in parallel. The image and its tags are recorded at the very end,
// in one transaction: a failed build leaves no image and moves no tag.
//
// Reproducible: the image's `created`, its history and every layer
// timestamp are clamped to SOURCE_DATE_EPOCH — given as a build arg, or
// else the base image's own `created` (how skiff's base images are made) —
// so identical inputs give an identical image digest.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/progress.h"
#include "core/config.h"
#include "image/store.h"

namespace skiff::builder {

struct BuildRequest {
  std::filesystem::path context;     // the build context directory
  std::filesystem::path dockerfile;  // "" : CONTEXT/Dockerfile; relative paths are from the current directory
  std::optional<std::string> dockerfile_text;  // -f -: the Dockerfile itself (read from stdin)
  std::vector<std::string> tags;     // -t NAME[:TAG]
  std::map<std::string, std::string> build_args;
  std::string target;                // --target
  std::map<std::string, std::string> labels;
  bool no_cache = false;
  std::string network = "host";  // host | none: what RUN steps get unless they say --network
  std::string platform;          // --platform ("" : this host's)
  unsigned parallel = 0;         // stages built at once (0: one per CPU)
};

struct StepOutcome {
  std::string name;  // "[build 2/5] RUN make"
  bool cached = false;
};

struct BuildResult {
  ImageRecord image;
  std::vector<StepOutcome> steps;  // the layer steps, in the order they finished
  std::vector<std::string> warnings;
};

// Throws Error with "Dockerfile:<line>: <instruction>: <what>" for a step
// that fails, before anything is written for a Dockerfile that does not
// parse or plan.
BuildResult build(const std::filesystem::path& root, const Config& config, const BuildRequest& request,
                  BuildReporter& reporter);

}  // namespace skiff::builder
