// The image definition format: what it accepts, and that every mistake is
// reported as FILE:LINE with what to do.
#include "base/definition.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/base.h"
#include "core/error.h"
#include "core/fs.h"
#include "support/skiff_cli.h"

namespace skiff::base {
namespace {

class DefinitionTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    auto path = dir_.path() / name;
    std::ofstream(path) << text;
    return path;
  }
  // The error message of loading `text`, or "" if it loads.
  std::string error_of(const std::string& text, const std::string& release = "bookworm") {
    auto path = write("test.slices", text);
    try {
      load_definition(path, release);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument) << e.what();
      return e.what();
    }
    return "";
  }
  TempDir dir_{std::filesystem::path("/var/tmp"), "skiff-base-def-"};
};

TEST_F(DefinitionTest, ParsesPackagesPathsAndDirectives) {
  write("common.inc", "package libc6\n    /lib/x86_64-linux-gnu/libc.so.6\n    /usr/lib/**\n    !/usr/lib/gconv/**\n");
  write("motd", "hello\n");
  auto path = write("test.slices",
                    "# comment\n"
                    "image nano   # trailing comment\n"
                    "variant noshell\n"
                    "description A small image\n"
                    "include common.inc\n"
                    "release bookworm\n"
                    "package libssl3\n"
                    "\t/usr/lib/*/libssl.so.3\n"
                    "release trixie\n"
                    "package libssl3t64\n"
                    "    /usr/lib/*/libssl.so.3\n"
                    "release *\n"
                    "dir /tmp 1777\n"
                    "dir /home/u 0750 1000:1000\n"
                    "symlink /etc/localtime /usr/share/zoneinfo/Etc/UTC\n"
                    "file /etc/motd 0644 motd\n"
                    "user root 0 0 /root /bin/sh root user\n"
                    "group root 0\n"
                    "applets /usr/bin/busybox sh ls\n"
                    "generate ca-bundle\n"
                    "remove /usr/share/doc/**\n"
                    "config user containeruser\n"
                    "config env PATH=/usr/bin:/bin\n"
                    "config env PATH=/bin\n"
                    "config cmd [\"/bin/sh\", \"-c\", \"echo hi\"]\n"
                    "config entrypoint /bin/tini --\n"
                    "config label a.b=c d\n");
  auto d = load_definition(path, "bookworm");
  EXPECT_EQ(d.image, "nano");
  EXPECT_EQ(d.variant, "noshell");
  EXPECT_EQ(d.description, "A small image");
  ASSERT_EQ(d.packages.size(), 2u);
  EXPECT_EQ(d.packages[0].name, "libc6");
  ASSERT_EQ(d.packages[0].rules.size(), 3u);
  EXPECT_TRUE(d.packages[0].rules[2].exclude);
  EXPECT_EQ(d.packages[0].rules[2].where.line, 4);
  EXPECT_EQ(d.packages[1].name, "libssl3");
  ASSERT_EQ(d.directories.size(), 2u);
  EXPECT_EQ(d.directories[0].mode, 01777u);
  EXPECT_EQ(d.directories[1].uid, 1000u);
  EXPECT_EQ(d.files.at(0).source, dir_.path() / "motd");
  EXPECT_EQ(d.users.at(0).gecos, "root user");
  EXPECT_EQ(d.applets.at(0).names, (std::vector<std::string>{"sh", "ls"}));
  EXPECT_EQ(d.generators, (std::vector<std::string>{"ca-bundle"}));
  EXPECT_EQ(d.config.env, (std::vector<std::string>{"PATH=/bin"}));
  EXPECT_EQ(d.config.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(d.config.entrypoint, (std::vector<std::string>{"/bin/tini", "--"}));
  EXPECT_EQ(d.config.labels.at("a.b"), "c d");

  auto trixie = load_definition(path, "trixie");
  ASSERT_EQ(trixie.packages.size(), 2u);
  EXPECT_EQ(trixie.packages[1].name, "libssl3t64");
}

TEST_F(DefinitionTest, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    int line;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"image nano\nfrobnicate x\n", 2, "unknown directive \"frobnicate\""},
      {"image nano\n    /usr/lib/libc.so.6\n", 2, "outside a package block"},
      {"image nano\npackage libc6\n    usr/lib/libc.so.6\n", 3, "must be absolute"},
      {"image nano\npackage libc6\n    /usr/../etc/passwd\n", 3, "\"..\""},
      {"image nano\npackage libc6\n    /usr/lib/a**b\n", 3, "whole path component"},
      {"image nano\npackage libc6\n    /usr/lib/a b\n", 3, "one path per line"},
      {"image nano\npackage Bad_Name\n", 2, "package \"Bad_Name\""},
      {"image nano\npackage a b\n", 2, "expected \"package NAME\""},
      {"image nano\npackage libc6\n    /x\ndir /tmp 999\n", 4, "mode \"999\""},
      {"image nano\npackage libc6\n    /x\ndir /home/u 0750 1000\n", 4, "expected UID:GID"},
      {"image nano\npackage libc6\n    /x\nuser u 1000 notanumber /home/u /bin/sh\n", 4, "gid \"notanumber\""},
      {"image nano\npackage libc6\n    /x\ngenerate nonsense\n", 4, "unknown generator"},
      {"image nano\npackage libc6\n    /x\nconfig color blue\n", 4, "config \"color\""},
      {"image nano\npackage libc6\n    /x\nconfig cmd [\"/bin/sh\", 1]\n", 4, "JSON array of strings"},
      {"image nano\npackage libc6\n    /x\nconfig env =x\n", 4, "KEY=VALUE"},
      {"image nano\npackage libc6\n    /x\ninclude missing.inc\n", 4, "cannot read included file"},
      {"image nano\npackage libc6\n    /x\nremove /\n", 4, "refusing"},
      {"image nano\npackage libc6\n    /x\nsymlink /etc/*.conf /x\n", 4, "globs are only allowed"},
      {"image nano\npackage libc6\n    /x\nbootstrap tiny\n", 4, "not an mmdebstrap variant"},
      {"image nano\npackage libc6\n    /x\nuser u 1000 1000 /home/u /bin/sh\n", 4, "has no \"group\" line"},
      {"image nano\nbootstrap minbase\npackage libc6\n    /x\n", 3, "exclude each other"},
      {"image nano\npackage libc6\n    !/x\n", 2, "only \"!\" rules"},
  };
  for (const auto& c : cases) {
    std::string message = error_of(c.text);
    std::string where = (dir_.path() / "test.slices").string() + ":" + std::to_string(c.line) + ": ";
    EXPECT_TRUE(message.starts_with(where)) << "input:\n" << c.text << "error: " << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << "input:\n" << c.text << "error: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(DefinitionTest, WholeFileMistakes) {
  EXPECT_NE(error_of("package libc6\n    /x\n").find("no \"image NAME\" line"), std::string::npos);
  EXPECT_NE(error_of("image nano\n").find("would be empty"), std::string::npos);
}

TEST_F(DefinitionTest, IncludeCycleIsAnError) {
  write("a.inc", "include b.inc\n");
  write("b.inc", "include a.inc\n");
  std::string message = error_of("image nano\ninclude a.inc\n");
  EXPECT_NE(message.find("include cycle"), std::string::npos) << message;
  EXPECT_NE(message.find("b.inc:1: "), std::string::npos) << message;
}

TEST_F(DefinitionTest, ErrorsInIncludedFilesNameThatFile) {
  write("bad.inc", "\n\npackage libc6\n    relative/path\n");
  std::string message = error_of("image nano\ninclude bad.inc\n");
  EXPECT_TRUE(message.starts_with((dir_.path() / "bad.inc").string() + ":4: ")) << message;
}

TEST_F(DefinitionTest, InactiveReleaseSectionsAreStillChecked) {
  std::string message = error_of("image nano\npackage libc6\n    /x\nrelease trixie\ndir /tmp 99999\n");
  EXPECT_NE(message.find(":5: "), std::string::npos) << message;
}

TEST_F(DefinitionTest, ShippedDefinitionsLoadForEveryRelease) {
  std::filesystem::path dir = SKIFF_TEST_IMAGES_DIR;
  auto names = flavours(dir);
  EXPECT_EQ(names, (std::vector<std::string>{"core", "nano", "nano-noshell"}));
  for (const auto& name : names)
    for (const char* release : {"bookworm", "trixie"}) {
      auto d = load_definition(dir / (name + ".slices"), release);
      EXPECT_FALSE(d.image.empty()) << name;
    }
  auto nano = load_definition(dir / "nano.slices", "bookworm");
  EXPECT_EQ(nano.config.user, "containeruser");
  EXPECT_NE(nano.find_package("libssl3"), nullptr);
  EXPECT_NE(nano.find_package("busybox"), nullptr);
  auto noshell = load_definition(dir / "nano-noshell.slices", "bookworm");
  EXPECT_EQ(noshell.find_package("busybox"), nullptr);
  EXPECT_EQ(noshell.find_package("busybox-static"), nullptr);
  EXPECT_TRUE(noshell.applets.empty());
  EXPECT_NE(load_definition(dir / "nano.slices", "trixie").find_package("libssl3t64"), nullptr);
}

}  // namespace
}  // namespace skiff::base
