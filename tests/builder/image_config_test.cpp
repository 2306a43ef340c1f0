#include "builder/image_config.h"

#include <gtest/gtest.h>

#include "builder/stages.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

// Applies every instruction of a one-stage Dockerfile to `image`.
Json apply_all(const std::string& text, Json image) {
  Dockerfile d = parse_dockerfile("FROM base\n" + text);
  ConfigState state;
  for (const auto& instruction : d.stages[0].instructions) apply_to_config(image, instruction, state);
  return image;
}

Json with_cmd() { return {{"config", {{"Cmd", {"base-cmd"}}, {"Entrypoint", {"base-ep"}}}}}; }

TEST(ImageConfig, EntrypointResetsAnInheritedCmd) {
  Json image = apply_all("ENTRYPOINT [\"/app\"]", with_cmd());
  EXPECT_EQ(image["config"]["Entrypoint"], Json({"/app"}));
  EXPECT_FALSE(image["config"].contains("Cmd"));
}

TEST(ImageConfig, EntrypointKeepsACmdSetEarlierInTheStage) {
  Json image = apply_all("CMD [\"--help\"]\nENTRYPOINT [\"/app\"]", with_cmd());
  EXPECT_EQ(image["config"]["Cmd"], Json({"--help"}));
  EXPECT_EQ(image["config"]["Entrypoint"], Json({"/app"}));
}

TEST(ImageConfig, CmdAfterEntrypoint) {
  Json image = apply_all("ENTRYPOINT [\"/app\"]\nCMD [\"serve\"]", with_cmd());
  EXPECT_EQ(image["config"]["Cmd"], Json({"serve"}));
}

TEST(ImageConfig, EmptyEntrypointClearsIt) {
  Json image = apply_all("ENTRYPOINT []", with_cmd());
  EXPECT_FALSE(image["config"].contains("Entrypoint"));
  EXPECT_FALSE(image["config"].contains("Cmd"));
  EXPECT_EQ(apply_all("CMD []", with_cmd())["config"]["Cmd"], Json::array());
}

TEST(ImageConfig, ShellFormUsesTheCurrentShell) {
  Json image = apply_all("CMD run it\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT exec app", Json::object());
  EXPECT_EQ(image["config"]["Cmd"], Json({"/bin/sh", "-c", "run it"}));
  EXPECT_EQ(image["config"]["Entrypoint"], Json({"/bin/bash", "-c", "exec app"}));
  EXPECT_EQ(image["config"]["Shell"], Json({"/bin/bash", "-c"}));
}

TEST(ImageConfig, EnvReplacesInPlace) {
  Json image = apply_all("ENV B=2 A=9\nENV C=3", {{"config", {{"Env", {"A=1", "PATH=/bin"}}}}});
  EXPECT_EQ(image["config"]["Env"], Json({"A=9", "PATH=/bin", "B=2", "C=3"}));
}

TEST(ImageConfig, LabelsVolumesPortsSignals) {
  Json image = apply_all(
      "LABEL a=1 b=2\nLABEL a=3\nVOLUME /data [\"/logs\"]\nEXPOSE 8000-8002/udp 80/TCP 127.0.0.1:8080:80 9090:9091\n"
      "STOPSIGNAL SIGRTMIN+3",
      Json::object());
  EXPECT_EQ(image["config"]["Labels"], Json({{"a", "3"}, {"b", "2"}}));
  EXPECT_TRUE(image["config"]["Volumes"].contains("/data"));
  Json ports = image["config"]["ExposedPorts"];
  for (const char* port : {"8000/udp", "8001/udp", "8002/udp", "80/tcp", "9091/tcp"}) EXPECT_TRUE(ports.contains(port)) << port;
  EXPECT_EQ(ports.size(), 5u);
  EXPECT_EQ(image["config"]["StopSignal"], "SIGRTMIN+3");
}

TEST(ImageConfig, ExposedPortSpecs) {
  EXPECT_EQ(parse_exposed_ports("80"), std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(parse_exposed_ports("53/UDP"), std::vector<std::string>{"53/udp"});
  EXPECT_EQ(parse_exposed_ports("7-7/sctp"), std::vector<std::string>{"7/sctp"});
  EXPECT_EQ(parse_exposed_ports("[::1]:80"), std::vector<std::string>{"80/tcp"});
  EXPECT_THROW(parse_exposed_ports("70000"), Error);
  EXPECT_THROW(parse_exposed_ports("http"), Error);
  EXPECT_THROW(parse_exposed_ports("90-80"), Error);
  EXPECT_THROW(parse_exposed_ports("80/http"), Error);
  EXPECT_THROW(parse_exposed_ports("8000-8001:80-82"), Error);
  EXPECT_THROW(parse_exposed_ports(""), Error);
}

TEST(ImageConfig, StopSignals) {
  for (const char* good : {"SIGTERM", "term", "Kill", "9", "64", "SIGRTMAX-2", "RTMIN", "SIGWINCH"}) {
    EXPECT_NO_THROW(check_stop_signal(good)) << good;
  }
  for (const char* bad : {"", "SIGBOGUS", "0", "65", "SIGRTMIN+99", "-9", "TERM "}) {
    EXPECT_THROW(check_stop_signal(bad), Error) << bad;
  }
}

TEST(ImageConfig, HealthcheckAndNone) {
  Json image = apply_all("HEALTHCHECK --interval=10s --retries=2 CMD [\"/ok\"]", Json::object());
  EXPECT_EQ(image["config"]["Healthcheck"], Json({{"Test", {"CMD", "/ok"}}, {"Interval", 10'000'000'000}, {"Retries", 2}}));
  image = apply_all("HEALTHCHECK NONE", image);
  EXPECT_EQ(image["config"]["Healthcheck"], Json({{"Test", {"NONE"}}}));
}

TEST(ImageConfig, WorkdirUserOnbuildMaintainer) {
  Json image = apply_all("WORKDIR app\nWORKDIR ../srv/./x\nUSER 1000:1000\nONBUILD RUN a\nONBUILD COPY . /\nMAINTAINER me",
                         {{"config", {{"WorkingDir", "/home"}}}});
  EXPECT_EQ(image["config"]["WorkingDir"], "/home/srv/x");
  EXPECT_EQ(image["config"]["User"], "1000:1000");
  EXPECT_EQ(image["config"]["OnBuild"], Json({"RUN a", "COPY . /"}));
  EXPECT_EQ(image["author"], "me");
  EXPECT_FALSE(image["config"].contains("Labels"));
  EXPECT_EQ(resolve_workdir("", "x"), "/x");
  EXPECT_EQ(resolve_workdir("/a", "/b/../c/"), "/c");
}

TEST(ImageConfig, RunCopyArgChangeNothing) {
  Json before = {{"config", {{"Env", {"A=1"}}}}};
  EXPECT_EQ(apply_all("RUN x\nCOPY a b\nADD c d\nARG Z=1", before), before);
}

TEST(ImageConfig, ScratchImage) {
  Json image = scratch_image(Platform::parse("linux/arm/v7"));
  EXPECT_EQ(image["architecture"], "arm");
  EXPECT_EQ(image["variant"], "v7");
  EXPECT_EQ(image["config"]["Env"], Json({"PATH=" + default_path_env()}));
  EXPECT_EQ(image_shell(image), (std::vector<std::string>{"/bin/sh", "-c"}));
}

}  // namespace

}  // namespace skiff::builder
