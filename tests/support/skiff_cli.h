// Runs the real skiff binary (from $SKIFF_BINARY, set by CTest) against a
// temporary store, as a user would.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/subprocess.h"

namespace skiff::test {

std::filesystem::path skiff_binary();
std::filesystem::path source_dir();

// True when running as root; integration tests skip (saying why) otherwise.
bool running_as_root();

class SkiffCli {
 public:
  // A fresh store under /var/tmp (not tmpfs: overlayfs upper dirs need a real fs).
  SkiffCli();
  explicit SkiffCli(std::filesystem::path root) : root_(std::move(root)) {}

  // Runs `skiff --root ROOT args…`.
  CommandResult run(const std::vector<std::string>& args, const CommandOptions& options = {}) const;
  // Runs and fails the test (with stderr) if the exit code is not 0.
  std::string ok(const std::vector<std::string>& args, const CommandOptions& options = {}) const;

  const std::filesystem::path& root() const { return root_; }
  std::vector<std::string> env;  // extra K=V for every run

 private:
  TempDir temp_{std::filesystem::path("/var/tmp"), "skiff-test-"};
  std::filesystem::path root_ = temp_.path();
};

}  // namespace skiff::test
