// Shared pieces of the image integration tests: images seeded into a test
// registry, refused commands that must leave the store unchanged.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/strings.h"
#include "support/oci_layout.h"
#include "support/registry.h"
#include "support/skiff_cli.h"
#include "support/store_listing.h"

namespace skiff::test {

struct SeededImage {
  std::string ref;  // HOST/REPO:TAG
  BlobRef manifest;
  BlobRef config;
  std::vector<BlobRef> layers;
};

// Access-log lines of the registry that mention `needle`.
inline std::vector<std::string> log_lines(const std::string& log, const std::string& needle) {
  std::vector<std::string> out;
  for (auto& line : split(log, '\n'))
    if (line.find(needle) != std::string::npos && line.find("\"GET ") != std::string::npos) out.push_back(line);
  return out;
}

class ImageTest : public ::testing::Test {
 protected:
  // Makes skiff trust `registry` and keeps credentials in the test's own file.
  void use(const TestRegistry& registry) {
    skiff.env = registry.env();
    skiff.env.push_back("DOCKER_CONFIG=" + (work.path() / "docker").string());
  }

  // An image with `layer_sizes` layers of random bytes, pushed as REPO:TAG.
  SeededImage seed(TestRegistry& registry, const std::string& repo_tag, const std::vector<size_t>& layer_sizes,
                   const Json& platform = {}) {
    OciLayout layout(work.path() / ("layout-" + std::to_string(++layouts_)));
    SeededImage image;
    for (size_t i = 0; i < layer_sizes.size(); ++i)
      image.layers.push_back(layout.add_layer({{"data/file" + std::to_string(i), random_bytes(layer_sizes[i])}}));
    image.manifest = layout.add_image(image.layers, platform);
    Json m = parse_json(read_file(layout.dir() / "blobs/sha256" / image.manifest.digest.hex()), "manifest");
    image.config = {m["config"]["mediaType"], Digest::parse(m["config"]["digest"].get<std::string>()),
                    m["config"]["size"].get<std::uint64_t>()};
    layout.tag("t", image.manifest);
    registry.seed(layout.dir(), "t", repo_tag);
    image.ref = registry.ref(repo_tag);
    return image;
  }

  // Runs a command that must fail; returns its one line of stderr.
  std::string refused(const std::vector<std::string>& args) { return test::refused(skiff, args); }

  // Runs skiff in the background (as SkiffCli would), output to `log`.
  ChildProcess start_skiff(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<std::string> argv = {skiff_binary().string(), "--root", skiff.root().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = skiff.env;
    env.push_back("SKIFF_CONFIG=/nonexistent");
    return spawn_logged(argv, log, env);
  }

  TempDir work{"/var/tmp", "skiff-image-test-"};
  SkiffCli skiff;
  int layouts_ = 0;
};

}  // namespace skiff::test
