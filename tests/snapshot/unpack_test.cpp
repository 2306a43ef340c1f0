// Layer apply: what images rely on survives (owners, special modes, times,
// xattrs incl. file capabilities, links, devices, sparse files), every
// compression is read, the diff_id is checked, whiteouts follow the OCI
// spec in both modes, and the streaming sink matches the file path.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "snapshot/layer_builder.h"
#include "snapshot/unpack.h"
#include "snapshot/whiteout.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;
using snapshot::Compression;
using snapshot::UnpackOptions;
using snapshot::WhiteoutMode;

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

std::string xattr_of(const fs::path& p, const char* name) {
  char value[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, value, sizeof value);
  return n < 0 ? "<none>" : std::string(value, static_cast<size_t>(n));
}

// cap_net_raw+ep in the VFS v2 layout the kernel stores.
std::string net_raw_capability() {
  struct vfs_cap_data data {};
  data.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  data.data[0].permitted = 1u << CAP_NET_RAW;
  return std::string(reinterpret_cast<const char*>(&data), XATTR_CAPS_SZ_2);
}

class Unpack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: owners, devices and capabilities";
  }
  fs::path layer_file(const LayerBuilder& b, Compression c = Compression::gzip) {
    fs::path path = dir_.path() / ("layer" + std::to_string(counter_++));
    b.write(path, c);
    return path;
  }
  fs::path fresh_dir(const std::string& name) {
    fs::path path = dir_.path() / name;
    fs::create_directories(path);
    return path;
  }
  snapshot::UnpackResult apply(const LayerBuilder& b, const fs::path& target,
                               WhiteoutMode mode = WhiteoutMode::overlay, Compression c = Compression::gzip) {
    UnpackOptions options;
    options.whiteouts = mode;
    options.expected_diff_id = b.diff_id();
    return snapshot::apply_layer(layer_file(b, c), target, options);
  }
  TempDir dir_{fs::path("/var/tmp"), "skiff-unpack-test-"};
  int counter_ = 0;
};

TEST_F(Unpack, PreservesWhatImagesRelyOn) {
  LayerBuilder b;
  TarEntry bin;
  bin.type = TarEntry::Type::dir;
  bin.name = "usr/bin";
  bin.mode = 0755;
  bin.mtime = 1600000000;
  TarEntry ping;
  ping.name = "usr/bin/ping";
  ping.content = "\x7f" "ELF ping";
  ping.mode = 0755;
  ping.mtime = 1600000001;
  ping.xattrs = {{"security.capability", net_raw_capability()}, {"user.origin", "debian"}};
  TarEntry su;
  su.name = "usr/bin/su";
  su.content = "su";
  su.mode = 04755;
  TarEntry wall;
  wall.name = "usr/bin/wall";
  wall.content = "wall";
  wall.mode = 02755;
  wall.gid = 5;
  TarEntry home;
  home.type = TarEntry::Type::dir;
  home.name = "home/user";
  home.mode = 0750;
  home.uid = 1000;
  home.gid = 1000;
  home.mtime = 1500000000;
  home.mtime_nsec = 123456789;
  b.dir("usr", 0755).add(bin).add(ping).add(su).add(wall).dir("tmp", 01777).dir("home").add(home)
      .file("home/user/.profile", "export A=1\n", 0640, 1000, 1000)
      .symlink("usr/bin/ping6", "ping")
      .hardlink("usr/bin/ping4", "usr/bin/ping")
      .fifo("run/initctl", 0600)
      .device("dev/null", false, 1, 3, 0666)
      .device("dev/loop0", true, 7, 0, 0660);
  fs::path root = fresh_dir("root");
  auto result = apply(b, root);
  EXPECT_EQ(result.diff_id, b.diff_id());
  EXPECT_EQ(result.compression, Compression::gzip);
  EXPECT_EQ(result.entries, b.entries().size());

  auto st = lstat_of(root / "usr/bin/ping");
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000001);
  EXPECT_EQ(xattr_of(root / "usr/bin/ping", "security.capability"), net_raw_capability());
  EXPECT_EQ(xattr_of(root / "usr/bin/ping", "user.origin"), "debian");
  EXPECT_EQ(lstat_of(root / "usr/bin/ping4").st_ino, st.st_ino) << "hard link shares the inode";
  EXPECT_EQ(lstat_of(root / "usr/bin/su").st_mode & 07777, 04755u) << "setuid survives the chown";
  auto wall_st = lstat_of(root / "usr/bin/wall");
  EXPECT_EQ(wall_st.st_mode & 07777, 02755u);
  EXPECT_EQ(wall_st.st_gid, 5u);
  EXPECT_EQ(lstat_of(root / "tmp").st_mode & 07777, 01777u);
  auto home_st = lstat_of(root / "home/user");
  EXPECT_EQ(home_st.st_uid, 1000u);
  EXPECT_EQ(home_st.st_mode & 07777, 0750u);
  EXPECT_EQ(home_st.st_mtim.tv_sec, 1500000000) << "directory times are set after their children";
  EXPECT_EQ(home_st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(lstat_of(root / "usr/bin").st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(fs::read_symlink(root / "usr/bin/ping6"), "ping");
  EXPECT_TRUE(S_ISFIFO(lstat_of(root / "run/initctl").st_mode));
  auto null_st = lstat_of(root / "dev/null");
  EXPECT_TRUE(S_ISCHR(null_st.st_mode));
  EXPECT_EQ(null_st.st_rdev, makedev(1, 3));
  EXPECT_EQ(null_st.st_mode & 0777, 0666u);
  auto loop_st = lstat_of(root / "dev/loop0");
  EXPECT_TRUE(S_ISBLK(loop_st.st_mode));
  EXPECT_EQ(loop_st.st_rdev, makedev(7, 0));
  // "run" and "dev" were never listed: reported so the snapshotter can fix them up.
  EXPECT_EQ(result.implied_directories, (std::vector<std::string>{"run", "dev"}));
}

TEST_F(Unpack, SparseFilesStaySparse) {
  const std::uint64_t size = 64u << 20;
  LayerBuilder b;
  b.sparse("disk.img", size, {{0, "head"}, {32u << 20, std::string(4096, 'x')}, {size - 4, "tail"}});
  fs::path root = fresh_dir("root");
  apply(b, root);
  auto st = lstat_of(root / "disk.img");
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), size);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "holes were written out";
  std::string data = read_file(root / "disk.img");
  EXPECT_EQ(data.substr(0, 4), "head");
  EXPECT_EQ(data.substr(32u << 20, 4), "xxxx");
  EXPECT_EQ(data.substr(size - 4), "tail");
  EXPECT_EQ(data[1u << 20], '\0');
}

TEST_F(Unpack, ReadsEveryCompressionWithTheSameDiffId) {
  LayerBuilder b;
  b.dir("etc").file("etc/hostname", "skiff\n");
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    fs::path root = fresh_dir("root-" + snapshot::to_string(c));
    auto result = apply(b, root, WhiteoutMode::overlay, c);
    EXPECT_EQ(result.compression, c);
    EXPECT_EQ(result.diff_id, b.diff_id());
    EXPECT_EQ(read_file(root / "etc/hostname"), "skiff\n");
  }
}

TEST_F(Unpack, MediaTypesAreCheckedAgainstTheBytes) {
  LayerBuilder b;
  b.file("f", "x");
  UnpackOptions options;
  options.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  try {
    snapshot::apply_layer(layer_file(b, Compression::zstd), fresh_dir("a"), options);
    ADD_FAILURE() << "zstd bytes under a gzip media type were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("says gzip but the data is zstd"), std::string::npos) << e.what();
  }
  // docker save has shipped plain tars under its gzip type.
  options.media_type = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  EXPECT_EQ(snapshot::apply_layer(layer_file(b, Compression::none), fresh_dir("b"), options).diff_id, b.diff_id());
  options.media_type = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
  EXPECT_THROW(snapshot::apply_layer(layer_file(b), fresh_dir("c"), options), Error);
  options.media_type = "application/vnd.oci.image.config.v1+json";
  EXPECT_THROW(snapshot::apply_layer(layer_file(b), fresh_dir("d"), options), Error);
}

TEST_F(Unpack, DiffIdMismatchIsRefused) {
  LayerBuilder b;
  b.file("f", "x");
  UnpackOptions options;
  options.expected_diff_id = sha256_of("something else");
  options.name = "layer sha256:feed";
  try {
    snapshot::apply_layer(layer_file(b), fresh_dir("root"), options);
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::corrupt);
    EXPECT_NE(std::string(e.what()).find("layer sha256:feed: diff_id mismatch"), std::string::npos) << e.what();
  }
}

TEST_F(Unpack, BrokenStreamsAreRefused) {
  LayerBuilder b;
  b.file("big", std::string(100000, 'b'));
  std::string gz = b.build(Compression::gzip);
  struct Case {
    std::string name, bytes, message;
  } cases[] = {
      {"empty", "", "empty"},
      {"truncated gzip", gz.substr(0, gz.size() / 2), "layer"},
      {"not a tar", std::string(4096, 'z'), "layer"},
      {"truncated tar", b.tar().substr(0, 1500), "layer"},
  };
  for (const auto& c : cases) {
    fs::path blob = dir_.path() / ("broken-" + std::to_string(counter_++));
    write_file_atomic(blob, c.bytes, 0644, false);
    try {
      snapshot::apply_layer(blob, fresh_dir("broken" + std::to_string(counter_)), UnpackOptions{});
      ADD_FAILURE() << c.name << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::corrupt) << c.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
  }
  // The empty layer docker writes (just the end marker) is fine.
  write_file_atomic(dir_.path() / "empty.tar", std::string(1024, '\0'), 0644, false);
  auto result = snapshot::apply_layer(dir_.path() / "empty.tar", fresh_dir("empty"), UnpackOptions{});
  EXPECT_EQ(result.entries, 0u);
  EXPECT_EQ(result.diff_id, sha256_of(std::string(1024, '\0')));
}

TEST_F(Unpack, WhiteoutsBecomeOverlayWhiteouts) {
  LayerBuilder b;
  b.dir("etc").whiteout("etc/.wh.passwd").dir("var").dir("var/cache").whiteout("var/cache/.wh..wh..opq")
      .file("var/cache/new", "n").file("kept", "k").whiteout(".wh.kept").whiteout("usr/.wh.lib");
  fs::path root = fresh_dir("root");
  apply(b, root);
  auto st = lstat_of(root / "etc/passwd");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(xattr_of(root / "var/cache", snapshot::overlay_opaque_xattr), "y");
  EXPECT_EQ(read_file(root / "var/cache/new"), "n");
  EXPECT_EQ(read_file(root / "kept"), "k") << "a whiteout only hides lower layers";
  EXPECT_TRUE(S_ISCHR(lstat_of(root / "usr/lib").st_mode)) << "parents of whiteouts are created";
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "etc/.wh.passwd")));
}

TEST_F(Unpack, FlattenAppliesWhiteouts) {
  LayerBuilder lower;
  lower.dir("etc").file("etc/passwd", "root").file("etc/group", "root").dir("var").dir("var/cache")
      .file("var/cache/a", "a").dir("var/cache/sub").file("var/cache/sub/b", "b").file("gone", "g");
  LayerBuilder upper;
  upper.file("var/cache/sub/new", "new").whiteout("var/cache/.wh..wh..opq").whiteout("etc/.wh.passwd")
      .whiteout(".wh.gone").whiteout(".wh.never-existed");
  fs::path root = fresh_dir("root");
  apply(lower, root, WhiteoutMode::flatten);
  apply(upper, root, WhiteoutMode::flatten);
  EXPECT_FALSE(fs::exists(root / "etc/passwd"));
  EXPECT_TRUE(fs::exists(root / "etc/group"));
  EXPECT_FALSE(fs::exists(root / "gone"));
  EXPECT_FALSE(fs::exists(root / "var/cache/a")) << "the opaque directory hides the lower layer";
  EXPECT_FALSE(fs::exists(root / "var/cache/sub/b")) << "also below a directory this layer recreated";
  EXPECT_EQ(read_file(root / "var/cache/sub/new"), "new") << "entries of the same layer stay, whatever the order";
  EXPECT_EQ(xattr_of(root / "var/cache", snapshot::overlay_opaque_xattr), "<none>");
}

TEST_F(Unpack, StreamingMatchesTheFilePath) {
  LayerBuilder b;
  for (int i = 0; i < 300; ++i) b.file("d" + std::to_string(i % 7) + "/f" + std::to_string(i), std::string(i * 37, 'q'));
  std::string blob = b.build(Compression::zstd);
  fs::path root = fresh_dir("stream");
  UnpackOptions options;
  options.expected_diff_id = b.diff_id();
  snapshot::StreamingUnpack sink(UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), options);
  for (size_t offset = 0; offset < blob.size(); offset += 1000)
    sink.write(blob.data() + offset, std::min<size_t>(1000, blob.size() - offset));
  sink.close();
  EXPECT_EQ(sink.result().diff_id, b.diff_id());
  EXPECT_EQ(sink.result().compressed_bytes, blob.size());
  EXPECT_EQ(read_file(root / "d3/f10"), std::string(370, 'q'));
}

TEST_F(Unpack, StreamingStopsOnAHostileEntry) {
  LayerBuilder b;
  b.file("ok", "ok").symlink("evil", "/").file("../escape", "x");
  for (int i = 0; i < 2000; ++i) b.file("pad/f" + std::to_string(i), std::string(1000, 'p'));
  std::string blob = b.build(Compression::none);
  fs::path root = fresh_dir("hostile");
  snapshot::StreamingUnpack sink(UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), UnpackOptions{});
  try {
    for (size_t offset = 0; offset < blob.size(); offset += 4096)
      sink.write(blob.data() + offset, std::min<size_t>(4096, blob.size() - offset));
    sink.close();
    ADD_FAILURE() << "the hostile entry was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("entry \"../escape\""), std::string::npos) << e.what();
  }
}

TEST_F(Unpack, StreamingAbortDiscardsQuietly) {
  LayerBuilder b;
  for (int i = 0; i < 100; ++i) b.file("f" + std::to_string(i), std::string(10000, 'a'));
  std::string blob = b.build(Compression::gzip);
  fs::path root = fresh_dir("aborted");
  auto sink = std::make_unique<snapshot::StreamingUnpack>(
      UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), UnpackOptions{});
  sink->write(blob.data(), blob.size() / 3);
  sink->abort();
  sink.reset();  // joins the worker; nothing throws
  SUCCEED();
}

TEST(EntryPaths, CleanAndRefuse) {
  using snapshot::EntryPath;
  EXPECT_EQ(EntryPath::parse("./a//b/./c/").str(), "a/b/c");
  EXPECT_EQ(EntryPath::parse("/etc/passwd").str(), "etc/passwd");
  EXPECT_EQ(EntryPath::parse("a/b/c").parent(), "a/b");
  EXPECT_TRUE(EntryPath::parse("./").is_root());
  EXPECT_TRUE(EntryPath::parse("/").is_root());
  EXPECT_THROW(EntryPath::parse("a/../b"), Error);
  EXPECT_THROW(EntryPath::parse(".."), Error);
  EXPECT_THROW(EntryPath::parse("a/.wh.b/c"), Error);
  EXPECT_THROW(EntryPath::parse(std::string(256, 'x')), Error);
}

TEST(Whiteouts, Classify) {
  using snapshot::classify_whiteout;
  using snapshot::WhiteoutKind;
  EXPECT_EQ(classify_whiteout("file").kind, WhiteoutKind::none);
  EXPECT_EQ(classify_whiteout(".wh..wh..opq").kind, WhiteoutKind::opaque);
  auto w = classify_whiteout(".wh.passwd");
  EXPECT_EQ(w.kind, WhiteoutKind::remove);
  EXPECT_EQ(w.target, "passwd");
  EXPECT_EQ(classify_whiteout(".wh..hidden").target, ".hidden");
  EXPECT_THROW(classify_whiteout(".wh."), Error);
  EXPECT_THROW(classify_whiteout(".wh.."), Error);
  EXPECT_THROW(classify_whiteout(".wh..wh.x"), Error);
  EXPECT_EQ(snapshot::whiteout_name_for("x"), ".wh.x");
}

TEST(Layers, ChainIdsFollowTheOciSpec) {
  Digest a = sha256_of("a"), b = sha256_of("b"), c = sha256_of("c");
  auto chains = snapshot::chain_ids({a, b, c});
  ASSERT_EQ(chains.size(), 3u);
  EXPECT_EQ(chains[0], a);
  EXPECT_EQ(chains[1], sha256_of(a.str() + " " + b.str()));
  EXPECT_EQ(chains[2], sha256_of(chains[1].str() + " " + c.str()));
}

TEST(Layers, CompressionFromMediaTypeAndMagic) {
  using snapshot::compression_from_media_type;
  EXPECT_EQ(compression_from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"), Compression::zstd);
  EXPECT_EQ(compression_from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"), Compression::gzip);
  EXPECT_EQ(compression_from_media_type("application/vnd.oci.image.layer.v1.tar"), Compression::none);
  EXPECT_THROW(compression_from_media_type("application/octet-stream"), Error);
  unsigned char gzip_magic[] = {0x1f, 0x8b, 8};
  unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
  EXPECT_EQ(snapshot::detect_compression(gzip_magic, sizeof gzip_magic), Compression::gzip);
  EXPECT_EQ(snapshot::detect_compression(zstd_magic, sizeof zstd_magic), Compression::zstd);
  EXPECT_EQ(snapshot::detect_compression("ustar", 5), Compression::none);
}

}  // namespace
}  // namespace skiff::test
