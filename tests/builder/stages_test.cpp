#include "builder/stages.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff::builder {

namespace {

const char* const multi_stage =
    "ARG GO=1.22\n"                              // 1
    "FROM golang:${GO} AS deps\n"                // 2  stage 0
    "RUN go mod download\n"                      // 3
    "FROM deps AS build\n"                       // 4  stage 1
    "ARG VERSION=dev\n"                          // 5
    "RUN go build -ldflags=-X=main.v=$VERSION -o /out/app\n"
    "FROM alpine:3 AS tools\n"                   // 7  stage 2
    "RUN apk add curl\n"                         // 8
    "FROM build AS test\n"                       // 9  stage 3
    "ARG TESTFLAGS\n"                            // 10
    "RUN go test $TESTFLAGS ./...\n"             // 11
    "FROM scratch AS final\n"                    // 12 stage 4
    "COPY --from=build /out/app /app\n"          // 13
    "COPY --from=tools /usr/bin/curl /curl\n"    // 14
    "COPY --from=registry.test/lib/certs:1 /etc/ssl /etc/ssl\n";

BuildOptions options_for(std::string target = "") {
  BuildOptions options;
  options.target = std::move(target);
  options.build_platform = Platform::parse("linux/amd64");
  options.target_platform = Platform::parse("linux/arm64");
  return options;
}

std::string plan_error(const std::string& text, const BuildOptions& options = options_for()) {
  try {
    plan_build(parse_dockerfile(text), options);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "planned without error:\n" << text;
  return "";
}

TEST(Stages, TheTargetNeedsOnlyItsDependencies) {
  BuildPlan plan = plan_build(parse_dockerfile(multi_stage), options_for());
  EXPECT_EQ(plan.target, 4u);
  EXPECT_EQ(plan.order, (std::vector<size_t>{0, 2, 1, 4}));  // "test" is skipped
  EXPECT_EQ(plan.levels, (std::vector<std::vector<size_t>>{{0, 2}, {1}, {4}}));
  EXPECT_FALSE(plan.builds(3));
  EXPECT_EQ(plan.stages[1].base.kind, StageRef::Kind::stage);
  EXPECT_EQ(plan.stages[1].base.stage, 0u);
  EXPECT_EQ(plan.stages[0].base.kind, StageRef::Kind::image);
  EXPECT_EQ(plan.stages[0].base.image, "golang:1.22");
  EXPECT_EQ(plan.stages[4].base.kind, StageRef::Kind::scratch);
  EXPECT_EQ(plan.stages[4].depends_on, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(plan.stages[4].images, std::vector<std::string>{"registry.test/lib/certs:1"});
  EXPECT_EQ(plan.stages[3].display_name, "test");

  BuildPlan test = plan_build(parse_dockerfile(multi_stage), options_for("TEST"));
  EXPECT_EQ(test.target, 3u);
  EXPECT_EQ(test.levels, (std::vector<std::vector<size_t>>{{0}, {1}, {3}}));

  BuildPlan tools = plan_build(parse_dockerfile(multi_stage), options_for("tools"));
  EXPECT_EQ(tools.order, std::vector<size_t>{2});
}

TEST(Stages, GlobalArgsAndBuildArgsInFrom) {
  BuildOptions options = options_for();
  options.build_args = {{"GO", "1.23"}};
  BuildPlan plan = plan_build(parse_dockerfile(multi_stage), options);
  EXPECT_EQ(plan.stages[0].base.image, "golang:1.23");
  EXPECT_EQ(*plan.global_args.get("GO"), "1.23");
  EXPECT_EQ(*plan.global_args.get("TARGETARCH"), "arm64");
  EXPECT_EQ(*plan.global_args.get("BUILDPLATFORM"), "linux/amd64");
  EXPECT_EQ(*plan.global_args.get("TARGETSTAGE"), "final");

  BuildPlan chained = plan_build(
      parse_dockerfile("ARG REPO=registry.test/base\nARG TAG=${REPO}:v1\nFROM ${TAG}\nFROM --platform=$BUILDPLATFORM x"),
      options_for());
  EXPECT_EQ(chained.stages[0].base.image, "registry.test/base:v1");
  EXPECT_EQ(chained.stages[1].platform->str(), "linux/amd64");
}

TEST(Stages, CopyFromByIndexNameOrImage) {
  BuildPlan plan = plan_build(parse_dockerfile("FROM a AS Build\nFROM b\nCOPY --from=0 /x /x\nCOPY --from=BUILD /y /y\n"
                                               "COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n"
                                               "RUN --mount=type=bind,from=build,target=/src make"),
                              options_for());
  EXPECT_EQ(plan.stages[1].depends_on, std::vector<size_t>{0});
  EXPECT_EQ(plan.stages[1].images, std::vector<std::string>{"nginx:1.27"});
  EXPECT_EQ(resolve_from(plan.dockerfile, "1").stage, 1u);
  EXPECT_EQ(resolve_from(plan.dockerfile, "build").kind, StageRef::Kind::stage);
  EXPECT_EQ(resolve_from(plan.dockerfile, "alpine").kind, StageRef::Kind::image);
}

TEST(Stages, ALaterStageNameInFromIsAnImage) {
  // As in BuildKit: FROM only sees earlier stages.
  BuildPlan plan = plan_build(parse_dockerfile("FROM later AS first\nFROM alpine AS later"), options_for("first"));
  EXPECT_EQ(plan.stages[0].base.kind, StageRef::Kind::image);
  EXPECT_EQ(plan.order, std::vector<size_t>{0});
}

TEST(Stages, CopyFromALaterStageIsAllowedWithoutCycles) {
  BuildPlan plan = plan_build(parse_dockerfile("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two"), options_for("one"));
  EXPECT_EQ(plan.order, (std::vector<size_t>{1, 0}));
}

TEST(Stages, Errors) {
  EXPECT_EQ(plan_error(multi_stage, options_for("tset")), "Dockerfile: target stage \"tset\" could not be found (did you mean test?)");
  EXPECT_EQ(plan_error("FROM a AS alpha\nFROM b AS beta", options_for("zzz")),
            "Dockerfile: target stage \"zzz\" could not be found (stages: alpha, beta)");
  EXPECT_EQ(plan_error("FROM a\nFROM b", options_for("x")),
            "Dockerfile: target stage \"x\" could not be found (no stage has a name: use FROM image AS name)");
  EXPECT_EQ(plan_error("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nCOPY --from=one /y /y"),
            "Dockerfile:1: circular dependency detected on stage: one");
  EXPECT_EQ(plan_error("FROM a AS self\nCOPY --from=self /x /y"), "Dockerfile:1: circular dependency detected on stage: self");
  EXPECT_EQ(plan_error("FROM a\nCOPY --from=3 /x /y"),
            "Dockerfile:2: invalid stage index 3 (the Dockerfile has 1 stage, numbered from 0)");
  EXPECT_EQ(plan_error("FROM a\nCOPY --from=$X /x /y"),
            "Dockerfile:2: variable expansion is not supported for --from, define a new stage with FROM using ARG from "
            "global scope as a workaround");
  EXPECT_EQ(plan_error("ARG EMPTY\nFROM $EMPTY"), "Dockerfile:2: base name ($EMPTY) should not be blank");
  EXPECT_EQ(plan_error("FROM a\nFROM ${X:?unset}"), "Dockerfile:2: failed to process \"${X:?unset}\": X: unset");
  // FROM splits on blanks before expansion, as BuildKit does
  EXPECT_EQ(plan_error("FROM ${X:-a b}"), "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])");
  EXPECT_NE(plan_error("FROM Alpine").find("Dockerfile:1: FROM Alpine: "), std::string::npos);
  EXPECT_NE(plan_error("FROM a AS build\nFROM b\nCOPY --from=buidl_ /x /y").find("(did you mean stage build?)"),
            std::string::npos);
  EXPECT_NE(plan_error("FROM --platform=windows a").find("Dockerfile:1: invalid platform \"windows\""), std::string::npos);
}

TEST(Stages, UnusedBuildArgsAreReported) {
  BuildOptions options = options_for();
  options.build_args = {{"GO", "1"}, {"VERSION", "2"}, {"TESTFLAGS", "-v"}, {"UNUSED", "x"},
                        {"HTTP_PROXY", "http://proxy"}, {"TARGETARCH", "arm64"}};
  BuildPlan plan = plan_build(parse_dockerfile(multi_stage), options);
  // TESTFLAGS is declared only in "test", which this build skips.
  EXPECT_EQ(plan.unused_build_args, (std::vector<std::string>{"TESTFLAGS", "UNUSED"}));
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0], "[Warning] One or more build-args [TESTFLAGS UNUSED] were not consumed");
}

TEST(Stages, BuildArgsFromTheCommandLine) {
  auto environment = [](const char* name) -> const char* { return std::string(name) == "FROM_ENV" ? "env-value" : nullptr; };
  EXPECT_EQ(parse_build_arg("A=b=c", environment), (std::pair<std::string, std::string>{"A", "b=c"}));
  EXPECT_EQ(parse_build_arg("A=", environment), (std::pair<std::string, std::string>{"A", ""}));
  EXPECT_EQ(parse_build_arg("FROM_ENV", environment), (std::pair<std::string, std::string>{"FROM_ENV", "env-value"}));
  EXPECT_EQ(parse_build_arg("NOT_SET", environment), std::nullopt);
  EXPECT_THROW(parse_build_arg("=x", environment), Error);
  EXPECT_TRUE(is_proxy_arg("https_proxy"));
  EXPECT_TRUE(is_proxy_arg("NO_PROXY"));
  EXPECT_FALSE(is_proxy_arg("Http_Proxy"));
}

TEST(Stages, Platforms) {
  EXPECT_EQ(Platform::parse("linux/amd64").str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("linux/arm/v7").variant, "v7");
  EXPECT_EQ(Platform::parse("Linux/x86_64").str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("linux/aarch64/v8").str(), "linux/arm64");
  EXPECT_THROW(Platform::parse("linux"), Error);
  EXPECT_THROW(Platform::parse("linux//v7"), Error);
  EXPECT_THROW(Platform::parse("a/b/c/d"), Error);
  EXPECT_FALSE(Platform::host().architecture.empty());
  BuildOptions options = options_for();
  options.build_args["TARGETVARIANT"] = "v9";
  auto args = platform_args(options, "");
  EXPECT_NE(std::find(args.begin(), args.end(), std::pair<std::string, std::string>{"TARGETVARIANT", "v9"}), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), std::pair<std::string, std::string>{"TARGETSTAGE", "default"}), args.end());
}

}  // namespace

}  // namespace skiff::builder
