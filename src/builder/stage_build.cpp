// One stage: its steps evaluated (evaluate.h), each layer step keyed and
// looked up in the cache, and run when it misses.
#include <fmt/format.h>

#include <cctype>
#include <memory>

#include "builder/cache.h"
#include "builder/copy_step.h"
#include "builder/executor_parts.h"
#include "builder/run_step.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/fs.h"
#include "image/platform.h"

namespace skiff::builder {

namespace {

std::string short_text(const std::string& text, size_t limit = 120) {
  std::string flat;
  for (char c : text) flat += (c == '\n' || c == '\t') ? ' ' : c;
  if (flat.size() <= limit) return flat;
  return flat.substr(0, limit - 3) + "...";
}

Json history_entry(const Step& step, const StageOutput& out, bool empty) {
  Json entry = {{"created", rfc3339(out.epoch)}, {"created_by", step.created_by}, {"comment", "skiff build"}};
  if (empty) entry["empty_layer"] = true;
  return entry;
}

// A tree a step reads from another stage or an image. It is mounted
// read-only only when its files are needed: a cache hit needs only the
// content hash of what the step reads, which is remembered per chain ID
// (the chain names the filesystem's content exactly).
class ForeignTree {
 public:
  ForeignTree(Workspace& workspace, LayerStack stack) : workspace_(workspace), stack_(std::move(stack)) {}

  const SourceTree& tree() {
    if (!tree_) {
      view_ = std::make_unique<ReadOnlyRoot>(workspace_, stack_);
      tree_ = std::make_unique<SourceTree>(view_->path());
    }
    return *tree_;
  }

  // The hash `compute` gives for `what` (the inputs of the hash, as JSON).
  template <typename Compute>
  Digest hash(const Json& what, const Compute& compute) {
    Digest chain = stack_.chain();
    std::vector<std::uint8_t> bytes = Json::to_cbor(Json{{"chain", chain.str()}, {"what", what}});
    Digest memo = sha256_of(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (auto known = workspace_.cache.source_hash(memo)) return *known;
    Digest digest = compute(tree());
    workspace_.cache.record_source_hash(memo, chain, digest);
    return digest;
  }

 private:
  Workspace& workspace_;
  LayerStack stack_;
  std::unique_ptr<ReadOnlyRoot> view_;
  std::unique_ptr<SourceTree> tree_;
};

class StageRunner {
 public:
  StageRunner(Build& build, Workspace& workspace, size_t stage)
      : build_(build), workspace_(workspace), stage_(stage), plan_(build.plan.stages.at(stage)) {}

  StageOutput run() {
    const Stage& stage = build_.plan.dockerfile.stages.at(stage_);
    int from_vertex = -1;
    StageOutput out;
    std::vector<Step> steps;
    std::unique_ptr<StageEvaluator> evaluator;
    try {
      out = stage_base(build_, workspace_, stage_);
      evaluator = std::make_unique<StageEvaluator>(build_.plan, stage_, out.image);
      for (const auto& ref : evaluator->trigger_sources()) {
        if (ref.kind == StageRef::Kind::stage && !build_.outputs.at(ref.stage))
          fail(ErrorKind::invalid_argument, "an ONBUILD trigger of the base image reads stage {}, which is not built "
               "before stage {}", build_.plan.stages.at(ref.stage).display_name, plan_.display_name);
      }
      for (const auto& trigger : evaluator->triggers()) steps.push_back(evaluator->next(trigger));
      for (const auto& instruction : stage.instructions) steps.push_back(evaluator->next(instruction));
    } catch (const Error& e) {
      fail_at(stage.from_instruction, e);
    }
    size_t total = 1;
    for (const auto& step : steps) total += step.layer ? 1 : 0;
    from_vertex = build_.reporter.begin(fmt::format("[{} 1/{}] {}", plan_.display_name, total,
                                                    short_text(stage.from_instruction.text)));
    build_.reporter.done(from_vertex);

    size_t number = 1;
    size_t trigger_count = evaluator->triggers().size();
    for (size_t index = 0; index < steps.size(); ++index) {
      const Step& step = steps[index];
      if (build_.interrupts && build_.interrupts->interrupted())
        fail(ErrorKind::unavailable, "build interrupted by signal {}", build_.interrupts->signal());
      if (build_.failed) fail(ErrorKind::internal, "stopped: another stage failed");
      if (!step.layer) {
        out.history.push_back(history_entry(step, out, true));
        continue;
      }
      ++number;
      std::string name = fmt::format("[{} {}/{}] {}", plan_.display_name, number, total, short_text(step.instruction.text));
      int vertex = build_.reporter.begin(name);
      try {
        bool cached = execute(step, out, vertex);
        if (cached) build_.reporter.cached(vertex);
        else build_.reporter.done(vertex);
        std::lock_guard lock(build_.mutex);
        build_.steps.push_back({name, cached});
      } catch (const Error& e) {
        build_.reporter.failed(vertex, e.what());
        if (index < trigger_count) {
          // A trigger has no line of its own: it comes with the FROM.
          fail(e.kind(), "{}:{}: ONBUILD {} (a trigger of the base image): {}", build_.plan.dockerfile.file_name,
               stage.from_instruction.lines.first, short_text(step.instruction.text, 80), e.what());
        }
        fail_at(step.instruction, e);
      }
    }
    out.image = evaluator->image();
    return out;
  }

 private:
  [[noreturn]] void fail_at(const Instruction& instruction, const Error& e) {
    std::string message = e.what();
    std::string file = build_.plan.dockerfile.file_name + ":";
    // The evaluator's errors carry their own location.
    if (message.starts_with(file) && message.size() > file.size() && std::isdigit(static_cast<unsigned char>(message[file.size()])))
      throw e;
    fail(e.kind(), "{}{}: {}: {}", file, instruction.lines.first, short_text(instruction.text, 80), message);
  }

  // The tree a COPY --from or --mount from= reads.
  std::unique_ptr<ForeignTree> foreign_tree(const StageRef& ref, const StageOutput& out) {
    LayerStack stack;
    if (ref.kind == StageRef::Kind::stage) {
      const auto& source = build_.outputs.at(ref.stage);
      if (!source) fail(ErrorKind::internal, "stage {} is not built yet", ref.stage);
      stack = source->stack;
    } else if (ref.kind == StageRef::Kind::image) {
      stack = image_source(build_, workspace_, ref.image, out.platform, false).stack;
    }
    return std::make_unique<ForeignTree>(workspace_, std::move(stack));
  }

  // Returns whether the step came from the cache.
  bool execute(const Step& step, StageOutput& out, int vertex) {
    std::unique_ptr<ForeignTree> copy_foreign;
    std::optional<Digest> sources;
    if (step.copy) {
      const CopyStep& copy = *step.copy;
      if (copy.from != CopyStep::From::context) {
        StageRef ref;
        ref.kind = copy.from == CopyStep::From::stage ? StageRef::Kind::stage : StageRef::Kind::image;
        ref.stage = copy.stage;
        ref.image = copy.image;
        copy_foreign = foreign_tree(ref, out);
      }
      if (!copy.sources.empty()) {
        if (copy_foreign) {
          Json what = {{"copy", copy.sources}, {"excludes", copy.excludes}, {"ownership", copy.chown.empty()}};
          sources = copy_foreign->hash(what, [&](const SourceTree& tree) { return *copy_sources_hash(tree, copy); });
        } else {
          sources = copy_sources_hash(build_.context, copy);
        }
      }
    }
    std::vector<std::unique_ptr<ForeignTree>> mount_trees;
    std::vector<ResolvedMount> mounts;
    std::vector<Digest> bind_hashes;
    if (step.run) hash_mounts(*step.run, out, mount_trees, bind_hashes);

    Digest key = step_cache_key(out.key, step, sources, bind_hashes);
    if (!build_.request.no_cache) {
      if (auto hit = workspace_.cache.lookup(key)) {
        apply(out, step, hit->layer ? std::optional(AssembledLayer{hit->layer->blob, hit->layer->diff_id,
                                                                   hit->layer->size, hit->layer->media_type,
                                                                   step.created_by})
                                    : std::nullopt);
        out.key = key;
        return true;
      }
    }

    if (step.run) {
      auto runnable = runnable_here(out.platform, Isolation::process);
      if (!runnable.runnable) fail(ErrorKind::unsupported, "{}", runnable.reason);
    }
    WritableRoot root(workspace_, out.stack);
    if (step.run) {
      resolve_mounts(*step.run, mount_trees, mounts);
      RunSettings settings;
      settings.network = build_.request.network;
      settings.output = [&](std::string_view text) { build_.reporter.output(vertex, text); };
      if (build_.interrupts)
        settings.track = [&](const std::string& id, bool running) { build_.interrupts->track(id, running); };
      run_step(root, *step.run, mounts, settings);
    } else if (step.copy) {
      const SourceTree* tree = copy_foreign ? &copy_foreign->tree() : &build_.context;
      copy_step(root.fd(), tree, *step.copy, out.epoch);
    } else if (step.instruction.keyword == Keyword::workdir) {
      make_workdir(root.fd(), step.cache_input.value("path", "/"), step.cache_input.value("user", ""));
    }
    // Layers that go into the image are gzip, which every registry and
    // engine reads; a stage that only feeds COPY --from keeps its layers in
    // the store, where zstd makes them several times faster.
    auto compression = build_.exported.at(stage_) ? snapshot::Compression::gzip : snapshot::Compression::zstd;
    std::optional<AssembledLayer> layer = root.commit(out.stack, out.epoch, step.created_by, compression);
    CacheEntry entry;
    entry.key = key;
    entry.description = step.created_by;
    if (layer) {
      entry.layer = CachedLayer{snapshot::chain_id(out.stack.chain(), layer->diff_id), layer->digest, layer->diff_id,
                                layer->size, layer->media_type};
    }
    workspace_.cache.record(entry);
    apply(out, step, layer);
    out.key = key;
    return false;
  }

  void apply(StageOutput& out, const Step& step, const std::optional<AssembledLayer>& layer) {
    if (layer) out.stack.push(*layer);
    out.history.push_back(history_entry(step, out, !layer));
  }

  // The content hash of every bind mount's source, for the step's key; the
  // trees of other stages and images are kept for resolve_mounts.
  void hash_mounts(const RunStep& run, const StageOutput& out, std::vector<std::unique_ptr<ForeignTree>>& trees,
                   std::vector<Digest>& bind_hashes) {
    for (size_t i = 0; i < run.mounts.size(); ++i) {
      const RunMount& mount = run.mounts[i];
      trees.push_back(run.mount_sources[i] ? foreign_tree(*run.mount_sources[i], out) : nullptr);
      if (mount.type == RunMount::Type::secret || mount.type == RunMount::Type::ssh) {
        if (mount.required)
          fail(ErrorKind::unsupported, "--mount type={} is required, but skiff build takes no secrets or ssh agents "
               "yet", mount_type_name(mount.type));
      }
      if (mount.type != RunMount::Type::bind) continue;
      auto compute = [&](const SourceTree& tree) {
        std::string source = tree.resolve(mount.source);
        if (!tree.stat(source)) fail(ErrorKind::not_found, "--mount source \"/{}\": not found", mount.source);
        HashOptions options;
        options.ownership = run.mount_sources[i].has_value();
        return tree.content_hash({source}, options);
      };
      if (trees.back()) bind_hashes.push_back(trees.back()->hash({{"bind", mount.source}}, compute));
      else bind_hashes.push_back(compute(build_.context));
    }
  }

  // Where each mount's source is on the host, for the container.
  void resolve_mounts(const RunStep& run, std::vector<std::unique_ptr<ForeignTree>>& trees,
                      std::vector<ResolvedMount>& mounts) {
    for (size_t i = 0; i < run.mounts.size(); ++i) {
      const RunMount& mount = run.mounts[i];
      ResolvedMount resolved{mount, {}};
      if (mount.type == RunMount::Type::bind) {
        const SourceTree& tree = trees[i] ? trees[i]->tree() : build_.context;
        std::string source = tree.resolve(mount.source);
        resolved.source = source.empty() ? tree.root() : tree.root() / source;
      } else if (mount.type == RunMount::Type::cache) {
        std::string id = mount.id.empty() ? mount.target : mount.id;
        resolved.source = workspace_.root.cache_dir() / "build-mounts" / sha256_of(id).hex();
        ensure_dir(resolved.source, 0755);
      }
      mounts.push_back(std::move(resolved));
    }
  }

  Build& build_;
  Workspace& workspace_;
  size_t stage_;
  const StagePlan& plan_;
};

}  // namespace

StageOutput build_stage(Build& build, Workspace& workspace, size_t stage) {
  return StageRunner(build, workspace, stage).run();
}

}  // namespace skiff::builder
