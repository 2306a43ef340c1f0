#include "builder/context.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/subprocess.h"

namespace skiff::builder {

namespace {

HashOptions owners() {
  HashOptions options;
  options.ownership = true;
  return options;
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write("Dockerfile", "FROM scratch\nCOPY . /\n");
    write("src/main.c", "int main() { return 0; }\n");
    write("src/util.c", "void util() {}\n");
    write("src/util.h", "void util();\n");
    write("docs/guide.md", "# guide\n");
    write("docs/images/logo.png", "PNG");
    write("build/out.o", "object");
    write("build/keep/me.txt", "kept");
    write("notes.tmp", "scratch");
    ::symlink("src/main.c", (root() / "main-link").c_str());
    ::symlink("/etc", (root() / "etc-link").c_str());
  }

  const fs::path& root() const { return dir_.path(); }

  void write(const std::string& relative, const std::string& content, mode_t mode = 0644) {
    fs::path path = root() / relative;
    ensure_dir(path.parent_path());
    write_file_atomic(path, content, mode, false);
  }

  std::vector<std::string> paths(const std::vector<TreeEntry>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.path);
    return out;
  }

  TempDir dir_{"/var/tmp", "skiff-builder-context-"};
};

TEST_F(ContextTest, WalksSortedWithoutFollowingSymlinks) {
  SourceTree tree(root());
  auto entries = tree.walk();
  EXPECT_EQ(paths(entries), (std::vector<std::string>{"Dockerfile", "build", "build/keep", "build/keep/me.txt",
                                                      "build/out.o", "docs", "docs/guide.md", "docs/images",
                                                      "docs/images/logo.png", "etc-link", "main-link", "notes.tmp",
                                                      "src", "src/main.c", "src/util.c", "src/util.h"}));
  auto link = std::find_if(entries.begin(), entries.end(), [](const TreeEntry& e) { return e.path == "etc-link"; });
  EXPECT_EQ(link->type, TreeEntry::Type::symlink);
  EXPECT_EQ(link->link_target, "/etc");
  EXPECT_EQ(paths(tree.walk("docs")), (std::vector<std::string>{"docs/guide.md", "docs/images", "docs/images/logo.png"}));
}

TEST_F(ContextTest, DockerignoreHidesFilesButExceptionsComeBack) {
  write(".dockerignore", "build\n!build/keep\n*.tmp\ndocs/**/*.png\nDockerfile\n.dockerignore\n");
  SourceTree tree = SourceTree::context(root());
  EXPECT_EQ(paths(tree.walk()),
            (std::vector<std::string>{"build", "build/keep", "build/keep/me.txt", "docs", "docs/guide.md", "docs/images",
                                      "etc-link", "main-link", "src", "src/main.c", "src/util.c", "src/util.h"}));
  // The Dockerfile and .dockerignore are still sent, though COPY never sees them.
  auto sent = paths(tree.files_to_send(root() / "Dockerfile"));
  EXPECT_NE(std::find(sent.begin(), sent.end(), "Dockerfile"), sent.end());
  EXPECT_NE(std::find(sent.begin(), sent.end(), ".dockerignore"), sent.end());
  EXPECT_EQ(std::find(sent.begin(), sent.end(), "notes.tmp"), sent.end());
  EXPECT_THROW(tree.match("Dockerfile"), Error);
  EXPECT_FALSE(tree.stat("build/out.o"));
  EXPECT_TRUE(tree.stat("build/keep/me.txt"));
}

TEST_F(ContextTest, DockerfileSpecificIgnoreFileWins) {
  write(".dockerignore", "src\n");
  write("app.Dockerfile", "FROM scratch\n");
  write("app.Dockerfile.dockerignore", "docs\n");
  SourceTree tree = SourceTree::context(root(), "app.Dockerfile");
  EXPECT_FALSE(tree.excluded("src/main.c"));
  EXPECT_TRUE(tree.excluded("docs/guide.md"));
  write(".dockerignore", "[bad\n");
  try {
    SourceTree::context(root());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(".dockerignore: invalid pattern \"[bad\""), std::string::npos) << e.what();
  }
}

TEST_F(ContextTest, MatchesCopySources) {
  write(".dockerignore", "src/util.h\n");
  SourceTree tree = SourceTree::context(root());
  EXPECT_EQ(tree.match("src/*.[ch]"), (std::vector<std::string>{"src/main.c", "src/util.c"}));
  EXPECT_EQ(tree.match("/src/../src/main.c"), std::vector<std::string>{"src/main.c"});
  EXPECT_EQ(tree.match("*/*.md"), std::vector<std::string>{"docs/guide.md"});
  EXPECT_EQ(tree.match("."), std::vector<std::string>{""});
  EXPECT_EQ(tree.match("main-link"), std::vector<std::string>{"main-link"});
  // ".." cannot leave the context
  try {
    tree.match("../../../../etc/passwd");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_STREQ(e.what(), "\"/etc/passwd\": not found");
  }
  try {
    tree.match("src/util.h");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "\"/src/util.h\": not found (excluded by .dockerignore)");
  }
  EXPECT_THROW(tree.match("src/*.rs"), Error);
  // an absolute symlink resolves inside the tree, not on the host
  EXPECT_EQ(tree.resolve("etc-link/passwd"), "etc/passwd");
  EXPECT_EQ(tree.resolve("main-link"), "src/main.c");
  EXPECT_THROW(tree.match("etc-link/passwd"), Error);
}

TEST_F(ContextTest, ContentHashIsStableAndIgnoresTimestamps) {
  SourceTree tree(root());
  Digest first = tree.content_hash({"src"});
  EXPECT_EQ(tree.content_hash({"src"}), first);
  struct timeval times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimes((root() / "src/main.c").c_str(), times), 0);
  ASSERT_EQ(::utimes((root() / "src").c_str(), times), 0);
  EXPECT_EQ(SourceTree(root()).content_hash({"src"}), first);
}

TEST_F(ContextTest, ContentHashSeesContentModeNamesAndLinks) {
  SourceTree tree(root());
  Digest base = tree.content_hash({"src", "docs/guide.md"});

  write("src/main.c", "int main() { return 1; }\n");
  Digest changed = tree.content_hash({"src", "docs/guide.md"});
  EXPECT_NE(changed, base);

  ::chmod((root() / "src/util.c").c_str(), 0755);
  Digest mode = tree.content_hash({"src", "docs/guide.md"});
  EXPECT_NE(mode, changed);

  ::rename((root() / "src/util.h").c_str(), (root() / "src/other.h").c_str());
  Digest renamed = tree.content_hash({"src", "docs/guide.md"});
  EXPECT_NE(renamed, mode);

  ::symlink("main.c", (root() / "src/alias").c_str());
  Digest linked = tree.content_hash({"src", "docs/guide.md"});
  EXPECT_NE(linked, renamed);
  ::unlink((root() / "src/alias").c_str());
  ::symlink("util.c", (root() / "src/alias").c_str());
  EXPECT_NE(tree.content_hash({"src", "docs/guide.md"}), linked);

  // the order of the sources is part of what COPY does
  EXPECT_NE(tree.content_hash({"docs/guide.md", "src"}), tree.content_hash({"src", "docs/guide.md"}));
}

TEST_F(ContextTest, ContentHashNamesFilesByBaseNameAndFollowsATopLevelLink) {
  SourceTree tree(root());
  write("copy/main.c", "int main() { return 0; }\n");
  // same name and content in another directory: the copy creates the same thing
  EXPECT_EQ(tree.content_hash({"src/main.c"}), tree.content_hash({"copy/main.c"}));
  EXPECT_NE(tree.content_hash({"src/main.c"}), tree.content_hash({"src/util.c"}));
  Digest link = tree.content_hash({"main-link"});
  write("src/main.c", "changed\n");
  EXPECT_NE(tree.content_hash({"main-link"}), link);
}

TEST_F(ContextTest, ContentHashLeavesOutIgnoredFiles) {
  write(".dockerignore", "src/*.h\n");
  SourceTree tree = SourceTree::context(root());
  Digest before = tree.content_hash({"src"});
  write("src/util.h", "changed but ignored\n");
  EXPECT_EQ(tree.content_hash({"src"}), before);
  write("src/util.c", "changed\n");
  EXPECT_NE(tree.content_hash({"src"}), before);
}

TEST_F(ContextTest, OwnershipCountsOnlyWhenAsked) {
  SourceTree tree(root());
  Digest plain = tree.content_hash({"src"});
  Digest owned = tree.content_hash({"src"}, owners());
  ASSERT_EQ(::lchown((root() / "src/main.c").c_str(), 1234, 1234), 0);
  EXPECT_EQ(tree.content_hash({"src"}), plain);
  EXPECT_NE(tree.content_hash({"src"}, owners()), owned);
}

TEST_F(ContextTest, RecognisesArchivesByContent) {
  if (!find_program("tar") || !find_program("gzip")) GTEST_SKIP() << "tar and gzip are needed to make test archives";
  CommandOptions in_root;
  in_root.directory = root();
  check_output({"tar", "-cf", "plain.tar", "src"}, in_root);
  check_output({"tar", "-czf", "named.txt", "src"}, in_root);  // the name does not matter
  check_output({"sh", "-c", "gzip -c docs/guide.md > guide.md.gz"}, in_root);
  SourceTree tree(root());
  EXPECT_TRUE(tree.is_archive("plain.tar"));
  EXPECT_TRUE(tree.is_archive("named.txt"));
  EXPECT_FALSE(tree.is_archive("guide.md.gz"));  // compressed, but not a tar
  EXPECT_FALSE(tree.is_archive("src/main.c"));
  EXPECT_FALSE(tree.is_archive("src"));
  EXPECT_FALSE(tree.is_archive("missing.tar"));
}

}  // namespace

}  // namespace skiff::builder
