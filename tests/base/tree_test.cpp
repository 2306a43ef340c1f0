// Writing into a root filesystem never leaves it, whatever a package holds:
// RootTree directly, and extract_deb on hand-made hostile .deb files.
#include "base/tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "base/deb.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff::base {
namespace {

struct DebEntry {
  std::string path;
  enum Kind { file, dir, symlink, hardlink, fifo } kind = file;
  std::string data;  // content, or link target
  mode_t mode = 0644;
};

std::string tar_gz(const std::vector<DebEntry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_gnutar(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* self, const void* buffer, size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buffer), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_mtime(entry, 1700000000, 0);
    switch (e.kind) {
      case DebEntry::file:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
        break;
      case DebEntry::dir: archive_entry_set_filetype(entry, AE_IFDIR); break;
      case DebEntry::symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.data.c_str());
        break;
      case DebEntry::hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.data.c_str());
        break;
      case DebEntry::fifo: archive_entry_set_filetype(entry, AE_IFIFO); break;
    }
    archive_entry_set_perm(entry, e.mode);
    archive_write_header(a, entry);
    if (e.kind == DebEntry::file) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A .deb (ar: debian-binary, control.tar.gz, data.tar.gz) holding `entries`.
std::filesystem::path make_deb(const std::filesystem::path& dir, const std::vector<DebEntry>& entries) {
  auto path = dir / "test.deb";
  std::string control = tar_gz({{"./control", DebEntry::file,
                                 "Package: hostile\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@example.org>\n"
                                 "Description: test\n"}});
  std::string data = tar_gz(entries);
  archive* a = archive_write_new();
  archive_write_set_format_ar_svr4(a);
  archive_write_open_filename(a, path.c_str());
  auto add = [&](const char* name, const std::string& content) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name);
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
    archive_write_header(a, entry);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(entry);
  };
  add("debian-binary", "2.0\n");
  add("control.tar.gz", control);
  add("data.tar.gz", data);
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

class TreeTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directory(root_); }
  bool outside_has(const std::string& name) { return std::filesystem::exists(outside_.path() / name); }
  std::vector<ExtractedEntry> extract(const std::vector<DebEntry>& entries) {
    auto deb = make_deb(work_.path(), entries);
    RootTree tree(root_);
    return extract_deb(deb, tree, [](const std::string&) { return true; });
  }
  TempDir work_{std::filesystem::path("/var/tmp"), "skiff-base-tree-"};
  TempDir outside_{std::filesystem::path("/var/tmp"), "skiff-base-outside-"};
  std::filesystem::path root_ = work_.path() / "root";
};

TEST_F(TreeTest, WritesFilesDirectoriesAndLinks) {
  RootTree tree(root_);
  tree.make_directory("tmp", 01777);
  tree.write_file("usr/lib/x/data", "hello", 0640);
  tree.symlink("lib", "usr/lib");
  tree.write_file("lib/x/through-link", "via /lib", 0644);  // resolved inside: usr/lib/x
  tree.hardlink("usr/lib/x/again", "usr/lib/x/data");
  EXPECT_EQ(tree.read_file("usr/lib/x/through-link"), "via /lib");
  EXPECT_EQ(tree.read_file("lib/x/again"), "hello");
  EXPECT_EQ(tree.status("tmp")->st_mode & 07777, 01777u);
  EXPECT_EQ(tree.status("usr/lib/x/data")->st_mode & 07777, 0640u);
  EXPECT_EQ(tree.status("usr/lib/x/data")->st_nlink, 2u);
  EXPECT_EQ(tree.status("usr")->st_mode & 07777, 0755u);  // implicit parents
  EXPECT_TRUE(S_ISLNK(tree.status("lib")->st_mode));
  tree.write_file("usr/lib/x/data", "replaced");
  EXPECT_EQ(tree.read_file("usr/lib/x/data"), "replaced");
  tree.remove("usr/lib/x");
  EXPECT_FALSE(tree.status("usr/lib/x"));
  EXPECT_THROW(tree.write_file("../escape", "x"), Error);
}

TEST_F(TreeTest, AbsoluteSymlinkToTheHostStaysInside) {
  RootTree tree(root_);
  // "etc" points at a real host directory: inside the tree it means root/<that path>.
  tree.symlink("etc", outside_.path().string());
  EXPECT_THROW(tree.write_file("etc/passwd", "owned"), Error);
  EXPECT_FALSE(outside_has("passwd"));
  // "/" as a target is the tree's root.
  tree.symlink("up", "/");
  tree.write_file("up/landed", "inside");
  EXPECT_TRUE(std::filesystem::exists(root_ / "landed"));
}

TEST_F(TreeTest, DotDotSymlinksClampAtTheRoot) {
  RootTree tree(root_);
  auto relative_escape = "../../../../../../../../.." + outside_.path().string();
  tree.symlink("esc", relative_escape);
  EXPECT_THROW(tree.write_file("esc/x", "owned"), Error);
  EXPECT_FALSE(outside_has("x"));
  tree.symlink("top", "../../../../..");
  tree.make_directory("top/made");
  EXPECT_TRUE(std::filesystem::is_directory(root_ / "made"));
}

TEST_F(TreeTest, FinalSymlinkIsReplacedNotFollowed) {
  RootTree tree(root_);
  auto target = outside_.path() / "victim";
  write_file_atomic(target, "original");
  tree.symlink("etc/shadow", target.string());
  tree.write_file("etc/shadow", "new");
  EXPECT_EQ(read_file(target), "original");
  EXPECT_EQ(tree.read_file("etc/shadow"), "new");
  EXPECT_FALSE(S_ISLNK(tree.status("etc/shadow")->st_mode));
}

TEST_F(TreeTest, ExtractsAnOrdinaryDeb) {
  auto entries = extract({{"./", DebEntry::dir, "", 0755},
                          {"./lib/", DebEntry::dir, "", 0755},
                          {"./lib/x86_64-linux-gnu/", DebEntry::dir, "", 0755},
                          {"./lib/x86_64-linux-gnu/libfoo.so.1", DebEntry::file, "ELF", 0644},
                          {"./lib/x86_64-linux-gnu/libfoo.so", DebEntry::symlink, "libfoo.so.1", 0777},
                          {"./usr/bin/tool", DebEntry::file, "#!", 04755},
                          {"./usr/bin/tool2", DebEntry::hardlink, "./usr/bin/tool", 04755}});
  EXPECT_EQ(read_file(root_ / "usr/lib/x86_64-linux-gnu/libfoo.so.1"), "ELF");
  EXPECT_EQ(std::filesystem::read_symlink(root_ / "usr/lib/x86_64-linux-gnu/libfoo.so"), "libfoo.so.1");
  struct stat st;
  ASSERT_EQ(::lstat((root_ / "usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(entries.size(), 6u);  // the root entry is never written
}

TEST_F(TreeTest, RefusesDotDotEntries) {
  try {
    extract({{"./../../escaped", DebEntry::file, "owned"}});
    FAIL() << "a .. entry was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::corrupt);
    EXPECT_NE(std::string(e.what()).find("escapes the root"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(work_.path() / "escaped"));
}

TEST_F(TreeTest, SymlinkThenWriteThroughItStaysInside) {
  // The classic tar-slip: a link to the outside, then a file "inside" it.
  EXPECT_THROW(extract({{"./etc", DebEntry::symlink, outside_.path().string()},
                        {"./etc/cron.d", DebEntry::file, "owned"}}),
               Error);
  EXPECT_FALSE(outside_has("cron.d"));
  std::filesystem::remove_all(root_);
  std::filesystem::create_directory(root_);
  extract({{"./usr", DebEntry::symlink, "/"}, {"./usr/evil", DebEntry::file, "inside"}});
  EXPECT_EQ(read_file(root_ / "evil"), "inside");
}

TEST_F(TreeTest, RefusesHardLinksOutOfTheTree) {
  EXPECT_THROW(extract({{"./shadow", DebEntry::hardlink, "../../../etc/shadow"}}), Error);
  EXPECT_THROW(extract({{"./shadow", DebEntry::hardlink, "/etc/shadow"}}), Error);  // not in this package
  EXPECT_FALSE(std::filesystem::exists(root_ / "shadow"));
}

TEST_F(TreeTest, RefusesSpecialFiles) {
  try {
    extract({{"./dev/fifo", DebEntry::fifo, ""}});
    FAIL() << "a fifo was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::corrupt);
  }
}

TEST_F(TreeTest, ReadsControlInfo) {
  auto deb = make_deb(work_.path(), {{"./x", DebEntry::file, "x"}});
  auto info = read_deb_info(deb);
  EXPECT_EQ(info.package, "hostile");
  EXPECT_EQ(info.version, "1.0");
  EXPECT_EQ(info.source, "hostile");
  EXPECT_EQ(info.build_time, 1700000000);
}

TEST_F(TreeTest, ClampMtimes) {
  RootTree tree(root_);
  tree.write_file("a/b", "x");
  tree.symlink("a/link", "b");
  clamp_mtimes(root_, 1000);
  struct stat st;
  for (const char* p : {"a", "a/b", "a/link", ""}) {
    ASSERT_EQ(::lstat((root_ / p).c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1000) << p;
  }
}

}  // namespace
}  // namespace skiff::base
