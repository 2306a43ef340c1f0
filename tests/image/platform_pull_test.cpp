// Platform selection from an index on pull: os/architecture/variant, and the
// Windows os.version rules (process and VM isolation).
#include <gtest/gtest.h>

#include "image_fixture.h"

namespace skiff::test {

namespace {

class PlatformPull : public ImageTest {
 protected:
  struct Entry {
    Json platform;
    BlobRef manifest;
    Digest config;
  };

  // One index: the host's Linux, linux/arm64/v8, linux/s390x and three
  // Windows builds (2019, 2022 with win32k, 2025).
  void SetUp() override {
    OciLayout layout(work.path() / "multi");
    std::vector<Json> platforms = {
        host_platform_json(),
        {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}},
        {{"os", "windows"}, {"architecture", "amd64"}, {"os.version", "10.0.17763.5820"}},
        {{"os", "windows"}, {"architecture", "amd64"}, {"os.version", "10.0.20348.2461"}, {"os.features", {"win32k"}}},
        {{"os", "windows"}, {"architecture", "amd64"}, {"os.version", "10.0.26100.1742"}},
    };
    if (host_platform_json()["architecture"] != "amd64")
      platforms.push_back({{"os", "linux"}, {"architecture", "amd64"}});
    std::vector<std::pair<BlobRef, Json>> manifests;
    for (size_t i = 0; i < platforms.size(); ++i) {
      auto layer = layout.add_layer({{"platform.txt", platforms[i].dump() + std::to_string(i)}});
      auto manifest = layout.add_image({layer}, platforms[i]);
      Json m = parse_json(read_file(layout.dir() / "blobs/sha256" / manifest.digest.hex()), "manifest");
      entries.push_back({platforms[i], manifest, Digest::parse(m["config"]["digest"].get<std::string>())});
      manifests.emplace_back(manifest, platforms[i]);
    }
    index = layout.add_index(manifests);
    layout.tag("multi", index);
    use(registry);
    registry.seed(layout.dir(), "multi", "team/multi:1");
    ref = registry.ref("team/multi:1");
  }

  Json inspect(const std::string& name) { return parse_json(skiff.ok({"inspect", name}), "inspect")[0]; }

  TestRegistry registry;
  std::vector<Entry> entries;
  BlobRef index;
  std::string ref;
};

TEST_F(PlatformPull, HostPlatformByDefault) {
  skiff.ok({"pull", "-q", ref});
  auto image = inspect(ref);
  EXPECT_EQ(image["Id"], entries[0].config.str());
  EXPECT_EQ(image["Os"], "linux");
  EXPECT_EQ(image["Runnable"]["Process"], true);
  // The repo digest is the index's, as docker records it.
  EXPECT_EQ(image["RepoDigests"][0], registry.ref("team/multi@" + index.digest.str()));
}

TEST_F(PlatformPull, ExplicitLinuxPlatform) {
  skiff.ok({"pull", "-q", "--platform", "linux/arm64", ref});
  auto image = inspect(ref);
  EXPECT_EQ(image["Id"], entries[1].config.str());
  EXPECT_EQ(image["Architecture"], "arm64");
  if (host_platform_json()["architecture"] != "arm64") {
    EXPECT_EQ(image["Runnable"]["Process"], false);
    EXPECT_NE(image["Runnable"]["Reason"].get<std::string>().find("arm64"), std::string::npos);
  }
}

TEST_F(PlatformPull, WindowsWithoutBuildTakesTheNewestAndIsNotRunnable) {
  skiff.ok({"pull", "-q", "--platform", "windows/amd64", ref});
  auto image = inspect(ref);
  EXPECT_EQ(image["Id"], entries[4].config.str());
  EXPECT_EQ(image["Os"], "windows");
  EXPECT_EQ(image["OsVersion"], "10.0.26100.1742");
  EXPECT_EQ(image["Runnable"]["Process"], false);
  EXPECT_EQ(image["Runnable"]["VM"], false);
  EXPECT_NE(image["Runnable"]["Reason"].get<std::string>().find("Windows host"), std::string::npos) << image.dump();
}

TEST_F(PlatformPull, WindowsExactHostBuildUnderProcessIsolation) {
  skiff.ok({"pull", "-q", "--platform", "windows(10.0.17763)/amd64", ref});
  EXPECT_EQ(inspect(ref)["Id"], entries[2].config.str());
}

TEST_F(PlatformPull, NewerHostTakesOlderLtscUnderProcessIsolation) {
  // A 2025 host (26100) runs 2022 (20348) images too, but its own build wins.
  skiff.ok({"pull", "-q", "--platform", "windows(10.0.26100)/amd64", ref});
  EXPECT_EQ(inspect(ref)["Id"], entries[4].config.str());
  skiff.ok({"rmi", ref});
  // 22621 (Windows 11 22H2) is not in the index: 20348 is the compatible one.
  skiff.ok({"pull", "-q", "--platform", "windows(10.0.22621)/amd64", ref});
  auto image = inspect(ref);
  EXPECT_EQ(image["Id"], entries[3].config.str());
  EXPECT_EQ(image["OsFeatures"][0], "win32k");
}

TEST_F(PlatformPull, NoMatchListsWhatTheIndexOffers) {
  std::string before = store_listing(skiff);
  // 19045 under process isolation: 17763 is not the host build, 20348 is newer.
  auto r = skiff.run({"pull", "--platform", "windows(10.0.19045)/amd64", ref});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("no matching manifest for windows/amd64 10.0.19045 in the manifest list entries"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("windows/amd64 10.0.17763.5820"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("linux/arm64/v8"), std::string::npos) << r.err;
  auto s390 = skiff.run({"pull", "--platform", "linux/s390x", ref});
  EXPECT_NE(s390.exit_code, 0);
  EXPECT_NE(s390.err.find("no matching manifest for linux/s390x"), std::string::npos) << s390.err;
  EXPECT_EQ(store_listing(skiff), before);
}

TEST_F(PlatformPull, VmIsolationRunsOlderBuilds) {
  skiff.env.push_back("SKIFF_ISOLATION=vm");
  skiff.ok({"pull", "-q", "--platform", "windows(10.0.19045)/amd64", ref});
  EXPECT_EQ(inspect(ref)["Id"], entries[2].config.str());
}

TEST_F(PlatformPull, BadPlatformIsOneLine) {
  for (std::string bad : {"linux/", "linux/amd64/v8/extra", "windows(abc)/amd64", "Linux/AMD64!"}) {
    auto r = skiff.run({"pull", "--platform", bad, ref});
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("invalid platform"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace skiff::test
