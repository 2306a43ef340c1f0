// Diffs back into layers: unpack → diff → unpack gives the same tree, the
// same changes give the same digest, whiteouts and opaque directories made
// by a real overlay mount come out as OCI whiteouts.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/root.h"
#include "core/strings.h"
#include "snapshot/diff.h"
#include "snapshot/layer_builder.h"
#include "snapshot/snapshotter.h"
#include "snapshot/tree_state.h"
#include "snapshot/unpack.h"
#include "snapshot/whiteout.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;
using namespace skiff::snapshot;

// Collects what a sink receives.
class StringSink final : public ByteSink {
 public:
  void write(const char* data, size_t size) override { bytes.append(data, size); }
  using ByteSink::write;
  void close() override { closed = true; }
  void abort() noexcept override {}
  std::string bytes;
  bool closed = false;
};

std::string capability() {
  struct vfs_cap_data data {};
  data.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  data.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  return std::string(reinterpret_cast<const char*>(&data), XATTR_CAPS_SZ_2);
}

// Entry names of a layer, in order.
std::vector<std::string> entry_names(const std::string& layer) {
  std::vector<std::string> names;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, layer.data(), layer.size());
  struct archive_entry* entry;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) names.push_back(archive_entry_pathname(entry));
  archive_read_free(a);
  return names;
}

LayerBuilder rich_layer() {
  LayerBuilder b;
  TarEntry ping;
  ping.name = "usr/bin/ping";
  ping.content = "ping binary";
  ping.mode = 04755;
  ping.xattrs = {{"security.capability", capability()}, {"user.note", "x"}};
  TarEntry home;
  home.type = TarEntry::Type::dir;
  home.name = "home/user";
  home.mode = 0700;
  home.uid = 1000;
  home.gid = 1000;
  std::string deep = "deep/" + std::string(120, 'n') + "/" + std::string(200, 'm');
  b.dir("usr").dir("usr/bin").add(ping).file("usr/bin/wall", "wall", 02755, 0, 5)
      .hardlink("usr/bin/ping-hardlink", "usr/bin/ping").symlink("usr/bin/ping6", "ping")
      .symlink("usr/lib64", "/usr/lib/x86_64-linux-gnu").dir("tmp", 01777).dir("home").add(home)
      .file("home/user/.bashrc", "alias ll='ls -l'\n", 0644, 1000, 1000)
      .dir("dev").device("dev/null", false, 1, 3, 0666).device("dev/sda", true, 8, 0, 0660).fifo("dev/initctl", 0600)
      .dir("empty-dir", 0555).file("empty-file", "").file("caf\xc3\xa9", "unicode name")
      .dir("var").sparse("var/disk.img", 16u << 20, {{1u << 20, "data in the middle"}})  // ends in a hole
      .dir("deep").dir("deep/" + std::string(120, 'n')).file(deep, "long name");
  return b;
}

class Diff : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: owners, devices, capabilities, overlay";
  }
  fs::path dir(const std::string& name) {
    fs::path p = temp_.path() / name;
    fs::create_directories(p);
    return p;
  }
  fs::path unpack(const std::string& bytes, const std::string& name, WhiteoutMode mode = WhiteoutMode::overlay) {
    fs::path blob = temp_.path() / (name + ".layer");
    write_file_atomic(blob, bytes, 0644, false);
    fs::path target = dir(name);
    UnpackOptions options;
    options.whiteouts = mode;
    apply_layer(blob, target, options);
    return target;
  }
  TempDir temp_{fs::path("/var/tmp"), "skiff-diff-test-"};
};

TEST_F(Diff, UnpackDiffUnpackGivesTheSameTree) {
  auto original = rich_layer();
  fs::path first = unpack(original.build(), "first");
  for (Compression compression : {Compression::gzip, Compression::zstd, Compression::none}) {
    SCOPED_TRACE(to_string(compression));
    StringSink sink;
    DiffOptions options;
    options.compression = compression;
    LayerInfo info = write_upper_diff(first, sink, options);
    EXPECT_EQ(info.digest, sha256_of(sink.bytes));
    EXPECT_EQ(info.size, sink.bytes.size());
    EXPECT_EQ(info.media_type, layer_media_type(compression));
    fs::path second = unpack(sink.bytes, "second-" + to_string(compression));
    CompareOptions same;
    same.inodes_and_ctime = false;
    same.root_entry = false;
    same.blocks = true;  // sparse files stay sparse
    auto diffs = compare_trees(record_tree(first), record_tree(second), same);
    EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");
    // Unpacking reports the same diff_id the writer computed.
    UnpackOptions verify;
    verify.expected_diff_id = info.diff_id;
    fs::path blob = temp_.path() / ("verify-" + to_string(compression) + ".blob");
    write_file_atomic(blob, sink.bytes, 0644, false);
    EXPECT_EQ(apply_layer(blob, dir("verify-" + to_string(compression)), verify).diff_id, info.diff_id);
    // And the second tree diffs to the very same bytes: different inodes,
    // different creation times, same layer.
    StringSink again;
    EXPECT_EQ(write_upper_diff(second, again, options).digest, info.digest);
  }
}

TEST_F(Diff, WhiteoutsAndOpaqueDirectoriesRoundTrip) {
  LayerBuilder b;
  b.dir("etc").whiteout("etc/.wh.passwd").dir("var").dir("var/cache").whiteout("var/cache/.wh..wh..opq")
      .file("var/cache/kept", "k").whiteout(".wh.gone");
  fs::path first = unpack(b.build(), "first");
  StringSink sink;
  write_upper_diff(first, sink);
  auto names = entry_names(sink.bytes);
  // Whiteouts come before their siblings; the opaque marker right after its directory.
  EXPECT_EQ(names, (std::vector<std::string>{".wh.gone", "etc/", "etc/.wh.passwd", "var/", "var/cache/",
                                             "var/cache/.wh..wh..opq", "var/cache/kept"}));
  fs::path second = unpack(sink.bytes, "second");
  CompareOptions same;
  same.inodes_and_ctime = false;
  same.root_entry = false;
  auto diffs = compare_trees(record_tree(first), record_tree(second), same);
  EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");
}

TEST_F(Diff, SameChangesSameDigest) {
  // Two upper directories made at different moments with different inodes.
  auto make = [&](const std::string& name) {
    fs::path upper = dir(name);
    fs::create_directories(upper / "app/lib");
    write_file_atomic(upper / "app/lib/a.so", std::string(5000, 'a'), 0755, false);
    write_file_atomic(upper / "app/config", "key=value\n", 0644, false);
    ::symlink("a.so", (upper / "app/lib/a.so.1").c_str());
    ::mknod((upper / "removed").c_str(), S_IFCHR, makedev(0, 0));
    ::setxattr((upper / "app/lib").c_str(), overlay_opaque_xattr, "y", 1, 0);
    ::setxattr((upper / "app/config").c_str(), "trusted.overlay.origin", "host-specific", 13, 0);
    return upper;
  };
  fs::path first = make("first");
  ::sleep(1);
  fs::path second = make("second");
  DiffOptions options;
  options.source_date_epoch = 1700000000;  // the trees' own mtimes differ by a second
  for (Compression compression : {Compression::gzip, Compression::zstd}) {
    options.compression = compression;
    StringSink a, b;
    LayerInfo info_a = write_upper_diff(first, a, options);
    LayerInfo info_b = write_upper_diff(second, b, options);
    EXPECT_EQ(info_a.digest, info_b.digest) << to_string(compression);
    EXPECT_EQ(info_a.diff_id, info_b.diff_id);
    EXPECT_EQ(a.bytes, b.bytes);
    auto names = entry_names(a.bytes);
    EXPECT_EQ(names, (std::vector<std::string>{".wh.removed", "app/", "app/config", "app/lib/",
                                               "app/lib/.wh..wh..opq", "app/lib/a.so", "app/lib/a.so.1"}));
  }
  // No timestamp in the gzip header.
  StringSink gz;
  options.compression = Compression::gzip;
  write_upper_diff(first, gz, options);
  ASSERT_GT(gz.bytes.size(), 8u);
  EXPECT_EQ(gz.bytes.substr(4, 4), std::string(4, '\0'));
}

TEST_F(Diff, OptionsNormaliseOwnersAndTimes) {
  fs::path tree = dir("tree");
  write_file_atomic(tree / "f", "x", 0644, false);
  ::chown((tree / "f").c_str(), 1234, 5678);
  DiffOptions options;
  options.uid = 0;
  options.gid = 0;
  options.source_date_epoch = 100;
  options.compression = Compression::none;
  StringSink sink;
  write_directory_layer(tree, sink, options);
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, sink.bytes.data(), sink.bytes.size());
  struct archive_entry* entry;
  ASSERT_EQ(archive_read_next_header(a, &entry), ARCHIVE_OK);
  EXPECT_EQ(archive_entry_uid(entry), 0);
  EXPECT_EQ(archive_entry_gid(entry), 0);
  EXPECT_EQ(archive_entry_mtime(entry), 100);
  EXPECT_FALSE(archive_entry_atime_is_set(entry));
  EXPECT_FALSE(archive_entry_ctime_is_set(entry));
  EXPECT_STREQ(archive_entry_uname(entry) ? archive_entry_uname(entry) : "", "") << "no user names: ids only";
  archive_read_free(a);
}

TEST_F(Diff, DirectoryLayerHoldsEverything) {
  fs::path tree = unpack(rich_layer().build(), "tree");
  StringSink sink;
  LayerInfo info = write_directory_layer(tree, sink);
  EXPECT_GT(info.entries, 15u);
  fs::path copy = unpack(sink.bytes, "copy");
  CompareOptions same;
  same.inodes_and_ctime = false;
  same.root_entry = false;
  auto diffs = compare_trees(record_tree(tree), record_tree(copy), same);
  EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");
}

// What a container does through a real overlay mount comes out of the
// upper directory as the layer that recreates it.
TEST_F(Diff, ChangesMadeThroughARealOverlay) {
  Root root(temp_.path() / "root");
  Snapshotter snapshots(root);
  if (snapshots.driver() != Driver::overlay) GTEST_SKIP() << "overlayfs is not available here";
  LayerBuilder base;
  base.dir("etc").file("etc/passwd", "root").file("etc/hosts", "127.0.0.1").dir("var").dir("var/cache")
      .file("var/cache/a", "a").file("var/cache/b", "b").file("bin-tool", "tool", 0755);
  fs::path blob = temp_.path() / "base.layer";
  base.write(blob);
  LayerFile file;
  file.blob = blob;
  file.descriptor.diff_id = base.diff_id();
  Digest top = snapshots.unpack_layers({file});
  auto mounts = snapshots.prepare("work", top.str());
  fs::path rootfs = dir("rootfs");
  TreeState container_view;
  {
    Mount mounted = mount(mounts.at(0), rootfs);
    fs::remove(rootfs / "etc/passwd");                       // whiteout
    fs::remove_all(rootfs / "var/cache");                    // a directory deleted…
    fs::create_directories(rootfs / "var/cache");            // …and made again: opaque
    write_file_atomic(rootfs / "var/cache/c", "c", 0644, false);
    ::chmod((rootfs / "bin-tool").c_str(), 0700);            // copy-up of metadata
    write_file_atomic(rootfs / "etc/new", "new", 0644, false);
    container_view = record_tree(rootfs);
  }
  StringSink sink;
  LayerInfo info = snapshots.diff("work", sink);
  auto names = entry_names(sink.bytes);
  EXPECT_NE(std::find(names.begin(), names.end(), "etc/.wh.passwd"), names.end()) << join(names, " ");
  EXPECT_NE(std::find(names.begin(), names.end(), "var/cache/.wh..wh..opq"), names.end()) << join(names, " ");
  EXPECT_EQ(std::find(names.begin(), names.end(), "etc/hosts"), names.end()) << "unchanged files stay out";

  // Apply the diff on top of the base in a fresh store: the same view.
  Root other(temp_.path() / "other");
  Snapshotter fresh(other);
  fs::path diff_blob = temp_.path() / "diff.layer";
  write_file_atomic(diff_blob, sink.bytes, 0644, false);
  LayerFile diff_file;
  diff_file.blob = diff_blob;
  diff_file.descriptor.diff_id = info.diff_id;
  Digest rebuilt = fresh.unpack_layers({file, diff_file});
  fresh.view("check", rebuilt.str());
  fs::path view = dir("view");
  Mount mounted = mount(fresh.mounts("check").at(0), view);
  CompareOptions same;
  same.inodes_and_ctime = false;
  same.root_entry = false;
  same.directory_mtimes = false;  // the container's own directory updates are not layer content
  same.mtime_seconds = true;      // layers hold whole seconds, as docker's do
  auto diffs = compare_trees(container_view, record_tree(view), same);
  EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");
}

}  // namespace
}  // namespace skiff::test
