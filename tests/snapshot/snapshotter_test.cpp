// The snapshotter against a real store: chains shared between images,
// atomic and concurrent unpacks, real overlay mounts (what is visible,
// 120+ layers), commits, views, removal, usage and pruning, and the copy
// driver used where overlayfs is missing.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/root.h"
#include "core/strings.h"
#include "snapshot/layer_builder.h"
#include "snapshot/snapshotter.h"
#include "snapshot/tree_state.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;
using namespace skiff::snapshot;

struct BuiltLayer {
  LayerBuilder builder;
  fs::path blob;
  LayerFile file() const {
    LayerFile f;
    f.blob = blob;
    f.descriptor.media_type = layer_media_type(Compression::gzip);
    f.descriptor.diff_id = builder.diff_id();
    f.descriptor.digest = sha256_of(read_file(blob));
    return f;
  }
};

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: overlay mounts, owners, devices";
    root_ = std::make_unique<Root>(store_.path() / "root");
  }
  BuiltLayer layer(LayerBuilder b) {
    fs::path blob = store_.path() / ("blob" + std::to_string(counter_++));
    b.write(blob);
    return {std::move(b), blob};
  }
  std::vector<LayerFile> files(const std::vector<BuiltLayer>& layers) {
    std::vector<LayerFile> out;
    for (const auto& l : layers) out.push_back(l.file());
    return out;
  }
  fs::path mount_point(const std::string& name) {
    fs::path p = store_.path() / "mnt" / name;
    fs::create_directories(p);
    return p;
  }
  std::vector<std::string> staged_leftovers() {
    std::vector<std::string> left;
    auto tmp = root_->snapshots_dir() / "tmp";
    if (fs::exists(tmp))
      for (const auto& e : fs::directory_iterator(tmp)) left.push_back(e.path().filename());
    return left;
  }
  size_t count_snapshots(Snapshotter& s) {
    size_t n = 0;
    s.walk([&](const Info&) { ++n; });
    return n;
  }

  TempDir store_{fs::path("/var/tmp"), "skiff-snapshotter-test-"};
  std::unique_ptr<Root> root_;
  int counter_ = 0;
};

TEST_F(SnapshotterTest, ImagesWithTheSameLayersShareSnapshots) {
  Snapshotter snapshots(*root_);
  auto base = layer(LayerBuilder().dir("etc").file("etc/os-release", "nano"));
  auto app = layer(LayerBuilder().dir("app").file("app/run", "app", 0755));
  auto other = layer(LayerBuilder().dir("srv").file("srv/data", "other"));
  Digest top1 = snapshots.unpack_layers(files({base, app}));
  Digest top2 = snapshots.unpack_layers(files({base, other}));
  auto chains1 = chain_ids({base.builder.diff_id(), app.builder.diff_id()});
  EXPECT_EQ(top1, chains1[1]);
  EXPECT_NE(top1, top2);
  EXPECT_EQ(count_snapshots(snapshots), 3u) << "the base layer is stored once";
  auto info = snapshots.stat(top1.str());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->parent, base.builder.diff_id().str()) << "chainID(L0) = diffID(L0)";
  EXPECT_EQ(info->diff_id, app.builder.diff_id().str());
  EXPECT_EQ(info->kind, Kind::committed);
  EXPECT_EQ(read_file(snapshots.fs_path(top1.str()) / "app/run"), "app");
  EXPECT_TRUE(staged_leftovers().empty());

  // Again: nothing to do, nothing added.
  auto again = snapshots.unpack({base.file().descriptor, app.file().descriptor});
  EXPECT_FALSE(again.needed(0));
  EXPECT_FALSE(again.needed(1));
  EXPECT_EQ(again.commit(), top1);
  EXPECT_EQ(count_snapshots(snapshots), 3u);
}

TEST_F(SnapshotterTest, AFailedLayerStoresNothing) {
  Snapshotter snapshots(*root_);
  auto good = layer(LayerBuilder().file("good", "g"));
  auto hostile = layer(LayerBuilder().symlink("evil", "/etc").file("evil/pwned", "x"));
  try {
    snapshots.unpack_layers(files({good, hostile}));
    ADD_FAILURE() << "hostile layer accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("entry \"evil/pwned\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_snapshots(snapshots), 0u) << "not even the good layer below: the chain is all or nothing";
  EXPECT_TRUE(staged_leftovers().empty()) << "half-made snapshots are removed";

  auto wrong = good.file();
  wrong.descriptor.diff_id = sha256_of("not this layer");
  EXPECT_THROW(snapshots.unpack_layers({wrong}), Error);
  EXPECT_EQ(count_snapshots(snapshots), 0u);
  EXPECT_TRUE(staged_leftovers().empty());
}

TEST_F(SnapshotterTest, StreamingSinksUnpackLayersInParallel) {
  Snapshotter snapshots(*root_);
  std::vector<BuiltLayer> layers;
  for (int i = 0; i < 4; ++i) {
    LayerBuilder b;
    for (int f = 0; f < 200; ++f) b.file("l" + std::to_string(i) + "/f" + std::to_string(f), std::string(f * 10, 'x'));
    layers.push_back(layer(std::move(b)));
  }
  std::vector<LayerDescriptor> descriptors;
  for (const auto& l : layers) descriptors.push_back(l.file().descriptor);
  auto chain = snapshots.unpack(descriptors);
  std::vector<std::thread> downloads;
  for (size_t i = 0; i < layers.size(); ++i) {
    ASSERT_TRUE(chain.needed(i));
    downloads.emplace_back([&, i] {
      auto sink = chain.sink(i);
      std::string bytes = read_file(layers[i].blob);
      for (size_t offset = 0; offset < bytes.size(); offset += 16384)
        sink->write(bytes.data() + offset, std::min<size_t>(16384, bytes.size() - offset));
      sink->close();
    });
  }
  for (auto& t : downloads) t.join();
  Digest top = chain.commit();
  EXPECT_EQ(top, chain.chain_ids().back());
  EXPECT_EQ(count_snapshots(snapshots), 4u);
  EXPECT_EQ(read_file(snapshots.fs_path(top.str()) / "l3/f7"), std::string(70, 'x'));
}

TEST_F(SnapshotterTest, ALayerNeverDeliveredCannotBeCommitted) {
  Snapshotter snapshots(*root_);
  auto a = layer(LayerBuilder().file("a", "a"));
  auto b = layer(LayerBuilder().file("b", "b"));
  {
    auto chain = snapshots.unpack({a.file().descriptor, b.file().descriptor});
    chain.apply_file(1, b.blob);
    EXPECT_THROW(chain.commit(), Error);
    auto sink = chain.sink(0);
    sink->write("garbage");
    sink->abort();
  }
  EXPECT_EQ(count_snapshots(snapshots), 0u);
  EXPECT_TRUE(staged_leftovers().empty());
}

TEST_F(SnapshotterTest, ConcurrentUnpacksOfOneChainAgree) {
  auto a = layer(LayerBuilder().file("a", std::string(100000, 'a')));
  auto b = layer(LayerBuilder().file("b", std::string(100000, 'b')));
  auto layers = files({a, b});
  std::vector<Digest> tops(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      // Separate Root objects: separate database connections and lock
      // descriptors, as separate skiff processes would have.
      Root root(root_->path());
      Snapshotter snapshots(root);
      tops[i] = snapshots.unpack_layers(layers);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& top : tops) EXPECT_EQ(top, tops[0]);
  Snapshotter snapshots(*root_);
  EXPECT_EQ(count_snapshots(snapshots), 2u);
  EXPECT_TRUE(staged_leftovers().empty());
}

TEST_F(SnapshotterTest, ImpliedDirectoriesLookLikeTheLayerBelow) {
  Snapshotter snapshots(*root_);
  TarEntry opt;
  opt.type = TarEntry::Type::dir;
  opt.name = "opt";
  opt.mode = 0710;
  opt.uid = 5;
  opt.gid = 6;
  opt.mtime = 1234567890;
  auto lower = layer(LayerBuilder().add(opt));
  auto upper = layer(LayerBuilder().file("opt/tool", "t"));  // no "opt" entry
  Digest top = snapshots.unpack_layers(files({lower, upper}));
  struct stat st;
  ASSERT_EQ(::lstat((snapshots.fs_path(top.str()) / "opt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0710u);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_gid, 6u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
}

// The OCI whiteout rules, checked on a real overlay mount, against the
// flattened copy and the exported tar.
TEST_F(SnapshotterTest, OverlayShowsWhatTheSpecSays) {
  Snapshotter snapshots(*root_);
  if (snapshots.driver() != Driver::overlay) GTEST_SKIP() << "overlayfs is not available here";
  auto lower = layer(LayerBuilder()
                         .dir("etc").file("etc/passwd", "root:x:0:0").file("etc/group", "root:x:0:")
                         .dir("var").dir("var/cache").file("var/cache/a", "a").dir("var/cache/sub")
                         .file("var/cache/sub/b", "b").file("gone", "g").dir("dir-to-file").file("dir-to-file/x", "x"));
  auto upper = layer(LayerBuilder()
                         .whiteout(".wh.gone").whiteout("etc/.wh.passwd").dir("var/cache")
                         .whiteout("var/cache/.wh..wh..opq").file("var/cache/new", "new")
                         .whiteout(".wh.dir-to-file").file("dir-to-file", "now a file"));
  Digest top = snapshots.unpack_layers(files({lower, upper}));
  auto mounts = snapshots.view("view", top.str());
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].type, "overlay");
  fs::path target = mount_point("view");
  Mount mounted = mount(mounts[0], target);
  EXPECT_EQ(read_file(target / "etc/group"), "root:x:0:");
  EXPECT_FALSE(fs::exists(target / "etc/passwd"));
  EXPECT_FALSE(fs::exists(target / "gone"));
  EXPECT_FALSE(fs::exists(target / "var/cache/a")) << "opaque directory";
  EXPECT_FALSE(fs::exists(target / "var/cache/sub"));
  EXPECT_EQ(read_file(target / "var/cache/new"), "new");
  EXPECT_EQ(read_file(target / "dir-to-file"), "now a file");
  auto visible = record_tree(target);

  // The same tree, without a mount: flattened copy and exported tar.
  fs::path flat = store_.path() / "flat";
  fs::create_directories(flat);
  snapshots.flatten_into(top.str(), flat);
  CompareOptions same;
  same.inodes_and_ctime = false;
  same.root_entry = false;
  auto diffs = compare_trees(visible, record_tree(flat), same);
  EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");

  fs::path exported = store_.path() / "export.tar.gz";
  {
    FileSink sink(exported);
    snapshots.export_tar(top.str(), sink);
    sink.close();
  }
  fs::path unpacked = store_.path() / "unpacked";
  fs::create_directories(unpacked);
  UnpackOptions flatten;
  flatten.whiteouts = WhiteoutMode::flatten;
  apply_layer(exported, unpacked, flatten);
  diffs = compare_trees(visible, record_tree(unpacked), same);
  EXPECT_TRUE(diffs.empty()) << join(diffs, "\n");

  // A view is read-only.
  EXPECT_LT(::open((target / "new-file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), 0);
  EXPECT_EQ(errno, EROFS);
}

TEST_F(SnapshotterTest, ContainersWriteToTheirOwnUpperAndCommit) {
  Snapshotter snapshots(*root_);
  if (snapshots.driver() != Driver::overlay) GTEST_SKIP() << "overlayfs is not available here";
  auto base = layer(LayerBuilder().dir("etc").file("etc/motd", "hello").file("etc/remove-me", "x"));
  auto app = layer(LayerBuilder().dir("app").file("app/bin", "v1", 0755));
  Digest top = snapshots.unpack_layers(files({base, app}));
  auto mounts = snapshots.prepare("container-1", top.str());
  fs::path rootfs = mount_point("c1");
  {
    Mount mounted = mount(mounts.at(0), rootfs);
    write_file_atomic(rootfs / "etc/motd", "changed", 0644, false);
    fs::remove(rootfs / "etc/remove-me");
    write_file_atomic(rootfs / "app/new", "new", 0644, false);
    mounted.unmount();
  }
  // Another container from the same image sees none of it.
  auto other = snapshots.prepare("container-2", top.str());
  fs::path rootfs2 = mount_point("c2");
  {
    Mount mounted = mount(other.at(0), rootfs2);
    EXPECT_EQ(read_file(rootfs2 / "etc/motd"), "hello");
    EXPECT_TRUE(fs::exists(rootfs2 / "etc/remove-me"));
  }
  // The changes become a layer; the upper becomes a committed snapshot.
  fs::path blob = store_.path() / "diff.tar.gz";
  LayerInfo diff;
  {
    FileSink sink(blob);
    diff = snapshots.diff("container-1", sink);
    sink.close();
  }
  Digest committed = chain_id(top, diff.diff_id);
  snapshots.commit(committed.str(), "container-1");
  EXPECT_FALSE(snapshots.stat("container-1"));
  auto info = snapshots.stat(committed.str());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, Kind::committed);
  EXPECT_EQ(info->parent, top.str());
  EXPECT_FALSE(fs::exists(snapshots.fs_path(committed.str()).parent_path() / "work"));

  // A fresh store unpacking base + app + the diff gets the same chain.
  Root other_root(store_.path() / "root2");
  Snapshotter fresh(other_root);
  auto layers = files({base, app});
  LayerFile changes;
  changes.blob = blob;
  changes.descriptor.diff_id = diff.diff_id;
  changes.descriptor.media_type = diff.media_type;
  layers.push_back(changes);
  EXPECT_EQ(fresh.unpack_layers(layers), committed);
  fresh.view("v", committed.str());
  fs::path view = mount_point("v");
  Mount mounted = mount(fresh.mounts("v").at(0), view);
  EXPECT_EQ(read_file(view / "etc/motd"), "changed");
  EXPECT_FALSE(fs::exists(view / "etc/remove-me"));
  EXPECT_EQ(read_file(view / "app/new"), "new");
  EXPECT_EQ(read_file(view / "app/bin"), "v1");
}

TEST_F(SnapshotterTest, MoreThan120LayersMount) {
  Snapshotter snapshots(*root_);
  if (snapshots.driver() != Driver::overlay) GTEST_SKIP() << "overlayfs is not available here";
  constexpr int count = 130;
  std::vector<BuiltLayer> layers;
  for (int i = 0; i < count; ++i)
    layers.push_back(layer(LayerBuilder().file("layer-" + std::to_string(i), std::to_string(i)).file("top", std::to_string(i))));
  Digest top = snapshots.unpack_layers(files(layers));
  auto mounts = snapshots.prepare("tall", top.str());
  ASSERT_EQ(mounts.at(0).lower_dirs().size(), static_cast<size_t>(count));
  EXPECT_GT(mounts.at(0).str().size(), 4096u) << "the options alone would not fit in one mount(2) page";
  std::vector<OverlayMethod> methods = {OverlayMethod::automatic, OverlayMethod::relative};
  if (overlay_supports_lowerdir_plus()) methods.push_back(OverlayMethod::lowerdir_plus);
  for (OverlayMethod method : methods) {
    SCOPED_TRACE(static_cast<int>(method));
    fs::path target = mount_point("tall-" + std::to_string(static_cast<int>(method)));
    Mount mounted = mount(mounts.at(0), target, method);
    EXPECT_EQ(read_file(target / "layer-0"), "0");
    EXPECT_EQ(read_file(target / "layer-129"), "129");
    EXPECT_EQ(read_file(target / "top"), "129") << "the topmost layer wins";
    write_file_atomic(target / ("written-" + std::to_string(static_cast<int>(method))), "w", 0644, false);
  }
  EXPECT_THROW(mount(mounts.at(0), mount_point("plain"), OverlayMethod::plain), Error);
  EXPECT_TRUE(fs::exists(snapshots.fs_path("tall") / "written-0")) << "writes land in the upper directory";
}

TEST_F(SnapshotterTest, RemoveUsageAndPrune) {
  Snapshotter snapshots(*root_);
  auto a = layer(LayerBuilder().file("a", std::string(50000, 'a')));
  auto b = layer(LayerBuilder().file("b", std::string(50000, 'b')));
  auto c = layer(LayerBuilder().file("c", std::string(50000, 'c')));
  auto d = layer(LayerBuilder().file("d", std::string(50000, 'd')));
  Digest image1 = snapshots.unpack_layers(files({a, b}));
  Digest image2 = snapshots.unpack_layers(files({a, c}));
  Digest image3 = snapshots.unpack_layers(files({d}));
  snapshots.prepare("running", image2.str());
  EXPECT_GE(snapshots.usage(image1.str()).bytes, 50000u);
  EXPECT_GE(snapshots.usage(image1.str()).inodes, 2u);

  try {
    snapshots.remove(a.builder.diff_id().str());
    ADD_FAILURE() << "removed a parent";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::conflict);
  }
  // Keep image1; image2 stays for the running container; image3 goes.
  auto result = snapshots.prune({image1.str()});
  EXPECT_EQ(result.removed, std::vector<std::string>{image3.str()});
  EXPECT_GT(result.reclaimed_bytes, 0u);
  snapshots.remove("running");
  result = snapshots.prune({image1.str()});
  EXPECT_EQ(result.removed, std::vector<std::string>{image2.str()});
  EXPECT_TRUE(snapshots.stat(a.builder.diff_id().str())) << "still the parent of image1";
  result = snapshots.prune({});
  EXPECT_EQ(result.removed.size(), 2u);
  EXPECT_EQ(count_snapshots(snapshots), 0u);
  size_t dirs = 0;
  for (const auto& e : fs::directory_iterator(root_->snapshots_dir()))
    if (e.is_directory() && e.path().filename() != "tmp" && e.path().filename() != "locks") ++dirs;
  EXPECT_EQ(dirs, 0u) << "no snapshot directory is left behind";
}

TEST_F(SnapshotterTest, VerbsRefuseWhatMakesNoSense) {
  Snapshotter snapshots(*root_);
  auto a = layer(LayerBuilder().file("a", "a"));
  Digest top = snapshots.unpack_layers(files({a}));
  EXPECT_THROW(snapshots.mounts(top.str()), Error) << "a committed snapshot is mounted through a view";
  EXPECT_THROW(snapshots.prepare("x", "sha256:missing"), Error);
  snapshots.prepare("x", top.str());
  EXPECT_THROW(snapshots.prepare("x", top.str()), Error);
  EXPECT_THROW(snapshots.prepare("y", "x"), Error) << "the parent must be committed";
  EXPECT_THROW(snapshots.commit(top.str(), "x"), Error) << "name taken";
  EXPECT_THROW(snapshots.view("v", ""), Error);
  EXPECT_THROW(snapshots.stat("nope").value(), std::bad_optional_access);
}

// Where overlayfs is missing, root filesystems are copies and commits are
// computed by comparing the copy with its parents.
TEST_F(SnapshotterTest, CopyDriverWithoutOverlayfs) {
  ::setenv("SKIFF_SNAPSHOTTER", "copy", 1);
  Snapshotter snapshots(*root_);
  Driver driver = snapshots.driver();  // detected once, on first use
  ::unsetenv("SKIFF_SNAPSHOTTER");
  ASSERT_EQ(driver, Driver::copy);
  EXPECT_EQ(detect_driver(root_->snapshots_dir()).detail, "copy forced by SKIFF_SNAPSHOTTER=copy");
  auto base = layer(LayerBuilder().dir("etc").file("etc/motd", "hello").file("etc/gone", "x").dir("d").file("d/f", "f"));
  auto upper = layer(LayerBuilder().whiteout("d/.wh.f").file("d/g", "g"));
  Digest top = snapshots.unpack_layers(files({base, upper}));
  auto mounts = snapshots.prepare("c", top.str());
  ASSERT_EQ(mounts.at(0).type, "bind");
  fs::path rootfs = mount_point("copy");
  {
    Mount mounted = mount(mounts.at(0), rootfs);
    EXPECT_EQ(read_file(rootfs / "etc/motd"), "hello");
    EXPECT_FALSE(fs::exists(rootfs / "d/f"));
    EXPECT_EQ(read_file(rootfs / "d/g"), "g");
    fs::remove(rootfs / "etc/gone");
    write_file_atomic(rootfs / "etc/motd", "changed", 0644, false);
    write_file_atomic(rootfs / "new", "n", 0600, false);
  }
  fs::path blob = store_.path() / "copy-diff.tar";
  LayerInfo diff;
  {
    FileSink sink(blob);
    DiffOptions options;
    options.compression = Compression::none;
    diff = snapshots.diff("c", sink, options);
    sink.close();
  }
  EXPECT_EQ(diff.entries, 3u) << "one whiteout, one changed file, one new file";
  Digest committed = chain_id(top, diff.diff_id);
  snapshots.commit(committed.str(), "c");
  EXPECT_EQ(snapshots.stat(committed.str())->diff_id, diff.diff_id.str());
  fs::path flat = store_.path() / "copy-flat";
  fs::create_directories(flat);
  snapshots.flatten_into(committed.str(), flat);
  EXPECT_EQ(read_file(flat / "etc/motd"), "changed");
  EXPECT_FALSE(fs::exists(flat / "etc/gone"));
  EXPECT_EQ(read_file(flat / "new"), "n");
  EXPECT_EQ(read_file(flat / "d/g"), "g");
}

}  // namespace
}  // namespace skiff::test
