// skiff images, skiff tag and skiff inspect on an image pulled from a real
// docker-registry.
#include <gtest/gtest.h>

#include "core/json.h"
#include "image_fixture.h"

namespace skiff::test {

namespace {

class Images : public ImageTest {
 protected:
  void SetUp() override {
    use(registry);
    image = seed(registry, "team/app:v1", {200000, 3000});
    skiff.ok({"pull", "-q", image.ref});
  }

  std::string short_id() const { return image.config.digest.short_hex(); }

  TestRegistry registry;
  SeededImage image;
};

TEST_F(Images, QuietDigestsAndJson) {
  EXPECT_EQ(skiff.ok({"images", "-q"}), short_id() + "\n");

  std::string table = skiff.ok({"images", "--digests"});
  auto lines = split(table, '\n');
  ASSERT_GE(lines.size(), 2u) << table;
  EXPECT_TRUE(lines[0].starts_with("REPOSITORY")) << table;
  EXPECT_NE(lines[0].find("DIGEST"), std::string::npos) << table;
  EXPECT_NE(lines[1].find(image.manifest.digest.str()), std::string::npos) << table;
  EXPECT_EQ(skiff.ok({"images"}).find("DIGEST"), std::string::npos) << "no digest column unless asked";

  Json row = parse_json(skiff.ok({"images", "--format", "json"}), "images");
  EXPECT_EQ(row["Repository"], registry.ref("team/app"));
  EXPECT_EQ(row["Tag"], "v1");
  EXPECT_EQ(row["ID"], short_id());
  EXPECT_EQ(row["Digest"], image.manifest.digest.str());
  for (const char* field : {"CreatedAt", "CreatedSince", "Size"}) EXPECT_TRUE(row.contains(field)) << row.dump();
}

TEST_F(Images, TagMakesASecondNameForTheSameImage) {
  skiff.ok({"tag", image.ref, "local/app:stable"});
  // One image, listed under both names.
  EXPECT_EQ(skiff.ok({"images", "-q"}), short_id() + "\n");
  auto rows = split(skiff.ok({"images", "--format", "json"}), '\n');
  std::vector<std::string> names;
  for (const auto& line : rows) {
    if (line.empty()) continue;
    Json row = parse_json(line, "images");
    EXPECT_EQ(row["ID"], short_id()) << line;
    names.push_back(row["Repository"].get<std::string>() + ":" + row["Tag"].get<std::string>());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{image.ref, "local/app:stable"}));
  EXPECT_EQ(parse_json(skiff.ok({"inspect", "local/app:stable"}), "inspect").at(0)["Id"], image.config.digest.str());
  // Filtering by repository shows only that name.
  EXPECT_EQ(count_lines(skiff.ok({"images", "local/app"})), 2);

  std::string err = refused({"tag", "nosuch:image", "local/app:other"});
  EXPECT_NE(err.find("nosuch"), std::string::npos) << err;
  err = refused({"tag", image.ref, "Bad/Name"});
  EXPECT_NE(err.find("invalid reference"), std::string::npos) << err;
}

TEST_F(Images, InspectShowsNamesPlatformConfigAndSizes) {
  Json j = parse_json(skiff.ok({"inspect", image.ref}), "inspect").at(0);
  EXPECT_EQ(j["Id"], image.config.digest.str());
  EXPECT_EQ(j["RepoTags"], Json::array({image.ref}));
  EXPECT_EQ(j["RepoDigests"], Json::array({registry.ref("team/app@" + image.manifest.digest.str())}));
  Json host = host_platform_json();
  EXPECT_EQ(j["Os"], host["os"]);
  EXPECT_EQ(j["Architecture"], host["architecture"]);
  EXPECT_EQ(j["Config"]["Cmd"], Json::array({"/bin/sh"})) << j.dump();
  EXPECT_EQ(j["Manifest"]["Digest"], image.manifest.digest.str());

  ASSERT_EQ(j["Layers"].size(), image.layers.size()) << j.dump();
  std::uint64_t compressed = image.config.size;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const Json& layer = j["Layers"][i];
    EXPECT_EQ(layer["Digest"], image.layers[i].digest.str());
    EXPECT_EQ(layer["Size"], image.layers[i].size);
    EXPECT_TRUE(layer.contains("UnpackedSize")) << layer.dump();
    compressed += image.layers[i].size;
  }
  EXPECT_EQ(j["Size"], compressed) << "the manifest's blobs: config and layers";
  EXPECT_EQ(j["RootFS"]["Layers"].size(), image.layers.size());

  // Pull unpacks the layers: the unpacked sizes are known, each at least
  // its file's bytes, and summed in the total.
  std::uint64_t unpacked = 0;
  for (const auto& layer : j["Layers"]) {
    ASSERT_TRUE(layer["UnpackedSize"].is_number_unsigned()) << layer.dump();
    unpacked += layer["UnpackedSize"].get<std::uint64_t>();
  }
  EXPECT_GE(j["Layers"][0]["UnpackedSize"].get<std::uint64_t>(), 200000u);
  EXPECT_EQ(j["UnpackedSize"], unpacked);

  std::string err = refused({"inspect", "nosuch:image"});
  EXPECT_NE(err.find("no such object: nosuch:image"), std::string::npos) << err;
}

}  // namespace
}  // namespace skiff::test
