#include "core/fs.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff {

TEST(Fs, AtomicWriteReplacesWholeFile) {
  TempDir dir;
  auto file = dir.path() / "record.json";
  write_file_atomic(file, "first");
  write_file_atomic(file, "second", 0600);
  EXPECT_EQ(read_file(file), "second");
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // no temporary file is left beside it
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(Fs, ReadMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_FALSE(read_file_if_exists(dir.path() / "missing"));
  try {
    read_file(dir.path() / "missing");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
  }
}

TEST(Fs, RemoveTreeDoesNotFollowSymlinks) {
  TempDir outside;
  write_file_atomic(outside.path() / "keep", "precious");
  fs::path tree;
  {
    TempDir dir;
    tree = dir.path();
    ensure_dir(dir.path() / "a/b/c");
    write_file_atomic(dir.path() / "a/b/c/file", "x");
    fs::create_symlink(outside.path(), dir.path() / "a/link");
    fs::create_symlink(outside.path() / "keep", dir.path() / "a/b/filelink");
  }
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_EQ(read_file(outside.path() / "keep"), "precious");
}

// A bind mount of a directory of the same filesystem has the same st_dev as
// its parent; rm -rf of the tree around it must still leave its source alone
// (the copy snapshotter binds a container's rootfs this way).
class FsMounts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to bind-mount";
    // A private mount namespace: nothing this test mounts reaches the host.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      GTEST_SKIP() << "cannot make a private mount namespace: " << std::strerror(errno);
  }
  static void bind(const fs::path& source, const fs::path& target) {
    ASSERT_EQ(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
  }
};

TEST_F(FsMounts, IsMountPointSeesABindMountOfTheSameFilesystem) {
  TempDir dir;
  ensure_dir(dir.path() / "source");
  ensure_dir(dir.path() / "with space");
  EXPECT_FALSE(is_mount_point(dir.path() / "with space"));
  bind(dir.path() / "source", dir.path() / "with space");
  EXPECT_TRUE(is_mount_point(dir.path() / "with space"));
  EXPECT_TRUE(is_mount_point(dir.path() / "with space/"));
  EXPECT_FALSE(is_mount_point(dir.path() / "source"));
  EXPECT_FALSE(is_mount_point(dir.path() / "missing"));
  ::umount2((dir.path() / "with space").c_str(), MNT_DETACH);
}

TEST_F(FsMounts, RemoveTreeLeavesWhatIsMountedBelowIt) {
  TempDir keep;
  write_file_atomic(keep.path() / "precious", "data");
  ensure_dir(keep.path() / "sub");
  write_file_atomic(keep.path() / "sub/file", "more");
  TempDir tree;
  ensure_dir(tree.path() / "container/root fs");
  write_file_atomic(tree.path() / "container/log", "x");
  bind(keep.path(), tree.path() / "container/root fs");
  // The mount point itself cannot go while mounted: an error, but nothing
  // below it is touched and everything else is removed.
  EXPECT_THROW(remove_tree(tree.path() / "container"), Error);
  EXPECT_EQ(read_file(keep.path() / "precious"), "data");
  EXPECT_EQ(read_file(keep.path() / "sub/file"), "more");
  EXPECT_FALSE(fs::exists(tree.path() / "container/log"));
  ASSERT_EQ(::umount2((tree.path() / "container/root fs").c_str(), 0), 0);
  remove_tree(tree.path() / "container");
  EXPECT_FALSE(fs::exists(tree.path() / "container"));
  EXPECT_TRUE(fs::exists(keep.path() / "precious"));
}

TEST(Fs, EnsureDirRefusesFileInTheWay) {
  TempDir dir;
  write_file_atomic(dir.path() / "file", "x");
  EXPECT_THROW(ensure_dir(dir.path() / "file" / "sub"), Error);
  ensure_dir(dir.path() / "x/y/z");
  EXPECT_TRUE(fs::is_directory(dir.path() / "x/y/z"));
}

}  // namespace skiff
