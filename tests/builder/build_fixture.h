// Integration tests of skiff build: the real skiff binary against a store
// of its own holding a busybox image (tests/support/test_images.h), build
// contexts in temporary directories, and the plain progress output read
// back to see which steps ran and which came from the cache.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/fs.h"
#include "support/skiff_cli.h"
#include "support/test_images.h"

namespace skiff::test {

struct StepLine {
  std::string name;   // "[stage-0 2/4] RUN echo hi"
  std::string text;   // "RUN echo hi"
  std::string state;  // "CACHED", "DONE", "ERROR" or "" (still running when output ended)
};

// The vertices of a plain progress log, in order of appearance.
std::vector<StepLine> parse_steps(const std::string& log);
// The state of the step whose text is `text` in `steps` ("" if absent).
std::string state_of(const std::vector<StepLine>& steps, const std::string& text);

class BuildTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Writes a file into the build context (parents created).
  void write(const std::string& path, const std::string& content, mode_t mode = 0644);
  const std::filesystem::path& context() const { return context_.path(); }

  // skiff build --progress plain ARGS… CONTEXT
  CommandResult build(const std::vector<std::string>& args = {});
  // The same, expecting success; returns the image ID (from --iidfile).
  std::string build_ok(const std::vector<std::string>& args = {}, std::vector<StepLine>* steps = nullptr);

  // skiff run --rm IMAGE sh -c SCRIPT; its stdout (expects exit 0).
  std::string run_in(const std::string& image, const std::string& script);
  // skiff inspect IMAGE as JSON (the first element).
  Json inspect(const std::string& image);

  SkiffCli cli;
  TempDir context_{std::filesystem::path("/var/tmp"), "skiff-build-context-"};
};

}  // namespace skiff::test
