#include "core/fs.h"

#include <sys/stat.h>
#include <unistd.h>

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

TEST(Fs, EnsureDirRefusesFileInTheWay) {
  TempDir dir;
  write_file_atomic(dir.path() / "file", "x");
  EXPECT_THROW(ensure_dir(dir.path() / "file" / "sub"), Error);
  ensure_dir(dir.path() / "x/y/z");
  EXPECT_TRUE(fs::is_directory(dir.path() / "x/y/z"));
}

}  // namespace skiff
