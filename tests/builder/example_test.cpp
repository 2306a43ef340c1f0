// The quick start: skiff's own base images, then examples/hello built with
// its two-stage Dockerfile (g++ from apt on core, the binary copied onto
// nano) and run. Slow (core is a Debian bootstrap, the build installs g++),
// so it is the only test that needs core and the apt mirror.
#include "builder/build_fixture.h"

namespace skiff::test {

TEST(BuildExampleTest, HelloBuildsOnCoreAndRunsOnNano) {
  if (!running_as_root()) GTEST_SKIP() << "builds mount overlays and run containers: run the tests as root";
  SkiffCli cli;
  // The store's cache (apt lists, .deb files) outlives the test's store.
  ensure_dir(SKIFF_TEST_CACHE_DIR);
  std::filesystem::create_directory_symlink(SKIFF_TEST_CACHE_DIR, cli.root() / "cache");
  auto nano = cli.run({"base", "build", "-q", "nano"});
  if (nano.exit_code != 0) GTEST_SKIP() << "nano cannot be built here: " << nano.err;
  auto core = cli.run({"base", "build", "-q", "core"});
  if (core.exit_code != 0)
    GTEST_SKIP() << "core cannot be built here (it needs mmdebstrap and the Debian mirror): " << core.err;

  auto example = source_dir() / "examples/hello";
  auto built = cli.run({"build", "--progress", "plain", "-t", "hello", example.string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto steps = parse_steps(built.err);
  EXPECT_EQ(state_of(steps, "COPY --from=build /src/hello /app/hello"), "DONE") << built.err;

  auto ran = cli.run({"run", "--rm", "hello"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_NE(ran.out.find("hello from skiff"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("user:     containeruser (uid 1000)"), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("CA certificates loaded"), std::string::npos) << ran.out;

  // Rebuilt unchanged, every step comes from the cache and the image is the same.
  auto again = cli.run({"build", "--progress", "plain", "-t", "hello", example.string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const auto& step : parse_steps(again.err)) {
    if (step.text.starts_with("RUN") || step.text.starts_with("COPY")) {
      EXPECT_EQ(step.state, "CACHED") << step.name;
    }
  }
}

}  // namespace skiff::test
