// skiff push to a real docker-registry, then pull back into a fresh store.
#include <gtest/gtest.h>

#include "core/json.h"
#include "image_fixture.h"
#include "support/test_images.h"

namespace skiff::test {

namespace {

// Registry requests that start a blob upload.
size_t upload_starts(const std::string& log) {
  size_t n = 0;
  for (auto& line : split(log, '\n'))
    if (line.find("\"POST ") != std::string::npos && line.find("/blobs/uploads/") != std::string::npos) ++n;
  return n;
}

class Push : public ImageTest {
 protected:
  void SetUp() override {
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    use(registry);
    id = add_busybox_image(skiff.root());
  }

  // The manifest digest push reports ("TAG: digest: sha256:… size: N").
  static std::string pushed_digest(const std::string& out) {
    auto at = out.find(": digest: ");
    if (at == std::string::npos) return "";
    at += 10;
    return out.substr(at, out.find(' ', at) - at);
  }

  TestRegistry registry;
  std::string id;
};

TEST_F(Push, PushedImagePullsBackByTagAndDigest) {
  std::string ref = registry.ref("team/bb:v1");
  skiff.ok({"tag", "busybox:test", ref});
  std::string out = skiff.ok({"push", ref});
  EXPECT_NE(out.find("The push refers to repository [" + registry.ref("team/bb") + "]"), std::string::npos) << out;
  EXPECT_NE(out.find(": Pushed"), std::string::npos) << out;
  std::string digest = pushed_digest(out);
  ASSERT_TRUE(digest.starts_with("sha256:")) << out;
  // The store records where the image now is.
  Json image = parse_json(skiff.ok({"inspect", ref}), "inspect").at(0);
  EXPECT_EQ(image["RepoDigests"], Json::array({registry.ref("team/bb@" + digest)})) << image.dump();

  for (const std::string& pulled : {ref, registry.ref("team/bb@" + digest)}) {
    SkiffCli fresh;
    fresh.env = skiff.env;
    fresh.ok({"pull", "-q", pulled});
    EXPECT_EQ(parse_json(fresh.ok({"inspect", pulled}), "inspect").at(0)["Id"], id) << pulled;
  }
}

TEST_F(Push, SecondPushUploadsNothingAndOtherRepositoriesMount) {
  std::string ref = registry.ref("team/bb:v1");
  skiff.ok({"tag", "busybox:test", ref});
  skiff.ok({"push", "-q", ref});
  size_t uploads = upload_starts(registry.log());
  EXPECT_EQ(uploads, 2u) << "a layer and the config\n" << registry.log();

  std::string out = skiff.ok({"push", ref});
  size_t existing = 0;
  for (auto& line : split(out, '\n')) existing += line.ends_with(": Layer already exists");
  EXPECT_EQ(existing, 2u) << "the layer and the config:\n" << out;
  EXPECT_EQ(out.find(": Pushed"), std::string::npos) << out;
  EXPECT_EQ(upload_starts(registry.log()), uploads) << registry.log();

  // Another repository of the same registry gets the blobs mounted, not sent.
  std::string other = registry.ref("other/bb:v1");
  skiff.ok({"tag", "busybox:test", other});
  out = skiff.ok({"push", other});
  EXPECT_NE(out.find(": Mounted from team/bb"), std::string::npos) << out;
  EXPECT_EQ(out.find(": Pushed"), std::string::npos) << out;
}

TEST_F(Push, LargeBlobsGoInChunks) {
  skiff.env.push_back("SKIFF_UPLOAD_CHUNK_SIZE=262144");
  std::string ref = registry.ref("team/chunked:v1");
  skiff.ok({"tag", "busybox:test", ref});
  skiff.ok({"push", "-q", ref});
  size_t patches = 0;
  for (auto& line : split(registry.log(), '\n'))
    patches += line.find("\"PATCH ") != std::string::npos && line.find("/blobs/uploads/") != std::string::npos;
  EXPECT_GE(patches, 4u) << "the ~1 MB busybox layer in 256 KiB chunks\n" << registry.log();

  SkiffCli fresh;
  fresh.env = registry.env();
  fresh.ok({"pull", "-q", ref});
  EXPECT_EQ(parse_json(fresh.ok({"inspect", ref}), "inspect").at(0)["Id"], id);
  if (running_as_root()) {
    EXPECT_EQ(fresh.ok({"run", "--rm", ref, "echo", "whole"}), "whole\n");
  }
}

TEST_F(Push, BadNamesAreRefused) {
  std::string err = refused({"push", registry.ref("team/missing:v1")});
  EXPECT_NE(err.find("skiff tag"), std::string::npos) << err;
  err = refused({"push", "busybox:test"});
  EXPECT_NE(err.find("no registry"), std::string::npos) << err;
  err = refused({"push", registry.ref("team/bb@" + id)});
  EXPECT_NE(err.find("by digest"), std::string::npos) << err;
  EXPECT_EQ(upload_starts(registry.log()), 0u) << registry.log();
}

}  // namespace
}  // namespace skiff::test
