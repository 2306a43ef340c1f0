#include "container/options.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::container {

namespace {
Json image(std::vector<std::string> entrypoint, std::vector<std::string> cmd) {
  Json c = Json::object();
  if (!entrypoint.empty()) c["Entrypoint"] = entrypoint;
  if (!cmd.empty()) c["Cmd"] = cmd;
  return c;
}
using V = std::vector<std::string>;
}  // namespace

TEST(RunOptions, CommandFollowsDockerRules) {
  RunOptions o;
  o.image = "app";
  EXPECT_EQ(resolve_command(image({}, {"sh"}), o), V{"sh"});
  EXPECT_EQ(resolve_command(image({"/app"}, {"--serve"}), o), (V{"/app", "--serve"}));
  o.command = {"--port", "80"};
  EXPECT_EQ(resolve_command(image({"/app"}, {"--serve"}), o), (V{"/app", "--port", "80"}));
  o.command.clear();
  o.entrypoint = "/bin/sh";
  EXPECT_EQ(resolve_command(image({"/app"}, {"--serve"}), o), V{"/bin/sh"});  // image Cmd dropped
  o.command = {"-c", "true"};
  EXPECT_EQ(resolve_command(image({"/app"}, {"--serve"}), o), (V{"/bin/sh", "-c", "true"}));
  o.entrypoint = "";
  o.command.clear();
  EXPECT_THROW(resolve_command(image({"/app"}, {"--serve"}), o), Error);
  RunOptions none;
  none.image = "empty";
  try {
    resolve_command(Json::object(), none);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no command specified"), std::string::npos);
  }
}

TEST(RunOptions, EnvironmentLayering) {
  TempDir dir;
  write_file_atomic(dir.path() / "env", "# comment\n\nFROM_FILE=1\n  SPACED = kept value\nOVERRIDE=file\n");
  ::setenv("SKIFF_TEST_PASSTHROUGH", "host", 1);
  ::unsetenv("SKIFF_TEST_UNSET");
  RunOptions o;
  o.env_files = {(dir.path() / "env").string()};
  o.env = {"OVERRIDE=flag", "SKIFF_TEST_PASSTHROUGH", "SKIFF_TEST_UNSET", "IMAGE_VAR=new"};
  o.tty = true;
  Json config = {{"Env", {"PATH=/custom", "IMAGE_VAR=old"}}};
  auto env = resolve_environment(config, o, "box", "/home/containeruser");
  auto has = [&](const std::string& e) { return std::find(env.begin(), env.end(), e) != env.end(); };
  EXPECT_TRUE(has("PATH=/custom"));
  EXPECT_TRUE(has("IMAGE_VAR=new"));
  EXPECT_FALSE(has("IMAGE_VAR=old"));
  EXPECT_TRUE(has("HOSTNAME=box"));
  EXPECT_TRUE(has("TERM=xterm"));
  EXPECT_TRUE(has("FROM_FILE=1"));
  EXPECT_TRUE(has("SPACED= kept value"));
  EXPECT_TRUE(has("OVERRIDE=flag"));
  EXPECT_TRUE(has("SKIFF_TEST_PASSTHROUGH=host"));
  EXPECT_TRUE(has("HOME=/home/containeruser"));
  for (const auto& e : env) EXPECT_FALSE(e.starts_with("SKIFF_TEST_UNSET")) << e;
  RunOptions plain;
  auto defaults = resolve_environment(Json::object(), plain, "h", "/");
  EXPECT_EQ(defaults.front().substr(0, 5), "PATH=");
}

TEST(RunOptions, BadEnvIsAnErrorNamingIt) {
  RunOptions o;
  o.env = {"=value"};
  EXPECT_THROW(resolve_environment(Json::object(), o, "h", "/"), Error);
  TempDir dir;
  write_file_atomic(dir.path() / "env", "GOOD=1\nbad key=2\n");
  try {
    read_env_file((dir.path() / "env").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_env_file((dir.path() / "missing").string()), Error);
}

TEST(RunOptions, Volumes) {
  auto v = parse_volume("/srv/data:/data:ro");
  EXPECT_EQ(v.source, "/srv/data");
  EXPECT_EQ(v.destination, "/data");
  EXPECT_TRUE(v.read_only);
  EXPECT_FALSE(parse_volume("/a:/b").read_only);
  EXPECT_THROW(parse_volume("relative:/b"), Error);
  EXPECT_THROW(parse_volume("/a:relative"), Error);
  EXPECT_THROW(parse_volume("/a"), Error);
  EXPECT_THROW(parse_volume("/a:/b:rx"), Error);
  EXPECT_EQ(parse_tmpfs("/run:size=1m").options, "size=1m");
  EXPECT_THROW(parse_tmpfs("run"), Error);
}

TEST(RunOptions, CpusAndCapabilities) {
  EXPECT_EQ(parse_cpus(0.5).quota, 50000);
  EXPECT_EQ(parse_cpus(2).quota, 200000);
  EXPECT_THROW(parse_cpus(0), Error);
  EXPECT_THROW(parse_cpus(-1), Error);
  EXPECT_EQ(normalize_capability("net_admin"), "CAP_NET_ADMIN");
  EXPECT_EQ(normalize_capability("CAP_SYS_TIME"), "CAP_SYS_TIME");
  EXPECT_EQ(normalize_capability("all"), "ALL");
  EXPECT_THROW(normalize_capability("FLY"), Error);
}

}  // namespace skiff::container
