// A store with the busybox test image, and what of it is on disk: the
// snapshot directories and the blobs, to prove what a command removed.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/json.h"
#include "support/skiff_cli.h"
#include "support/store_listing.h"
#include "support/test_images.h"

namespace skiff::test {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "containers need root (namespaces, overlay mounts)";
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    image_id = add_busybox_image(skiff.root());
  }

  // Snapshots are numbered directories under snapshots/.
  size_t snapshots_on_disk() const { return count_entries(skiff.root() / "snapshots", true); }
  size_t blobs_on_disk() const { return count_entries(skiff.root() / "content/blobs/sha256", false); }

  // `system df --format json`: the row of `type` (Images, Snapshots, Containers, Build Cache).
  Json usage(const std::string& type) const {
    for (const auto& line : split(skiff.ok({"system", "df", "--format", "json"}), '\n')) {
      if (line.empty()) continue;
      Json row = parse_json(line, "system df");
      if (row["Type"] == type) return row;
    }
    ADD_FAILURE() << "system df has no " << type << " row";
    return Json::object();
  }
  std::string image_ids() const { return skiff.ok({"images", "-q"}); }

  SkiffCli skiff;
  std::string image_id;  // busybox:test

 private:
  static size_t count_entries(const std::filesystem::path& dir, bool numbered_dirs) {
    size_t n = 0;
    if (!std::filesystem::exists(dir)) return 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (!numbered_dirs) {
        n += e.is_regular_file();
        continue;
      }
      std::string name = e.path().filename();
      n += e.is_directory() && name.find_first_not_of("0123456789") == std::string::npos;
    }
    return n;
  }
};

}  // namespace skiff::test
