// What a user could observe of a store (its blobs, path and size, and its
// images), to prove a refused command changed nothing.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/strings.h"
#include "support/skiff_cli.h"

namespace skiff::test {

inline std::string store_listing(const SkiffCli& skiff) {
  std::vector<std::string> lines;
  auto blobs = skiff.root() / "content" / "blobs";
  if (std::filesystem::exists(blobs))
    for (const auto& e : std::filesystem::recursive_directory_iterator(blobs))
      if (e.is_regular_file()) lines.push_back(e.path().string() + " " + std::to_string(e.file_size()));
  std::sort(lines.begin(), lines.end());
  auto images = skiff.run({"images", "--digests", "--format", "json"});
  lines.push_back("images: " + images.out + images.err);
  return join(lines, "\n");
}

inline int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

// Runs a command that must fail: a non-zero exit, one line of error and the
// store as it was. Returns that line.
inline std::string refused(const SkiffCli& skiff, const std::vector<std::string>& args) {
  std::string before = store_listing(skiff);
  auto r = skiff.run(args);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(store_listing(skiff), before);
  return r.err;
}

}  // namespace skiff::test
