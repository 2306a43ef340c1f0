// Every command answers --help, and bad invocations fail with one line.
#include <gtest/gtest.h>

#include <sstream>

#include "core/strings.h"
#include "support/skiff_cli.h"

namespace skiff::test {

namespace {
// The subcommand names listed under "Subcommands:" in `skiff --help`.
std::vector<std::string> listed_commands(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream lines(help);
  std::string line;
  bool in_list = false;
  while (std::getline(lines, line)) {
    if (line.starts_with("Subcommands:")) {
      in_list = true;
      continue;
    }
    if (!in_list || line.size() < 3 || line[0] != ' ' || line[2] == ' ') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}
}  // namespace

TEST(Cli, EveryCommandHasHelp) {
  SkiffCli skiff;
  auto top = skiff.run({"--help"});
  ASSERT_EQ(top.exit_code, 0);
  auto commands = listed_commands(top.out);
  ASSERT_GE(commands.size(), 2u) << top.out;
  for (const auto& command : commands) {
    auto help = skiff.run({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("Usage:"), std::string::npos) << command;
    for (const auto& sub : listed_commands(help.out)) {
      auto nested = skiff.run({command, sub, "--help"});
      EXPECT_EQ(nested.exit_code, 0) << command << " " << sub;
    }
  }
}

TEST(Cli, UnknownCommandAndOptionFailWithOneLine) {
  SkiffCli skiff;
  for (auto args : std::vector<std::vector<std::string>>{{"frobnicate"}, {"info", "--bogus"}, {}}) {
    auto r = skiff.run(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  auto r = skiff.run({"frobnicate"});
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

TEST(Cli, VersionAndInfo) {
  SkiffCli skiff;
  EXPECT_NE(skiff.ok({"version"}).find("skiff version"), std::string::npos);
  auto info = skiff.ok({"info", "--format", "json"});
  EXPECT_NE(info.find("\"CgroupLayout\""), std::string::npos);
  EXPECT_NE(info.find(skiff.root().string()), std::string::npos);
  auto bad_level = skiff.run({"--log-level", "loud", "info"});
  EXPECT_NE(bad_level.exit_code, 0);
  EXPECT_NE(bad_level.err.find("loud"), std::string::npos);
}

}  // namespace skiff::test
