// skiff rmi: untag vs delete, blob garbage collection, images that
// containers use, bad names.
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/json.h"
#include "image_fixture.h"
#include "support/test_images.h"

namespace skiff::test {

namespace {

class Rmi : public ImageTest {
 protected:
  void SetUp() override {
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    id = add_busybox_image(skiff.root());
    skiff.ok({"tag", "busybox:test", "example.com/team/bb:v2"});
    Json image = parse_json(skiff.ok({"inspect", "busybox:test"}), "inspect").at(0);
    blobs = {image["Id"], image["Manifest"]["Digest"]};
    for (const auto& layer : image["Layers"]) blobs.push_back(layer["Digest"]);
  }

  // How many of the image's blobs are still in the content store.
  size_t blobs_present() const {
    size_t n = 0;
    for (const auto& b : blobs) n += std::filesystem::exists(skiff.root() / "content/blobs/sha256" / b.substr(7));
    return n;
  }
  std::string listed_ids() const { return skiff.ok({"images", "-q"}); }
  std::string short_id() const { return id.substr(7, 12); }

  std::string id;
  std::vector<std::string> blobs;  // manifest, config and layers
};

TEST_F(Rmi, UntagsUntilTheLastNameThenDeletesAndCollectsBlobs) {
  EXPECT_EQ(skiff.ok({"rmi", "example.com/team/bb:v2"}), "Untagged: example.com/team/bb:v2\n");
  EXPECT_EQ(listed_ids(), short_id() + "\n");
  EXPECT_EQ(blobs_present(), blobs.size());

  std::string out = skiff.ok({"rmi", "busybox:test"});
  EXPECT_EQ(out, "Untagged: busybox:test\nDeleted: " + id + "\n");
  EXPECT_EQ(listed_ids(), "");
  EXPECT_EQ(blobs_present(), 0u) << "unreferenced blobs are garbage-collected";
}

TEST_F(Rmi, AnIdNamedInSeveralRepositoriesNeedsForce) {
  std::string err = refused({"rmi", short_id()});
  EXPECT_NE(err.find("-f"), std::string::npos) << err;
  std::string out = skiff.ok({"rmi", "-f", short_id()});
  EXPECT_NE(out.find("Deleted: " + id), std::string::npos) << out;
  EXPECT_EQ(listed_ids(), "");
  EXPECT_EQ(blobs_present(), 0u);
}

TEST_F(Rmi, ImageAContainerUsesIsRefusedUnlessForced) {
  if (!running_as_root()) GTEST_SKIP() << "creating a container needs root (mounts)";
  skiff.ok({"rmi", "example.com/team/bb:v2"});
  std::string container = "rmi-test-" + std::to_string(::getpid());
  skiff.ok({"create", "--name", container, "busybox:test", "true"});

  std::string container_id = parse_json(skiff.ok({"inspect", "--type", "container", container}), "inspect").at(0)["Id"];
  for (const auto& name : {std::string("busybox:test"), short_id()}) {
    std::string err = refused({"rmi", name});
    EXPECT_NE(err.find("container " + container_id), std::string::npos) << err;
    EXPECT_NE(err.find("skiff rm"), std::string::npos) << err;
  }

  // -f only untags: the container still has its image and blobs.
  EXPECT_EQ(skiff.ok({"rmi", "-f", "busybox:test"}), "Untagged: busybox:test\n");
  EXPECT_EQ(listed_ids(), short_id() + "\n");
  EXPECT_EQ(blobs_present(), blobs.size());
  skiff.ok({"rm", container});
}

TEST_F(Rmi, BadNamesAreRefused) {
  std::string err = refused({"rmi", "nosuch:image"});
  EXPECT_NE(err.find("nosuch:image"), std::string::npos) << err;
  err = refused({"rmi", "Bad/Name"});
  EXPECT_NE(err.find("invalid reference"), std::string::npos) << err;
  // With several names, the good ones go and the bad one is named.
  auto r = skiff.run({"rmi", "example.com/team/bb:v2", "nosuch:image"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "Untagged: example.com/team/bb:v2\n");
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("nosuch:image"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace skiff::test
