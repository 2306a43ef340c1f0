// The hostile layer corpus: each case is one breakout attempt, applied in
// overlay mode (one directory per layer, as snapshots are) and in flatten
// mode (all layers into one tree, as VM images and exports are), against a
// canary folder outside the store. After each, the canary must be exactly
// as it was, and the layer must be refused with an error naming the entry
// or have landed safely inside the snapshot.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fcntl.h>

#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"
#include "snapshot/canary.h"
#include "snapshot/layer_builder.h"
#include "snapshot/unpack.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;
using snapshot::WhiteoutMode;

struct Outcome {
  bool refused = false;
  std::string message;  // part of the error when refused
  bool names_entry = true;  // false for stream-level errors
  // For a safe result: checks on the top snapshot directory.
  std::function<void(const fs::path& top)> check;
};

Outcome refused(std::string message, bool names_entry = true) { return {true, std::move(message), names_entry, {}}; }
Outcome safe(std::function<void(const fs::path&)> check = {}) { return {false, {}, true, std::move(check)}; }

struct HostileCase {
  std::string name;
  std::vector<LayerBuilder> layers;
  Outcome overlay;
  Outcome flatten;
};

// From any directory, enough ".." to reach "/" and then the canary.
std::string climb(const std::string& absolute) { return "../../../../../../../../../../../../.." + absolute; }

bool is_link(const fs::path& p) { return fs::is_symlink(fs::symlink_status(p)); }
bool is_whiteout_device(const fs::path& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}
std::string content(const fs::path& p) { return read_file(p); }

std::vector<HostileCase> hostile_cases(const std::string& canary) {
  std::string rel_canary = canary.substr(1);  // "var/tmp/…/canary"
  std::vector<HostileCase> cases;
  auto add = [&](std::string name, std::vector<LayerBuilder> layers, Outcome overlay, Outcome flatten) {
    cases.push_back({std::move(name), std::move(layers), std::move(overlay), std::move(flatten)});
  };
  auto one = [](LayerBuilder b) { return std::vector<LayerBuilder>{std::move(b)}; };
  auto landed_inside = [rel_canary](std::string rel) {
    return [rel_canary, rel](const fs::path& top) {
      EXPECT_EQ(content(top / rel_canary / rel), "pwned") << "the entry should land inside the snapshot";
    };
  };

  // ---- names ----
  add("absolute name", one(LayerBuilder().file(canary + "/pwned", "pwned")), safe(landed_inside("pwned")),
      safe(landed_inside("pwned")));
  add("dotdot name", one(LayerBuilder().file(climb(canary) + "/pwned", "pwned")), refused("\"..\""),
      refused("\"..\""));
  add("dotdot in the middle", one(LayerBuilder().dir("a").file("a/../../pwned", "pwned")), refused("\"..\""),
      refused("\"..\""));
  add("dotdot directory entry", one(LayerBuilder().dir("../")), refused("\"..\""), refused("\"..\""));
  add("root replaced by a file", one(LayerBuilder().file(".", "pwned")), refused("root must be a directory"),
      refused("root must be a directory"));
  add("root replaced by a symlink out", one(LayerBuilder().symlink("./", canary)), refused("root must be a directory"),
      refused("root must be a directory"));
  // libarchive reads a file named "x/" as a directory; its data then breaks the stream.
  add("file with a trailing slash and data", one(LayerBuilder().file("./", "pwned")),
      refused("broken tar stream", false), refused("broken tar stream", false));
  {
    std::string long_component(256, 'n');
    add("component longer than NAME_MAX", one(LayerBuilder().file("d/" + long_component, "x")),
        refused("256 bytes"), refused("256 bytes"));
  }
  {
    std::string deep;
    while (deep.size() < 4200) deep += std::string(200, 'd') + "/";
    add("path longer than PATH_MAX", one(LayerBuilder().file(deep + "f", "x")), refused("long"), refused("long"));
  }
  {
    // Long but legal: GNU long-name headers and PAX path records both work.
    std::string deep;
    for (int i = 0; i < 15; ++i) deep += std::string(250, 'a' + i) + "/";
    auto check = [deep](const fs::path& top) { EXPECT_EQ(content(top / deep / "f"), "long"); };
    add("very long legal name (pax)", one(LayerBuilder().file(deep + "f", "long")), safe(check), safe(check));
    add("very long legal name (gnu)", one(LayerBuilder(LayerBuilder::Format::gnu).file(deep + "f", "long")),
        safe(check), safe(check));
  }

  // ---- symlinks written through ----
  add("absolute symlink then file through it",
      one(LayerBuilder().symlink("evil", canary).file("evil/pwned", "pwned")), refused("leads nowhere"),
      refused("leads nowhere"));
  add("relative symlink then file through it",
      one(LayerBuilder().symlink("evil", climb(canary)).file("evil/pwned", "pwned")), refused("leads nowhere"),
      refused("leads nowhere"));
  add("chained symlinks then file through them",
      one(LayerBuilder().symlink("a", "b").symlink("b", "c/../" + climb(canary)).file("a/pwned", "pwned")),
      refused("leads nowhere"), refused("leads nowhere"));
  add("symlink to /proc/self/root then file through it",
      one(LayerBuilder().symlink("p", "/proc/self/root" + canary).file("p/pwned", "pwned")),
      refused("leads nowhere"), refused("leads nowhere"));
  {
    auto check = [](const fs::path& top) { EXPECT_EQ(content(top / "pwned"), "pwned"); };
    add("symlink to dotdot then file through it (clamped to the root)",
        one(LayerBuilder().symlink("up", "../../..").file("up/pwned", "pwned")), safe(check), safe(check));
  }
  add("symlink to dotdot then a path to the canary below it",
      one(LayerBuilder().symlink("up", "../../../..").file("up" + canary + "/pwned", "pwned")),
      safe(landed_inside("pwned")), safe(landed_inside("pwned")));
  add("symlink loop then file through it", one(LayerBuilder().symlink("a", "b").symlink("b", "a").file("a/x", "x")),
      refused("loops"), refused("loops"));
  add("directory replaced by a symlink, then written through",
      one(LayerBuilder().dir("d").symlink("d", canary).file("d/pwned", "pwned")), refused("leads nowhere"),
      refused("leads nowhere"));
  {
    auto check = [](const fs::path& top) {
      EXPECT_FALSE(is_link(top / "evil"));
      EXPECT_EQ(content(top / "evil"), "pwned");
    };
    add("symlink to a canary file, then the file entry rewritten",
        one(LayerBuilder().symlink("evil", canary + "/file").file("evil", "pwned", 04777)), safe(check), safe(check));
  }
  {
    auto check = [](const fs::path& top) { EXPECT_TRUE(fs::is_directory(fs::symlink_status(top / "evil"))); };
    add("symlink to a canary dir, then a directory entry over it (chmod 0777)",
        one(LayerBuilder().symlink("evil", canary + "/dir").dir("evil", 0777)), safe(check), safe(check));
  }

  // ---- metadata through symlinks (CVE-2021-32760 and friends) ----
  {
    TarEntry chown_link;
    chown_link.type = TarEntry::Type::symlink;
    chown_link.name = "evil";
    chown_link.content = canary + "/file";
    chown_link.uid = 4242;
    chown_link.gid = 4242;
    auto check = [](const fs::path& top) {
      struct stat st;
      ASSERT_EQ(::lstat((top / "evil").c_str(), &st), 0);
      EXPECT_TRUE(S_ISLNK(st.st_mode));
      EXPECT_EQ(st.st_uid, 4242u) << "the owner belongs to the symlink itself";
    };
    add("chown through a symlink", one(LayerBuilder().add(chown_link)), safe(check), safe(check));

    TarEntry time_link = chown_link;
    time_link.uid = time_link.gid = 0;
    time_link.mtime = 12345;
    auto time_check = [](const fs::path& top) {
      struct stat st;
      ASSERT_EQ(::lstat((top / "evil").c_str(), &st), 0);
      EXPECT_EQ(st.st_mtim.tv_sec, 12345);
    };
    add("utime through a symlink", one(LayerBuilder().add(time_link)), safe(time_check), safe(time_check));

    TarEntry xattr_link = time_link;
    xattr_link.mtime = 1700000000;
    xattr_link.xattrs = {{"trusted.skiff.pwned", "1"}};
    auto xattr_check = [](const fs::path& top) {
      char value[8];
      EXPECT_EQ(::lgetxattr((top / "evil").c_str(), "trusted.skiff.pwned", value, sizeof value), 1);
    };
    add("xattr through a symlink", one(LayerBuilder().add(xattr_link)), safe(xattr_check), safe(xattr_check));

    TarEntry chmod_twice;
    chmod_twice.type = TarEntry::Type::dir;
    chmod_twice.name = "evil";
    chmod_twice.mode = 0777;
    chmod_twice.uid = 4242;
    auto dir_check = [](const fs::path& top) {
      struct stat st;
      ASSERT_EQ(::lstat((top / "evil").c_str(), &st), 0);
      EXPECT_TRUE(S_ISDIR(st.st_mode));
      EXPECT_EQ(st.st_mode & 07777, 0777u);
    };
    add("chmod/chown of a directory entry that is a symlink to the canary",
        one(LayerBuilder().symlink("evil", climb(canary)).add(chmod_twice)), safe(dir_check), safe(dir_check));
  }

  // ---- hard links ----
  add("hard link to an absolute outside path", one(LayerBuilder().hardlink("h", canary + "/file")),
      refused("hard link target"), refused("hard link target"));
  add("hard link with a dotdot target", one(LayerBuilder().hardlink("h", climb(canary) + "/file")),
      refused("\"..\""), refused("\"..\""));
  add("hard link through a symlink", one(LayerBuilder().symlink("evil", canary).hardlink("h", "evil/file")),
      refused("hard link target"), refused("hard link target"));
  {
    auto check = [](const fs::path& top) {
      EXPECT_EQ(content(top / "h"), "pwned");
      EXPECT_TRUE(is_link(top / "evil"));
    };
    add("hard link to a symlink pointing out, then written",
        one(LayerBuilder().symlink("evil", canary + "/file").hardlink("h", "evil").file("h", "pwned")), safe(check),
        safe(check));
  }
  add("hard link to a symlink pointing out, then written below",
      one(LayerBuilder().symlink("evil", canary + "/dir").hardlink("h", "evil").file("h/pwned", "pwned")),
      refused("leads nowhere"), refused("leads nowhere"));
  add("hard link to a directory", one(LayerBuilder().dir("d").hardlink("h", "d")), refused("is a directory"),
      refused("is a directory"));

  // ---- whiteouts ----
  add("whiteout through a symlink", one(LayerBuilder().symlink("evil", canary).whiteout("evil/.wh.file")),
      refused("leads nowhere"), safe());
  add("whiteout upward", one(LayerBuilder().whiteout("../.wh.canary")), refused("\"..\""), refused("\"..\""));
  {
    auto check = [rel_canary](const fs::path& top) { EXPECT_TRUE(is_whiteout_device(top / rel_canary / "file")); };
    add("whiteout with an absolute name", one(LayerBuilder().whiteout(canary + "/.wh.file")), safe(check), safe());
  }
  add("opaque whiteout through a symlink", one(LayerBuilder().symlink("evil", canary).whiteout("evil/.wh..wh..opq")),
      refused("leads nowhere"), safe());
  add("opaque whiteout at the layer root", one(LayerBuilder().whiteout(".wh..wh..opq")), refused("layer root"),
      safe());
  add("opaque whiteout as a directory component", one(LayerBuilder().file("x/.wh..wh..opq/y", "y")),
      refused("whiteout name"), refused("whiteout name"));
  {
    auto check = [](const fs::path& top) { EXPECT_FALSE(fs::exists(fs::symlink_status(top / "d/.wh..wh..opq"))); };
    add("opaque whiteout disguised as a symlink out", one(LayerBuilder().dir("d").symlink("d/.wh..wh..opq", canary)),
        safe(check), safe(check));
  }
  add("whiteout of dotdot", one(LayerBuilder().dir("d").whiteout("d/.wh...")), refused("names no entry"),
      refused("names no entry"));
  add("whiteout in the reserved .wh..wh. space", one(LayerBuilder().whiteout(".wh..wh.x")), refused("reserved"),
      refused("reserved"));
  add("hard link to a whiteout", one(LayerBuilder().whiteout(".wh.x").hardlink("h", ".wh.x")), refused("whiteout"),
      refused("whiteout"));

  // ---- devices and fifos ----
  add("fifo through a symlinked parent", one(LayerBuilder().symlink("evil", canary).fifo("evil/fifo")),
      refused("leads nowhere"), refused("leads nowhere"));
  {
    auto check = [](const fs::path& top) {
      struct stat st;
      ASSERT_EQ(::lstat((top / "evil").c_str(), &st), 0);
      EXPECT_TRUE(S_ISCHR(st.st_mode));
      EXPECT_EQ(st.st_rdev, makedev(1, 3));
    };
    add("device node over a symlink to the canary",
        one(LayerBuilder().symlink("evil", canary + "/file").device("evil", false, 1, 3)), safe(check), safe(check));
  }
  {
    TarEntry overlay_xattr;
    overlay_xattr.name = "redirected";
    overlay_xattr.content = "x";
    overlay_xattr.xattrs = {{"trusted.overlay.redirect", canary}, {"trusted.overlay.metacopy", ""}};
    auto check = [](const fs::path& top) {
      char value[256];
      EXPECT_LT(::lgetxattr((top / "redirected").c_str(), "trusted.overlay.redirect", value, sizeof value), 0);
    };
    add("overlayfs xattrs smuggled in an entry", one(LayerBuilder().add(overlay_xattr)), safe(check), safe(check));
  }

  // ---- multi-layer: the second layer builds on what the first planted ----
  auto two = [](LayerBuilder a, LayerBuilder b) { return std::vector<LayerBuilder>{std::move(a), std::move(b)}; };
  auto own_dir = [](std::string rel) {
    return [rel](const fs::path& top) { EXPECT_EQ(content(top / rel), "pwned"); };
  };
  add("layers: symlink, then file through it",
      two(LayerBuilder().symlink("evil", canary), LayerBuilder().file("evil/pwned", "pwned")),
      safe(own_dir("evil/pwned")), refused("leads nowhere"));
  add("layers: directory, replaced by a symlink, then written through",
      {LayerBuilder().dir("d").file("d/f", "f"), LayerBuilder().symlink("d", canary),
       LayerBuilder().file("d/pwned", "pwned")},
      safe(own_dir("d/pwned")), refused("leads nowhere"));
  add("layers: relative chain across layers",
      {LayerBuilder().symlink("a", "b"), LayerBuilder().symlink("b", climb(canary)), LayerBuilder().file("a/pwned", "pwned")},
      safe(own_dir("a/pwned")), refused("leads nowhere"));
  add("layers: symlink, then whiteout through it",
      two(LayerBuilder().symlink("evil", canary), LayerBuilder().whiteout("evil/.wh.file")), safe(), safe());
  add("layers: symlink, then opaque whiteout through it",
      two(LayerBuilder().symlink("evil", canary), LayerBuilder().whiteout("evil/.wh..wh..opq")), safe(), safe());
  add("layers: symlink, then hard link through it",
      two(LayerBuilder().symlink("evil", canary), LayerBuilder().hardlink("h", "evil/file")),
      refused("hard link target"), refused("hard link target"));
  add("layers: symlink to a canary file, then a file entry over it (chmod 04777)",
      two(LayerBuilder().symlink("evil", canary + "/file"), LayerBuilder().file("evil", "pwned", 04777)),
      safe(own_dir("evil")), safe(own_dir("evil")));
  add("layers: symlink, then fifo through it",
      two(LayerBuilder().symlink("evil", canary), LayerBuilder().fifo("evil/fifo")), safe(), refused("leads nowhere"));
  add("layers: whiteout, symlink in its place, then written through",
      {LayerBuilder().file("x", "x"), LayerBuilder().whiteout(".wh.x").symlink("x", canary),
       LayerBuilder().file("x/pwned", "pwned")},
      safe(own_dir("x/pwned")), refused("leads nowhere"));
  add("layers: opaque directory with a symlink, then written through",
      {LayerBuilder().dir("d").file("d/f", "f"),
       LayerBuilder().dir("d").whiteout("d/.wh..wh..opq").symlink("d/link", canary),
       LayerBuilder().file("d/link/pwned", "pwned")},
      safe(own_dir("d/link/pwned")), refused("leads nowhere"));
  add("layers: hard link to a symlink from the layer below",
      two(LayerBuilder().symlink("evil", canary + "/file"), LayerBuilder().hardlink("h", "evil")),
      refused("hard link target"), safe());
  {
    auto check = [](const fs::path& top) { EXPECT_TRUE(is_whiteout_device(top / "evil")); };
    auto flat_check = [](const fs::path& top) { EXPECT_FALSE(fs::exists(fs::symlink_status(top / "evil"))); };
    add("layers: whiteout of a symlink to the canary",
        two(LayerBuilder().symlink("evil", canary + "/dir"), LayerBuilder().whiteout(".wh.evil")), safe(check),
        safe(flat_check));
  }
  return cases;
}

// Applies `layers` and returns the error, if any; `top` is the last
// snapshot directory written (one per layer in overlay mode, one in flatten
// mode).
std::optional<Error> apply(const std::vector<LayerBuilder>& layers, WhiteoutMode mode, const fs::path& work,
                           fs::path& top) {
  fs::create_directories(work);
  for (size_t i = 0; i < layers.size(); ++i) {
    fs::path dir = mode == WhiteoutMode::overlay ? work / ("layer" + std::to_string(i)) : work / "flat";
    fs::create_directories(dir);
    top = dir;
    fs::path blob = work / ("blob" + std::to_string(i));
    layers[i].write(blob, i % 2 ? snapshot::Compression::zstd : snapshot::Compression::gzip);
    snapshot::UnpackOptions options;
    options.whiteouts = mode;
    options.expected_diff_id = layers[i].diff_id();
    options.name = "layer " + std::to_string(i);
    try {
      snapshot::apply_layer(blob, dir, options);
    } catch (const Error& e) {
      return e;
    }
  }
  return std::nullopt;
}

// The cases name the canary by its absolute path, so it is fixed per
// process (each test runs in its own process under ctest).
const fs::path& base_path() {
  static const fs::path base = "/var/tmp/skiff-hostile-" + std::to_string(::getpid());
  return base;
}

const std::vector<HostileCase>& corpus() {
  static const auto cases = hostile_cases((base_path() / "canary").string());
  return cases;
}

void expect_outcome(const Outcome& expected, const std::optional<Error>& error, const fs::path& top) {
  if (expected.refused) {
    if (!error) {
      ADD_FAILURE() << "expected a refusal mentioning '" << expected.message << "'";
      return;
    }
    EXPECT_NE(std::string(error->what()).find(expected.message), std::string::npos) << error->what();
    if (expected.names_entry) {
      EXPECT_NE(std::string(error->what()).find("entry \""), std::string::npos)
          << "the error names the entry: " << error->what();
    }
    EXPECT_TRUE(error->kind() == ErrorKind::corrupt || error->kind() == ErrorKind::unsupported) << error->what();
    return;
  }
  ASSERT_FALSE(error) << "unexpected refusal: " << error->what();
  if (expected.check) expected.check(top);
}

class HostileLayer : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: layers carry owners, devices and trusted xattrs";
    remove_tree(base_path());
    fs::create_directories(base_path());
  }
  void TearDown() override { remove_tree(base_path()); }
};

TEST_P(HostileLayer, CanaryUnchanged) {
  const HostileCase& c = corpus().at(GetParam());
  Canary canary(base_path());
  for (WhiteoutMode mode : {WhiteoutMode::overlay, WhiteoutMode::flatten}) {
    SCOPED_TRACE(mode == WhiteoutMode::overlay ? "overlay mode" : "flatten mode");
    fs::path top;
    auto error = apply(c.layers, mode, base_path() / "work" / (mode == WhiteoutMode::overlay ? "o" : "f"), top);
    auto changes = canary.changes();
    EXPECT_TRUE(changes.empty()) << "the canary changed:\n" << join(changes, "\n");
    expect_outcome(mode == WhiteoutMode::overlay ? c.overlay : c.flatten, error, top);
  }
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string name;
  bool upper = true;
  for (char ch : corpus().at(info.param).name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      upper = false;
    } else {
      upper = true;
    }
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileLayer, ::testing::Range<size_t>(0, corpus().size()), case_name);

TEST(HostileCorpus, HasAtLeastThirtyCases) { EXPECT_GE(corpus().size(), 30u); }

// The canary itself must notice what a breakout would do.
TEST(HostileCorpus, CanaryNoticesTampering) {
  if (!running_as_root()) GTEST_SKIP() << "needs root";
  TempDir base(fs::path("/var/tmp"), "skiff-canary-");
  auto touch = [](const fs::path& p) {
    struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    ::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW);
  };
  std::vector<std::pair<std::string, std::function<void(const fs::path&)>>> tamperings = {
      {"chmod", [](const fs::path& c) { ::chmod((c / "file").c_str(), 0600); }},
      {"chown", [](const fs::path& c) { ::lchown((c / "dir/inner").c_str(), 1, 1); }},
      {"utime", [&](const fs::path& c) { touch(c / "readonly"); }},
      {"xattr", [](const fs::path& c) { ::setxattr((c / "file").c_str(), "user.x", "1", 1, 0); }},
      {"new file", [](const fs::path& c) { write_file_atomic(c / "dir/deeper/new", "x", 0644, false); }},
      {"hard link", [](const fs::path& c) { ::link((c / "suid").c_str(), (c / "../linked").c_str()); }},
      {"same content, new inode",
       [](const fs::path& c) { write_file_atomic(c / "dir/inner", "inner secret\n", 0600, false); }},
  };
  for (const auto& [what, tamper] : tamperings) {
    fs::path dir = base.path() / what;
    fs::create_directories(dir);
    Canary canary(dir);
    EXPECT_TRUE(canary.changes().empty());
    tamper(canary.path());
    EXPECT_FALSE(canary.changes().empty()) << what << " went unnoticed";
  }
}

}  // namespace
}  // namespace skiff::test
