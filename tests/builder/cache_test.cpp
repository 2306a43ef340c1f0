#include "builder/cache.h"

#include <gtest/gtest.h>

#include "builder/context.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff::builder {

namespace {

const char* const dockerfile =
    "FROM base AS build\n"          // stage 0
    "ARG VERSION=1\n"
    "LABEL stage=build\n"
    "WORKDIR /src\n"
    "COPY go.mod ./\n"              // step 3
    "RUN download\n"                // step 4
    "COPY src/ ./src/\n"            // step 5
    "RUN build $VERSION\n"          // step 6
    "ARG LATE\n"
    "LABEL late=$LATE\n"
    "FROM scratch\n"                // stage 1
    "COPY --from=build /out/app /app\n"
    "COPY assets /assets\n";

// Plays the executor's part: evaluates every stage the target needs and
// chains the keys, hashing COPY sources from the context (or, for
// --from=stage, from a stand-in tree for that stage's filesystem).
class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write("go.mod", "module app\n");
    write("src/main.go", "package main\n");
    write("src/util.go", "package main // util\n");
    write("assets/logo.svg", "<svg/>");
    write("README.md", "not copied\n");
    write_stage_output("/out/app", "binary v1");
  }

  void write(const std::string& relative, const std::string& content) {
    fs::path path = context_.path() / relative;
    ensure_dir(path.parent_path());
    write_file_atomic(path, content, 0644, false);
  }
  void write_stage_output(const std::string& path, const std::string& content) {
    fs::path full = stage_root_.path() / path.substr(1);
    ensure_dir(full.parent_path());
    write_file_atomic(full, content, 0755, false);
  }

  // Every step's key, in build order.
  std::vector<Digest> keys(std::map<std::string, std::string> build_args = {}, const std::string& text = dockerfile,
                           const std::string& base_config = "sha256:" + std::string(64, 'b')) {
    BuildOptions options;
    options.build_args = std::move(build_args);
    options.build_platform = options.target_platform = Platform::parse("linux/amd64");
    BuildPlan plan = plan_build(parse_dockerfile(text), options);
    SourceTree context = SourceTree::context(context_.path());
    SourceTree stage_tree(stage_root_.path());

    std::vector<Digest> out;
    std::map<size_t, Digest> stage_keys;
    for (size_t s : plan.order) {
      const StagePlan& sp = plan.stages[s];
      Digest key = sp.base.kind == StageRef::Kind::scratch ? scratch_base_key(options.target_platform)
                   : sp.base.kind == StageRef::Kind::stage ? stage_keys.at(sp.base.stage)
                                                           : image_base_key(Digest::parse(base_config));
      Json base = {{"config", {{"Env", {"PATH=/bin"}}}}};
      StageResult result = evaluate_stage(plan, s, base);
      for (const Step& step : result.steps) {
        std::optional<Digest> sources;
        if (step.copy) {
          const SourceTree& tree = step.copy->from == CopyStep::From::context ? context : stage_tree;
          std::vector<std::string> paths;
          for (const auto& pattern : step.copy->sources) {
            for (auto& path : tree.match(pattern)) paths.push_back(std::move(path));
          }
          HashOptions hash;
          hash.ownership = step.copy->keep_ownership;
          hash.excludes = step.copy->excludes;
          sources = tree.content_hash(paths, hash);
        }
        std::vector<Digest> mounts;
        if (step.run) {
          for (size_t m = 0; m < step.run->mounts.size(); ++m) {
            const RunMount& mount = step.run->mounts[m];
            if (mount.type != RunMount::Type::bind) continue;
            bool from_stage = step.run->mount_sources[m].has_value();
            const SourceTree& tree = from_stage ? stage_tree : context;
            HashOptions hash;
            hash.ownership = from_stage;
            mounts.push_back(tree.content_hash({mount.source.empty() ? "." : mount.source}, hash));
          }
        }
        key = step_cache_key(key, step, sources, mounts);
        out.push_back(key);
      }
      stage_keys[s] = key;
    }
    return out;
  }

  TempDir context_{"/var/tmp", "skiff-builder-cache-"};
  TempDir stage_root_{"/var/tmp", "skiff-builder-stage-"};
};

// Indexes into keys(): stage 0 has 9 steps, stage 1 two.
constexpr size_t copy_gomod = 3, run_download = 4, copy_src = 5, run_build = 6, late_label = 8;
constexpr size_t copy_app = 9, copy_assets = 10;

TEST_F(CacheTest, SameInputsGiveTheSameKeys) {
  auto first = keys();
  ASSERT_EQ(first.size(), 11u);
  EXPECT_EQ(keys(), first);
  // every layer step has its own key
  std::set<std::string> distinct;
  for (size_t i : {copy_gomod, run_download, copy_src, run_build, copy_app, copy_assets}) distinct.insert(first[i].str());
  EXPECT_EQ(distinct.size(), 6u);
  // config-only steps keep their parent's key
  EXPECT_EQ(first[late_label], first[run_build]);
}

TEST_F(CacheTest, AChangedCopiedFileChangesThatStepAndEveryLaterOne) {
  auto before = keys();
  write("src/util.go", "package main // changed\n");
  auto after = keys();
  for (size_t i = 0; i < copy_src; ++i) EXPECT_EQ(after[i], before[i]) << "step " << i;
  for (size_t i = copy_src; i <= late_label; ++i) EXPECT_NE(after[i], before[i]) << "step " << i;
  // the final stage's COPY --from=build reads the build stage's output,
  // unchanged in this stand-in, but chains from scratch: same keys
  EXPECT_EQ(after[copy_app], before[copy_app]);
}

TEST_F(CacheTest, AFileNobodyCopiesChangesNothing) {
  auto before = keys();
  write("README.md", "edited\n");
  EXPECT_EQ(keys(), before);
}

TEST_F(CacheTest, IgnoredFilesChangeNothing) {
  write(".dockerignore", "src/util.go\n");
  auto before = keys();
  write("src/util.go", "package main // changed but ignored\n");
  EXPECT_EQ(keys(), before);
}

TEST_F(CacheTest, TheOtherStagesOutputCountsForCopyFrom) {
  auto before = keys();
  write_stage_output("/out/app", "binary v2");
  auto after = keys();
  EXPECT_NE(after[copy_app], before[copy_app]);
  EXPECT_NE(after[copy_assets], before[copy_assets]);
  EXPECT_EQ(after[run_build], before[run_build]);
}

TEST_F(CacheTest, BuildArgs) {
  auto defaults = keys();
  // Unknown to the Dockerfile, a proxy setting, or declared after every
  // RUN and used only in a LABEL: no layer key moves.
  EXPECT_EQ(keys({{"UNUSED", "x"}}), defaults);
  EXPECT_EQ(keys({{"HTTP_PROXY", "http://proxy:3128"}}), defaults);
  EXPECT_EQ(keys({{"LATE", "value"}}), defaults);
  // VERSION is declared before the RUNs: they see it in their environment
  // (as docker does), so all of them miss; steps before it do not.
  auto changed = keys({{"VERSION", "2"}});
  for (size_t i = 0; i < run_download; ++i) EXPECT_EQ(changed[i], defaults[i]) << "step " << i;
  EXPECT_EQ(changed[copy_gomod], defaults[copy_gomod]);
  EXPECT_NE(changed[run_download], defaults[run_download]);
  EXPECT_NE(changed[run_build], defaults[run_build]);
  // Passing the default value explicitly is the same build.
  EXPECT_EQ(keys({{"VERSION", "1"}}), defaults);
}

TEST_F(CacheTest, WhatChangesARunKey) {
  const std::string base = "FROM base\nENV A=1\nLABEL x=1\nUSER root\nRUN make\n";
  auto reference = keys({}, base);
  EXPECT_EQ(keys({}, "FROM base\nENV A=1\nLABEL x=2\nUSER root\nRUN make\n").back(), reference.back());
  EXPECT_NE(keys({}, "FROM base\nENV A=2\nLABEL x=1\nUSER root\nRUN make\n").back(), reference.back());
  EXPECT_NE(keys({}, "FROM base\nENV A=1\nLABEL x=1\nUSER app\nRUN make\n").back(), reference.back());
  EXPECT_NE(keys({}, "FROM base\nENV A=1\nLABEL x=1\nUSER root\nRUN make all\n").back(), reference.back());
  EXPECT_NE(keys({}, "FROM base\nENV A=1\nLABEL x=1\nUSER root\nWORKDIR /x\nRUN make\n").back(), reference.back());
  EXPECT_NE(keys({}, "FROM base\nENV A=1\nLABEL x=1\nUSER root\nRUN --network=none make\n").back(), reference.back());
  EXPECT_NE(keys({}, base, "sha256:" + std::string(64, 'c')).back(), reference.back());
}

TEST_F(CacheTest, CopyKeysSeeDestinationAndFlags) {
  auto plain = keys({}, "FROM base\nCOPY go.mod /a/\n").back();
  EXPECT_EQ(keys({}, "FROM base\nCOPY go.mod /a/\n").back(), plain);
  EXPECT_NE(keys({}, "FROM base\nCOPY go.mod /b/\n").back(), plain);
  EXPECT_NE(keys({}, "FROM base\nCOPY --chmod=0600 go.mod /a/\n").back(), plain);
  EXPECT_NE(keys({}, "FROM base\nCOPY --chown=1:1 go.mod /a/\n").back(), plain);
  // WORKDIR / changes nothing on disk and the destination resolves the same
  EXPECT_EQ(keys({}, "FROM base\nWORKDIR /\nCOPY go.mod a/\n").back(), plain);
  EXPECT_NE(keys({}, "FROM base\nWORKDIR /x\nCOPY go.mod a/\n").back(), plain);
}

TEST_F(CacheTest, BindMountContentCounts) {
  const std::string text = "FROM base AS build\nFROM base\nRUN --mount=type=bind,from=build,source=/out,target=/o cp /o/app /\n"
                           "RUN --mount=type=cache,target=/c --mount=type=bind,source=src,target=/s make\n";
  auto before = keys({}, text);
  ASSERT_EQ(before.size(), 2u);
  write_stage_output("/out/app", "binary v2");
  auto after = keys({}, text);
  EXPECT_NE(after[0], before[0]);
  write("src/main.go", "package main // edited\n");
  auto edited = keys({}, text);
  EXPECT_EQ(edited[0], after[0]);
  EXPECT_NE(edited[1], after[1]);
  write("go.mod", "module other\n");  // not mounted
  EXPECT_EQ(keys({}, text), edited);
}

TEST_F(CacheTest, ExcludedFilesDoNotCount) {
  const std::string text = "FROM base\nCOPY --exclude=*.md --exclude=util.go src/ /src/\n";
  auto before = keys({}, text);
  write("src/util.go", "package main // edited but excluded\n");
  write("src/notes.md", "new but excluded\n");
  EXPECT_EQ(keys({}, text), before);
  write("src/main.go", "package main // edited\n");
  EXPECT_NE(keys({}, text), before);
}

TEST_F(CacheTest, CopyWithoutSourcesHashIsABug) {
  BuildOptions options;
  options.build_platform = options.target_platform = Platform::parse("linux/amd64");
  BuildPlan plan = plan_build(parse_dockerfile("FROM base\nCOPY a b\n"), options);
  StageResult result = evaluate_stage(plan, 0, Json::object());
  EXPECT_THROW(step_cache_key(image_base_key(Digest::parse("sha256:" + std::string(64, 'a'))), result.steps[0]), Error);
  EXPECT_NE(scratch_base_key(Platform::parse("linux/amd64")), scratch_base_key(Platform::parse("linux/arm64")));
  BuildPlan run_plan = plan_build(parse_dockerfile("FROM base\nRUN --mount=type=bind,target=/s make\n"), options);
  StageResult run = evaluate_stage(run_plan, 0, Json::object());
  EXPECT_EQ(bind_mount_count(run.steps[0]), 1u);
  EXPECT_THROW(step_cache_key(scratch_base_key(options.target_platform), run.steps[0]), Error);
}

}  // namespace

}  // namespace skiff::builder
