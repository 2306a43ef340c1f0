// Bad Dockerfiles and bad requests: one line on stderr naming the file, the
// line and what is wrong, a non-zero exit, and the store as it was — no
// image, no tag moved, no blob or snapshot left behind.
#include <algorithm>

#include "builder/build_fixture.h"

namespace skiff::test {

namespace {

struct BadBuild {
  std::string name;
  std::string dockerfile;
  std::vector<std::string> args;
  std::string expected;  // the whole stderr line after "skiff: ", or its start when it ends with "…"
};

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

class BuildErrorsTest : public BuildTest {
 protected:
  // What must not change: images and their names, blobs, snapshots, leftovers.
  std::string store_state() {
    std::string state = cli.ok({"images", "--format", "json"});
    for (const auto& name : listing(cli.root() / "content/blobs/sha256")) state += "blob " + name + "\n";
    for (const auto& name : listing(cli.root() / "snapshots")) state += "snapshot " + name + "\n";
    for (const auto& name : listing(cli.root() / "tmp")) state += "tmp " + name + "\n";
    return state;
  }
};

TEST_F(BuildErrorsTest, OneLineErrorsAndAnUnchangedStore) {
  write("a.txt", "a\n");
  write("b.txt", "b\n");
  // An image already named app:bad: a failed build must not move the name.
  write("Dockerfile", "FROM busybox:test\nRUN echo good > /good\n");
  build_ok({"-t", "app:bad"});

  const std::vector<BadBuild> cases = {
      {"unknown instruction", "FROM busybox:test\nRUNN echo hi\n", {},
       "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
      {"failing RUN", "FROM busybox:test\nENV X=1\nRUN echo about to fail && false\n", {},
       "Dockerfile:3: RUN echo about to fail && false: process \"/bin/sh -c echo about to fail && false\" did not "
       "complete successfully: exit code: 1"},
      {"missing source", "FROM busybox:test\nCOPY missing.txt /\n", {},
       "Dockerfile:2: COPY missing.txt /: \"/missing.txt\": not found"},
      {"several sources, file destination", "FROM busybox:test\nCOPY a.txt b.txt /dest\n", {},
       "Dockerfile:2: COPY a.txt b.txt /dest: when using COPY with more than one source file, the destination must "
       "be a directory and end with a /"},
      {"unknown base image", "FROM nothere:1\nRUN true\n", {},
       "Dockerfile:1: FROM nothere:1: image nothere:1 is not in the store and names no registry…"},
      {"bad substitution", "FROM busybox:test\nENV A=${B\n", {}, "Dockerfile:2: …"},
      {"bad --chmod", "FROM busybox:test\nCOPY --chmod=999 a.txt /\n", {},
       "Dockerfile:2: invalid --chmod value \"999\": give an octal mode such as 0755"},
      {"unknown target", "FROM busybox:test AS one\nRUN true\n", {"--target", "onee"},
       "Dockerfile: target stage \"onee\" could not be found (did you mean one?)"},
      {"bad tag", "FROM busybox:test\n", {"-t", "Bad:Tag"}, "invalid tag \"Bad:Tag\": …"},
      {"unterminated heredoc", "FROM busybox:test\nRUN <<EOF\necho never closed\n", {}, "Dockerfile:2: …"},
      {"bad network", "FROM busybox:test\n", {"--network", "bridge"},
       "--network bridge: builds support host (the default) and none"},
      {"COPY --from an unknown stage", "FROM busybox:test\nCOPY --from=nosuchstage:latest /x /\n", {},
       "Dockerfile:2: COPY --from=nosuchstage:latest /x /: image nosuchstage:latest is not in the store…"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.name);
    write("Dockerfile", bad.dockerfile);
    std::string before = store_state();
    std::vector<std::string> args = {"-q", "-t", "app:bad"};
    args.insert(args.end(), bad.args.begin(), bad.args.end());
    auto result = build(args);
    EXPECT_NE(result.exit_code, 0);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
    std::string line = result.err.substr(0, result.err.find('\n'));
    const std::string ellipsis = "…";
    if (bad.expected.ends_with(ellipsis)) {
      EXPECT_TRUE(line.starts_with("skiff: " + bad.expected.substr(0, bad.expected.size() - ellipsis.size())))
          << line;
    } else {
      EXPECT_EQ(line, "skiff: " + bad.expected);
    }
    EXPECT_EQ(store_state(), before);
  }
  // The name still points at the good image.
  EXPECT_EQ(run_in("app:bad", "cat /good"), "good\n");
}

TEST_F(BuildErrorsTest, MissingDockerfileAndContext) {
  auto result = build({"-q"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(result.err, "skiff: failed to read dockerfile: open " + (context() / "Dockerfile").string() +
                            ": no such file\n");
  auto missing = cli.run({"build", "-q", "/nonexistent-skiff-context"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(missing.err, "skiff: unable to prepare context: path \"/nonexistent-skiff-context\" is not a directory\n");
}

}  // namespace skiff::test
