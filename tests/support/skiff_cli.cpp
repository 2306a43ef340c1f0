#include "support/skiff_cli.h"

#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

namespace skiff::test {

std::filesystem::path skiff_binary() {
  const char* env = std::getenv("SKIFF_BINARY");
  return env ? env : SKIFF_BINARY_DEFAULT;
}

std::filesystem::path source_dir() {
  const char* env = std::getenv("SKIFF_SOURCE_DIR");
  return env ? env : SKIFF_SOURCE_DIR_DEFAULT;
}

bool running_as_root() { return ::geteuid() == 0; }

SkiffCli::SkiffCli() = default;

CommandResult SkiffCli::run(const std::vector<std::string>& args, const CommandOptions& options) const {
  std::vector<std::string> argv = {skiff_binary().string(), "--root", root_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions o = options;
  o.extra_env.insert(o.extra_env.end(), env.begin(), env.end());
  // Tests never read the host's /etc/skiff/config.json.
  o.extra_env.push_back("SKIFF_CONFIG=/nonexistent");
  return run_command(argv, o);
}

std::string SkiffCli::ok(const std::vector<std::string>& args, const CommandOptions& options) const {
  auto result = run(args, options);
  std::string joined;
  for (const auto& a : args) joined += " " + a;
  EXPECT_EQ(result.exit_code, 0) << "skiff" << joined << "\nstdout: " << result.out << "\nstderr: " << result.err;
  return result.out;
}

}  // namespace skiff::test
