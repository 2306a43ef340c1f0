// skiff pull against a real docker-registry seeded by skopeo.
#include <gtest/gtest.h>

#include "core/json.h"
#include "image_fixture.h"

namespace skiff::test {

namespace {

class Pull : public ImageTest {};

TEST_F(Pull, ByTagStoresVerifiedBlobsAndNamesTheImage) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {300000, 1000});
  std::string out = skiff.ok({"pull", image.ref});
  EXPECT_NE(out.find("Downloaded newer image for " + image.ref), std::string::npos) << out;
  EXPECT_NE(out.find("Digest: " + image.manifest.digest.str()), std::string::npos) << out;

  for (const auto& blob : {image.manifest, image.config, image.layers[0], image.layers[1]}) {
    auto path = skiff.root() / "content/blobs/sha256" / blob.digest.hex();
    ASSERT_TRUE(std::filesystem::exists(path)) << blob.digest.str();
    EXPECT_EQ(sha256_of(read_file(path)), blob.digest);
  }
  std::string images = skiff.ok({"images", "--digests"});
  EXPECT_NE(images.find(registry.host() + "/team/app"), std::string::npos) << images;
  EXPECT_NE(images.find("v1"), std::string::npos) << images;
  EXPECT_NE(images.find(image.config.digest.short_hex()), std::string::npos) << images;
  EXPECT_NE(images.find(image.manifest.digest.str()), std::string::npos) << images;
  // Nothing is left behind in the ingest area.
  auto ingest = skiff.root() / "content/ingest";
  EXPECT_TRUE(!std::filesystem::exists(ingest) || std::filesystem::is_empty(ingest));
}

TEST_F(Pull, AlreadyPresentImageTransfersNoBlob) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {200000});
  skiff.ok({"pull", "-q", image.ref});
  size_t blob_gets = log_lines(registry.log(), "/blobs/").size();
  size_t manifest_gets = log_lines(registry.log(), "/manifests/").size();
  std::string out = skiff.ok({"pull", image.ref});
  EXPECT_NE(out.find("Image is up to date for " + image.ref), std::string::npos) << out;
  EXPECT_NE(out.find("Already exists"), std::string::npos) << out;
  EXPECT_EQ(log_lines(registry.log(), "/blobs/").size(), blob_gets) << registry.log();
  EXPECT_EQ(log_lines(registry.log(), "/manifests/").size(), manifest_gets) << "the manifest came from the store";
}

TEST_F(Pull, ByDigestRecordsTheRepoDigest) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {1000});
  std::string by_digest = registry.ref("team/app@" + image.manifest.digest.str());
  std::string out = skiff.ok({"pull", "-q", by_digest});
  EXPECT_EQ(out, by_digest + "\n");
  auto listed = parse_json(skiff.ok({"images", "--format", "json"}), "images");
  EXPECT_EQ(listed["Tag"], "<none>");
  EXPECT_EQ(listed["Digest"], image.manifest.digest.str());
  auto inspected = parse_json(skiff.ok({"inspect", by_digest}), "inspect");
  EXPECT_EQ(inspected[0]["Id"], image.config.digest.str());
  EXPECT_EQ(inspected[0]["RepoDigests"][0], by_digest);
  // A digest that is not the manifest's is refused.
  auto r = skiff.run({"pull", registry.ref("team/app@" + image.config.digest.str())});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(Pull, QuietPrintsOnlyTheName) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "app:1.0", {1000});
  EXPECT_EQ(skiff.ok({"pull", "-q", image.ref}), image.ref + "\n");
}

TEST_F(Pull, PlainOutputIsOneLinePerStateChange) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "app:1.0", {3000000});
  std::string out = skiff.ok({"pull", image.ref});
  std::string id = image.layers[0].digest.hex().substr(0, 12);
  EXPECT_NE(out.find(id + ": Downloading"), std::string::npos) << out;
  EXPECT_NE(out.find(id + ": Pull complete"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no terminal escapes when not on a TTY";
  // A row is printed again only when its state changes, not per chunk.
  EXPECT_LT(count_lines(out), 12) << out;
}

}  // namespace
}  // namespace skiff::test
