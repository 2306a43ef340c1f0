// core built for real with mmdebstrap (minutes): apt runs in it, and two
// builds give the same tree.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "base/base.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/subprocess.h"
#include "support/skiff_cli.h"

namespace skiff::base {
namespace {

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!skiff::test::running_as_root()) GTEST_SKIP() << "needs root (mmdebstrap --mode=root, chroot)";
    if (!find_program("mmdebstrap")) GTEST_SKIP() << "mmdebstrap is not installed (scripts/deps)";
  }
  // nullopt (with skip_reason_ set) when the apt mirror cannot be reached.
  std::optional<BaseImageSpec> build(const std::filesystem::path& dir) {
    BuildOptions options;
    options.cache_dir = SKIFF_TEST_CACHE_DIR;  // shared with the nano tests; see nano_test.cpp
    options.definitions_dir = SKIFF_TEST_IMAGES_DIR;
    try {
      return build_rootfs("core", dir, options);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::unavailable || std::string(e.what()).find("apt-get update") == std::string::npos)
        throw;
      skip_reason_ = std::string("no apt mirror reachable: ") + e.what();
      return std::nullopt;
    }
  }
  std::string skip_reason_;
  CommandResult in_chroot(const std::filesystem::path& root, std::vector<std::string> argv) {
    std::vector<std::string> full = {"chroot", root.string()};
    full.insert(full.end(), argv.begin(), argv.end());
    CommandOptions options;
    options.extra_env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    return run_command(full, options);
  }
  TempDir work_{std::filesystem::path("/var/tmp"), "skiff-base-core-"};
};

TEST_F(CoreTest, RunsAptAndBuildsReproducibly) {
  auto first_dir = work_.path() / "core";
  auto built = build(first_dir);
  if (!built) GTEST_SKIP() << skip_reason_;
  const auto& spec = *built;

  auto apt = in_chroot(first_dir, {"apt-get", "--version"});
  ASSERT_EQ(apt.exit_code, 0) << apt.err;
  EXPECT_TRUE(apt.out.starts_with("apt ")) << apt.out;
  auto shell = in_chroot(first_dir, {"/bin/bash", "-c", "whoami; dpkg-query -W -f='${Package}\\n' dpkg"});
  EXPECT_EQ(shell.out, "root\ndpkg\n") << shell.err;

  EXPECT_EQ(spec.config.user, "root");
  EXPECT_EQ(spec.config.cmd, (std::vector<std::string>{"/bin/bash"}));
  EXPECT_EQ(spec.tags, (std::vector<std::string>{"core:bookworm", "core:latest"}));
  std::string packages = spec.config.labels.at("org.skiff.packages");
  for (const char* p : {"apt=", "dpkg=", "bash=", "coreutils=", "libc6="})
    EXPECT_NE(packages.find(p), std::string::npos) << p;
  EXPECT_GT(spec.packages.size(), 50u);

  // Nothing of the build host or the build run is left.
  for (const char* path : {"etc/hostname", "etc/resolv.conf", "etc/machine-id", "var/log/dpkg.log",
                           "var/cache/ldconfig/aux-cache", "var/lib/apt/lists/lock"})
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(first_dir / path))) << path;
  for (auto it = std::filesystem::recursive_directory_iterator(first_dir);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    struct stat st;
    ASSERT_EQ(::lstat(it->path().c_str(), &st), 0);
    ASSERT_LE(st.st_mtim.tv_sec, spec.source_date_epoch) << it->path();
  }

  auto second_dir = work_.path() / "core-again";
  auto again = build(second_dir);
  ASSERT_TRUE(again) << skip_reason_;
  EXPECT_EQ(tree_digest(second_dir), tree_digest(first_dir));
  EXPECT_EQ(again->to_oci_config(), spec.to_oci_config());

  auto size = measure_tree(first_dir);
  std::printf("core: %llu bytes unpacked, %llu bytes tar.gz, %llu entries\n",
              static_cast<unsigned long long>(size.unpacked_bytes),
              static_cast<unsigned long long>(size.tar_gzip_bytes), static_cast<unsigned long long>(size.entries));
  RecordProperty("core_tar_gzip_bytes", std::to_string(size.tar_gzip_bytes));
  EXPECT_GT(size.unpacked_bytes, size.tar_gzip_bytes);
}

}  // namespace
}  // namespace skiff::base
