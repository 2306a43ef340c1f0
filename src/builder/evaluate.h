// Evaluating a stage step by step without running anything: ARG scoping,
// variable expansion in the instructions that expand, the config effect of
// each step, and what a RUN/COPY/ADD step needs to execute and to be keyed
// in the cache. The executor drives it:
//
//   StageEvaluator stage(plan, index, base_image_config);
//   for (auto& trigger : stage.triggers()) { Step s = stage.next(trigger); … }
//   for (auto& instruction : plan.dockerfile.stages[index].instructions) {
//     Step step = stage.next(instruction);
//     key = step_cache_key(key, step, sources_hash);  // cache.h
//     … run step.run / copy step.copy, or nothing for a config-only step
//   }
//   stage.image()  // the stage's final image config
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "builder/dockerfile.h"
#include "builder/expand.h"
#include "builder/image_config.h"
#include "builder/stages.h"
#include "core/json.h"

namespace skiff::builder {

// What a RUN step executes.
struct RunStep {
  std::vector<std::string> argv;  // the shell prepended for the shell form
  std::vector<std::string> env;   // K=V: image Env, then ARG values, PATH if unset, proxy args
  std::string user;               // config.User ("" : root)
  std::string workdir;            // config.WorkingDir ("/" if unset)
  std::vector<RunMount> mounts;   // expanded and parsed
  // Per mount, what from= names; nullopt: the build context.
  std::vector<std::optional<StageRef>> mount_sources;
  std::string network;            // "" (default: host for builds), none, host
  std::string security;
  // A RUN whose whole command is one heredoc starting with "#!" runs that
  // file: it is provided read-only at /dev/pipes/<name> (mode 0755).
  struct InlineFile {
    std::string path;
    std::string content;
    std::uint32_t mode = 0755;
  };
  std::vector<InlineFile> files;
};

// What a COPY or ADD step copies.
struct CopyStep {
  enum class From { context, stage, image };
  From from = From::context;
  size_t stage = 0;   // From::stage
  std::string image;  // From::image
  std::vector<std::string> sources;  // patterns after expansion, relative to the source root
  std::vector<Heredoc> inline_sources;  // heredoc files, contents expanded unless quoted
  std::string destination;  // absolute (joined to WORKDIR); a trailing '/' means "into this directory"
  std::string chown, chmod;
  bool link = false, parents = false;
  std::vector<std::string> excludes;
  bool add = false;
  // ADD: extract local archives (docker decides by content: SourceTree::is_archive);
  // `unpack` forces the choice when --unpack was given.
  std::optional<bool> unpack;
  // Hash sources with uid/gid (HashOptions::ownership): another stage's or
  // image's files keep their owners; the context's are reset to root.
  bool keep_ownership = false;
};

struct Step {
  Instruction instruction;  // after expansion
  size_t stage = 0;
  // Changes the filesystem (RUN, COPY, ADD, WORKDIR other than "/"); only
  // these produce a layer and a cache entry. Others only change the config.
  bool layer = false;
  std::string created_by;  // the history entry ("RUN /bin/sh -c make # buildkit")
  // The canonical description of a layer step for its cache key: the
  // instruction after expansion plus what its result depends on (RUN: argv,
  // env, user, workdir, mounts, network; COPY: sources, destination,
  // chown/chmod, where from; WORKDIR: path and user). See cache.h.
  Json cache_input;
  // Build args the step sees and uses: for RUN every ARG declared in the
  // stage so far (docker puts them all in RUN's environment); otherwise
  // those its expansion referenced.
  std::vector<std::pair<std::string, std::string>> args;
  std::optional<RunStep> run;
  std::optional<CopyStep> copy;
};

class StageEvaluator {
 public:
  // `base_image`: the OCI image config of what FROM names — a pulled image's
  // config, an earlier stage's final image(), or scratch_image(platform).
  StageEvaluator(const BuildPlan& plan, size_t stage, Json base_image);

  // The base image's ONBUILD triggers, parsed: run them through next()
  // before the stage's own instructions. They are dropped from the config
  // (triggers fire once, in the image built directly on them).
  const std::vector<Instruction>& triggers() const { return triggers_; }

  // Stages and images the triggers read (COPY --from), which plan_build
  // could not know; a trigger naming a stage not built yet is an error for
  // the executor to report.
  std::vector<StageRef> trigger_sources() const;

  // Evaluates the next instruction. Throws invalid_argument (or
  // unsupported) as "Dockerfile:<line>: …".
  Step next(const Instruction& instruction);

  const Json& image() const { return image_; }
  // The variables expansion sees now: image Env, ENV and ARG values.
  const Variables& variables() const { return variables_; }

 private:
  Step evaluate(const Instruction& instruction);
  std::string expand(std::string_view text, Step& step) const;
  std::vector<std::string> expand_words_of(std::string_view text, Step& step) const;
  void note_used(const Expansion& expansion, Step& step) const;
  std::vector<std::pair<std::string, std::string>> declared_args() const;

  const BuildPlan& plan_;
  size_t stage_;
  Json image_;
  Variables variables_;
  std::vector<std::pair<std::string, std::optional<std::string>>> args_;  // ARGs declared in the stage
  ConfigState state_;
  std::vector<Instruction> triggers_;
};

// Evaluates a whole stage from `base_image` (triggers, then instructions).
struct StageResult {
  std::vector<Step> steps;
  Json image;
};
StageResult evaluate_stage(const BuildPlan& plan, size_t stage, Json base_image);

}  // namespace skiff::builder
