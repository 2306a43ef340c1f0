#include "builder/evaluate.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff::builder {

namespace {

BuildOptions test_options(std::map<std::string, std::string> build_args = {}) {
  BuildOptions options;
  options.build_args = std::move(build_args);
  options.build_platform = Platform::parse("linux/amd64");
  options.target_platform = Platform::parse("linux/amd64");
  return options;
}

Json base_image() {
  return {{"architecture", "amd64"},
          {"os", "linux"},
          {"config", {{"Env", {"PATH=/usr/bin:/bin", "HOME=/root"}}, {"Cmd", {"/bin/sh"}}}}};
}

// Evaluates the last stage of `text` and returns its steps.
struct Evaluated {
  BuildPlan plan;
  StageResult result;
};
Evaluated evaluate(const std::string& text, std::map<std::string, std::string> build_args = {}, Json base = base_image()) {
  Evaluated e{plan_build(parse_dockerfile(text), test_options(std::move(build_args))), {}};
  e.result = evaluate_stage(e.plan, e.plan.target, std::move(base));
  return e;
}

std::string error_of(const std::string& text, std::map<std::string, std::string> build_args = {}) {
  try {
    evaluate(text, std::move(build_args));
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "evaluated without error:\n" << text;
  return "";
}

bool has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}
bool has_name(const std::vector<std::string>& env, const std::string& name) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
}

TEST(Evaluate, GlobalArgsMustBeRedeclaredInTheStage) {
  auto e = evaluate("ARG VERSION=1.0\nFROM a\nRUN before\nARG VERSION\nRUN after");
  const auto& steps = e.result.steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_FALSE(has_name(steps[0].run->env, "VERSION"));
  EXPECT_TRUE(steps[0].args.empty());
  EXPECT_TRUE(has(steps[2].run->env, "VERSION=1.0"));
  EXPECT_EQ(steps[2].args, (std::vector<std::pair<std::string, std::string>>{{"VERSION", "1.0"}}));
  EXPECT_EQ(steps[1].created_by, "ARG VERSION=1.0");
}

TEST(Evaluate, ArgValues) {
  auto e = evaluate("FROM a\nENV A=x\nARG B=${A}-y\nARG C\nARG D=default\nRUN true", {{"D", "given"}});
  const auto& run = *e.result.steps.back().run;
  EXPECT_TRUE(has(run.env, "B=x-y"));
  EXPECT_FALSE(has_name(run.env, "C"));  // declared without a value
  EXPECT_TRUE(has(run.env, "D=given"));
  EXPECT_EQ(e.result.steps.back().args,
            (std::vector<std::pair<std::string, std::string>>{{"B", "x-y"}, {"D", "given"}}));
  // ARGs never reach the image's environment
  EXPECT_EQ(e.result.image["config"]["Env"], Json({"PATH=/usr/bin:/bin", "HOME=/root", "A=x"}));
}

TEST(Evaluate, LaterDefinitionsWinBetweenArgAndEnv) {
  auto e = evaluate("FROM a\nARG V=arg\nENV V=env\nRUN one\nARG W=arg2\nENV W=env2\nARG W\nRUN two");
  EXPECT_TRUE(has(e.result.steps[2].run->env, "V=env"));
  EXPECT_TRUE(has(e.result.steps[6].run->env, "W=env2"));  // ARG W without a value changes nothing
}

TEST(Evaluate, EnvExpandsAgainstTheValuesBeforeTheInstruction) {
  auto e = evaluate("FROM a\nENV A=1\nENV A=2 B=$A\nENV C \"quoted  value\" \nENV D=${HOME}/bin E='$A' F=\"$A\"");
  EXPECT_EQ(e.result.image["config"]["Env"],
            Json({"PATH=/usr/bin:/bin", "HOME=/root", "A=2", "B=1", "C=quoted  value", "D=/root/bin", "E=$A", "F=2"}));
  EXPECT_EQ(e.result.steps[1].created_by, "ENV A=2 B=1");
  EXPECT_FALSE(e.result.steps[1].layer);
}

TEST(Evaluate, LabelsExpandKeysAndValues) {
  auto e = evaluate("FROM a\nARG V=1.2\nLABEL \"org.opencontainers.image.version\"=$V app.$V=yes");
  EXPECT_EQ(e.result.image["config"]["Labels"], Json({{"org.opencontainers.image.version", "1.2"}, {"app.1.2", "yes"}}));
  EXPECT_EQ(e.result.steps[1].args, (std::vector<std::pair<std::string, std::string>>{{"V", "1.2"}}));
}

TEST(Evaluate, WorkdirAccumulatesAndCreatesALayer) {
  auto e = evaluate("FROM a\nENV DIR=c\nWORKDIR /a\nWORKDIR b\nWORKDIR $DIR\nWORKDIR ../d\nWORKDIR /");
  const auto& steps = e.result.steps;
  EXPECT_EQ(steps[1].cache_input["path"], "/a");
  EXPECT_EQ(steps[3].cache_input["path"], "/a/b/c");
  EXPECT_EQ(steps[4].cache_input["path"], "/a/b/d");
  EXPECT_TRUE(steps[4].layer);
  EXPECT_FALSE(steps[5].layer);
  EXPECT_EQ(e.result.image["config"]["WorkingDir"], "/");
}

TEST(Evaluate, CopyDestinationsAndFlags) {
  auto e = evaluate(
      "FROM a AS build\nFROM b\nARG UID=1000\nWORKDIR /app\nCOPY x .\nCOPY x sub\nCOPY x sub/\n"
      "COPY --from=build --chown=$UID:$UID --chmod=0640 /out/a /abs\nCOPY --from=registry.test/tools:1 /t /t\n"
      "ADD --unpack=true site.tar.gz /srv/");
  const auto& steps = e.result.steps;
  EXPECT_EQ(steps[2].copy->destination, "/app/");
  EXPECT_EQ(steps[3].copy->destination, "/app/sub");
  EXPECT_EQ(steps[4].copy->destination, "/app/sub/");
  const CopyStep& from_stage = *steps[5].copy;
  EXPECT_EQ(from_stage.from, CopyStep::From::stage);
  EXPECT_EQ(from_stage.stage, 0u);
  EXPECT_EQ(from_stage.chown, "1000:1000");
  EXPECT_EQ(from_stage.chmod, "0640");
  EXPECT_TRUE(from_stage.keep_ownership);
  EXPECT_FALSE(steps[2].copy->keep_ownership);
  EXPECT_EQ(steps[5].args, (std::vector<std::pair<std::string, std::string>>{{"UID", "1000"}}));
  EXPECT_EQ(steps[5].created_by, "COPY --from=build --chown=1000:1000 --chmod=0640 /out/a /abs # buildkit");
  EXPECT_EQ(steps[6].copy->from, CopyStep::From::image);
  EXPECT_EQ(steps[6].copy->image, "registry.test/tools:1");
  EXPECT_TRUE(steps[7].copy->add);
  EXPECT_EQ(steps[7].copy->unpack, true);
  EXPECT_TRUE(steps[7].layer);
}

TEST(Evaluate, CopyHeredocsExpandUnlessQuoted) {
  auto e = evaluate("FROM a\nENV NAME=world\nCOPY <<EOF <<'RAW' /etc/\nhello $NAME \"q\" \\$NAME\nEOF\nhello $NAME\nRAW");
  const auto& inline_sources = e.result.steps[1].copy->inline_sources;
  ASSERT_EQ(inline_sources.size(), 2u);
  EXPECT_EQ(inline_sources[0].content, "hello world \"q\" $NAME\n");
  EXPECT_EQ(inline_sources[1].content, "hello $NAME\n");
}

TEST(Evaluate, RunCommandLines) {
  auto e = evaluate(
      "FROM a\nRUN echo $HOME\nRUN [\"/bin/echo\", \"$HOME\"]\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\n"
      "RUN echo hi\nRUN <<EOF\necho one\nEOF\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"
      "RUN cat <<A > /x\nbody\nA\nUSER app\nWORKDIR /w\nRUN id");
  const auto& steps = e.result.steps;
  EXPECT_EQ(steps[0].run->argv, (std::vector<std::string>{"/bin/sh", "-c", "echo $HOME"}));  // not expanded
  EXPECT_EQ(steps[1].run->argv, (std::vector<std::string>{"/bin/echo", "$HOME"}));
  EXPECT_EQ(steps[3].run->argv, (std::vector<std::string>{"/bin/bash", "-eo", "pipefail", "-c", "echo hi"}));
  EXPECT_EQ(steps[4].run->argv, (std::vector<std::string>{"/bin/bash", "-eo", "pipefail", "-c", "echo one\n"}));
  EXPECT_EQ(steps[5].run->argv, (std::vector<std::string>{"/bin/bash", "-eo", "pipefail", "-c", "/dev/pipes/EOF"}));
  ASSERT_EQ(steps[5].run->files.size(), 1u);
  EXPECT_EQ(steps[5].run->files[0].path, "/dev/pipes/EOF");
  EXPECT_EQ(steps[5].run->files[0].content, "#!/usr/bin/env python3\nprint(1)\n");
  EXPECT_EQ(steps[6].run->argv, (std::vector<std::string>{"/bin/bash", "-eo", "pipefail", "-c", "cat <<A > /x\nbody\nA"}));
  EXPECT_EQ(steps[9].run->user, "app");
  EXPECT_EQ(steps[9].run->workdir, "/w");
  EXPECT_EQ(steps[0].run->workdir, "/");
  EXPECT_EQ(steps[0].created_by, "RUN /bin/sh -c echo $HOME # buildkit");
}

TEST(Evaluate, RunEnvironmentMountsAndProxies) {
  auto e = evaluate(
      "FROM a AS deps\nFROM b\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE,id=go "
      "--mount=type=bind,from=deps,source=/src,target=/src --network=none make",
      {{"HTTP_PROXY", "http://proxy:3128"}},
      Json{{"config", Json::object()}});
  const Step& step = e.result.steps[1];
  const RunStep& run = *step.run;
  ASSERT_EQ(run.mounts.size(), 2u);
  EXPECT_EQ(run.mounts[0].target, "/root/.cache");
  EXPECT_EQ(run.mounts[0].type, RunMount::Type::cache);
  EXPECT_FALSE(run.mount_sources[0]);
  ASSERT_TRUE(run.mount_sources[1]);
  EXPECT_EQ(run.mount_sources[1]->stage, 0u);
  EXPECT_EQ(run.network, "none");
  // PATH is provided when the image has none; the proxy reaches the process
  // but not the cache key.
  EXPECT_TRUE(has(run.env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  EXPECT_TRUE(has(run.env, "HTTP_PROXY=http://proxy:3128"));
  EXPECT_EQ(step.cache_input["env"].dump().find("proxy"), std::string::npos);
  EXPECT_EQ(step.created_by.find("proxy"), std::string::npos);
  EXPECT_EQ(step.cache_input["mounts"][0]["target"], "/root/.cache");
}

TEST(Evaluate, MetadataInstructions) {
  auto e = evaluate(
      "FROM a\nENV PORTS=\"80 443\" SIG=SIGINT VOL=/data\nEXPOSE $PORTS 53/udp\nSTOPSIGNAL $SIG\nVOLUME $VOL [\"/x\"]\n"
      "USER ${USER_NAME:-app}\nCMD echo $HOME\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN make\n"
      "MAINTAINER someone");
  const Json& config = e.result.image["config"];
  EXPECT_EQ(config["ExposedPorts"], Json({{"443/tcp", Json::object()}, {"53/udp", Json::object()}, {"80/tcp", Json::object()}}));
  EXPECT_EQ(config["StopSignal"], "SIGINT");
  EXPECT_TRUE(config["Volumes"].contains("/data"));
  EXPECT_EQ(config["User"], "app");
  EXPECT_EQ(config["Cmd"], Json({"/bin/sh", "-c", "echo $HOME"}));
  EXPECT_EQ(config["Healthcheck"], Json({{"Test", {"CMD-SHELL", "true"}}, {"Interval", 5'000'000'000}}));
  EXPECT_EQ(config["OnBuild"], Json({"RUN make"}));
  EXPECT_EQ(e.result.image["author"], "someone");
  EXPECT_EQ(e.result.steps[1].created_by, "EXPOSE 80/tcp 443/tcp 53/udp");
  for (const auto& step : e.result.steps) EXPECT_FALSE(step.layer) << step.instruction.text;
}

TEST(Evaluate, ErrorsCarryTheLine) {
  EXPECT_EQ(error_of("FROM a\n\nWORKDIR ${DIR:?set DIR}"), "Dockerfile:3: failed to process \"${DIR:?set DIR}\": DIR: set DIR");
  EXPECT_EQ(error_of("FROM a\nADD https://example.invalid/x.tgz /x"),
            "Dockerfile:2: ADD https://example.invalid/x.tgz: downloading URLs and git repositories is not supported yet "
            "(builds have no network policy for sources): fetch it in a RUN step, or put it in the build context and COPY it");
  EXPECT_EQ(error_of("FROM a\nADD --checksum=sha256:abc x /x"),
            "Dockerfile:2: checksum can't be specified for non-HTTP(S) sources");
  EXPECT_EQ(error_of("FROM a\nARG M=abc\nCOPY --chmod=$M x /x"),
            "Dockerfile:3: invalid --chmod value \"abc\": give an octal mode such as 0755");
  EXPECT_EQ(error_of("FROM a\nEXPOSE 80/http"), "Dockerfile:2: invalid port \"80/http\": invalid proto: http (use tcp, udp or sctp)");
  EXPECT_EQ(error_of("FROM a\nSTOPSIGNAL SIGBOGUS"), "Dockerfile:2: invalid signal: SIGBOGUS");
  EXPECT_EQ(error_of("FROM a\nENV E=\nUSER $E"), "Dockerfile:3: USER requires a non-empty user name");
  EXPECT_EQ(error_of("FROM a\nARG T=bogus\nRUN --mount=type=$T,target=/x make"), "Dockerfile:3: unsupported mount type \"bogus\"");
  try {
    evaluate("FROM a\nADD git@example.invalid:x.git /x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
  }
}

TEST(Evaluate, OnbuildTriggersRunFirstAndAreNotInherited) {
  Json base = base_image();
  base["config"]["OnBuild"] = {"ENV FROM_TRIGGER=1", "COPY --from=builder /out /out"};
  auto plan = plan_build(parse_dockerfile("FROM x AS builder\nFROM base\nRUN make"), test_options());
  StageEvaluator stage(plan, 1, base);
  ASSERT_EQ(stage.triggers().size(), 2u);
  auto sources = stage.trigger_sources();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].stage, 0u);
  EXPECT_FALSE(stage.image()["config"].contains("OnBuild"));

  StageResult result = evaluate_stage(plan, 1, base);
  ASSERT_EQ(result.steps.size(), 3u);
  EXPECT_EQ(result.steps[0].instruction.keyword, Keyword::env);
  EXPECT_EQ(result.steps[1].copy->from, CopyStep::From::stage);
  EXPECT_TRUE(has(result.steps[2].run->env, "FROM_TRIGGER=1"));

  base["config"]["OnBuild"] = {"FROM nope"};
  EXPECT_THROW(StageEvaluator(plan, 1, base), Error);
}

TEST(Evaluate, EarlierStagesPassTheirConfigOn) {
  auto plan = plan_build(parse_dockerfile("FROM a AS base\nENV A=1\nONBUILD RUN echo child\nFROM base\nRUN x"), test_options());
  StageResult parent = evaluate_stage(plan, 0, base_image());
  StageResult child = evaluate_stage(plan, 1, parent.image);
  ASSERT_EQ(child.steps.size(), 2u);  // the trigger, then RUN x
  EXPECT_EQ(child.steps[0].run->argv.back(), "echo child");
  EXPECT_TRUE(has(child.steps[1].run->env, "A=1"));
}

}  // namespace

}  // namespace skiff::builder
