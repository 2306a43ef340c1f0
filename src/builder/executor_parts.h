// Internal to the executor: the state of one build shared by its stages,
// and the pieces executor.cpp puts together.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "builder/context.h"
#include "builder/executor.h"
#include "builder/interrupt.h"
#include "builder/stages.h"
#include "builder/workspace.h"
#include "core/json.h"
#include "image/platform.h"

namespace skiff::builder {

// What a stage leaves: the base for a stage FROM it, the source of a COPY
// --from, or (for the target) the image.
struct StageOutput {
  LayerStack stack;
  Json image;                     // the image config document (evaluate.h)
  Json history = Json::array();   // one entry per instruction that shows in `history`
  Digest key;                     // the cache key after its last step
  std::int64_t epoch = 0;         // SOURCE_DATE_EPOCH of its layers and history
  skiff::Platform platform;
};

struct Build {
  std::filesystem::path root_path;
  const Config& config;
  const BuildRequest& request;
  BuildReporter& reporter;
  BuildPlan plan;
  SourceTree context;
  std::optional<std::int64_t> explicit_epoch;  // SOURCE_DATE_EPOCH build arg
  skiff::Platform default_platform;

  // Stages whose layers end up in the image: the target and the stages it
  // is FROM, transitively. The others only feed COPY --from and mounts.
  std::vector<bool> exported;

  // Filled wave by wave; a stage only reads those of earlier waves.
  std::vector<std::optional<StageOutput>> outputs;
  std::atomic<bool> failed{false};  // another stage failed: stop at the next step
  InterruptWatch* interrupts = nullptr;
  std::mutex mutex;                 // guards steps
  std::vector<StepOutcome> steps;
};

// The base a stage starts from (FROM), resolving and pulling images.
StageOutput stage_base(Build& build, Workspace& workspace, size_t stage);

// An image's filesystem and config, pulled when it is not in the store
// (COPY --from=image, FROM image).
struct ImageSource {
  ImageRecord record;
  Json config;  // the config document
  LayerStack stack;
  Json history;
};
ImageSource image_source(Build& build, Workspace& workspace, const std::string& reference,
                         const skiff::Platform& platform, bool platform_given);

// Runs the stage's steps on top of its base.
StageOutput build_stage(Build& build, Workspace& workspace, size_t stage);

// RFC 3339 of a unix time, as base images write `created`.
std::string rfc3339(std::int64_t epoch);

}  // namespace skiff::builder
