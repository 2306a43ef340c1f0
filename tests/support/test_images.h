// Images the tests make themselves: a busybox root filesystem (from Debian's
// busybox-static) put into a store as a one-layer image, in milliseconds
// and without a registry or apt.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/json.h"

namespace skiff::test {

struct TestImage {
  std::string name = "busybox:test";  // the reference it is stored under
  Json config = Json::object();        // the image's "config" (User, Env, Cmd, StopSignal…)
  std::string os_version;               // the platform's os.version (Linux: the minimum kernel)
  // Extra files: path inside the image -> content.
  std::vector<std::pair<std::string, std::string>> files;
};

// Builds the image into the store at `root`; returns its ID. Skips the test
// (GTEST_SKIP) when /bin/busybox (busybox-static) is missing.
std::string add_busybox_image(const std::filesystem::path& root, const TestImage& image = {});

// A directory with busybox, its applet links, /etc/passwd and /etc/group
// (root and containeruser 1000), /tmp; `files` added.
void make_busybox_tree(const std::filesystem::path& dir, const TestImage& image = {});

bool have_busybox();

}  // namespace skiff::test
