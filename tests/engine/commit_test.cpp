// skiff commit: a container's changes (added, changed and deleted files)
// become a layer on its image; --change edits the config as a Dockerfile
// line would; what the runtime made for mounts stays out; bad input leaves
// the store as it was.
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace skiff::test {

namespace {

class Commit : public EngineTest {
 protected:
  std::string container = "commit-test-" + std::to_string(::getpid());
  Json inspect(const std::string& image) const { return parse_json(skiff.ok({"inspect", image}), "inspect").at(0); }
  std::string refused(const std::vector<std::string>& args) const { return test::refused(skiff, args); }
};

TEST_F(Commit, ChangesBecomeALayerAndChangesEditTheConfig) {
  skiff.ok({"run", "--name", container, "busybox:test", "sh", "-c",
            "echo added > /added && echo changed > /etc/motd && rm /bin/ls"});
  std::string id = skiff.ok({"commit", "-m", "my change", "-a", "Ann <ann@example.com>", "-c", "CMD [\"cat\", \"/added\"]",
                             "-c", "ENV GREETING=hello", "-c", "WORKDIR /etc", container, "team/app:v1"});
  ASSERT_EQ(id.rfind("sha256:", 0), 0u) << id;
  id.pop_back();

  EXPECT_EQ(skiff.ok({"run", "--rm", "team/app:v1"}), "added\n") << "CMD from --change";
  EXPECT_EQ(skiff.ok({"run", "--rm", "team/app:v1", "sh", "-c", "cat motd; pwd; echo $GREETING"}),
            "changed\n/etc\nhello\n");
  auto gone = skiff.run({"run", "--rm", "team/app:v1", "ls", "/"});
  EXPECT_NE(gone.exit_code, 0) << "the deleted /bin/ls is a whiteout in the new layer";

  Json image = inspect("team/app:v1"), base = inspect("busybox:test");
  EXPECT_EQ(image["Id"], id);
  EXPECT_EQ(image["Layers"].size(), base["Layers"].size() + 1);
  EXPECT_EQ(image["Author"], "Ann <ann@example.com>");
  Json last = image["History"].back();
  EXPECT_EQ(last["comment"], "my change");
  EXPECT_EQ(last["author"], "Ann <ann@example.com>");
  EXPECT_FALSE(last.value("empty_layer", false));
}

TEST_F(Commit, MountPointsTheRuntimeMadeAreNotChanges) {
  TempDir volume{"/var/tmp", "skiff-commit-vol-"};
  skiff.ok({"run", "--name", container, "-v", volume.path().string() + ":/data/vol", "busybox:test", "sh", "-c",
            "echo in-volume > /data/vol/f && mkdir /new"});
  skiff.ok({"commit", container, "mounts:test"});
  EXPECT_EQ(skiff.ok({"run", "--rm", "mounts:test", "sh", "-c", "test -d /new && test ! -e /data && echo clean"}),
            "clean\n");
}

TEST_F(Commit, ARunningContainerIsReadAsItIs) {
  skiff.ok({"run", "-d", "--name", container, "busybox:test", "sh", "-c", "echo live > /live; exec sleep 300"});
  // The file is written right after start; wait for it through exec (no timing assertion).
  for (int i = 0; i < 100 && skiff.run({"exec", container, "test", "-e", "/live"}).exit_code != 0; ++i)
    ::usleep(50'000);
  skiff.ok({"commit", container, "live:test"});
  EXPECT_EQ(skiff.ok({"exec", container, "cat", "/live"}), "live\n") << "the container keeps running";
  EXPECT_EQ(skiff.ok({"run", "--rm", "live:test", "cat", "/live"}), "live\n");
  skiff.ok({"rm", "-f", container});
}

TEST_F(Commit, WithoutANameTheImageIsUntagged) {
  skiff.ok({"run", "--name", container, "busybox:test", "true"});
  std::string id = skiff.ok({"commit", container});
  Json image = inspect(id.substr(7, 12));
  EXPECT_TRUE(image["RepoTags"].empty()) << image["RepoTags"];
}

TEST_F(Commit, BadInputIsRefusedAndTheStoreIsUnchanged) {
  skiff.ok({"run", "--name", container, "busybox:test", "true"});
  EXPECT_NE(refused({"commit", "no-such-container", "x:y"}).find("no-such-container"), std::string::npos);
  std::string err = refused({"commit", "-c", "RUN echo hi", container, "x:y"});
  EXPECT_NE(err.find("RUN"), std::string::npos) << err;
  err = refused({"commit", "-c", "FROM busybox", container, "x:y"});
  EXPECT_NE(err.find("FROM"), std::string::npos) << err;
  err = refused({"commit", "-c", "EXPOSE notaport", container, "x:y"});
  EXPECT_NE(err.find("notaport"), std::string::npos) << err;
  err = refused({"commit", container, "Bad_Name:UPPER!"});
  EXPECT_NE(err.find("Bad_Name"), std::string::npos) << err;
}

}  // namespace

}  // namespace skiff::test
