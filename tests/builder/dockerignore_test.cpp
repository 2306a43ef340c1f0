#include "builder/dockerignore.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff::builder {

namespace {

struct IgnoreCase {
  std::vector<std::string> patterns;  // .dockerignore lines, in order
  const char* path;
  bool excluded;
};

const IgnoreCase ignore_cases[] = {
    // exact names and directories
    {{"foo"}, "foo", true},
    {{"foo"}, "foo/bar", true},  // a directory pattern excludes what it holds
    {{"foo"}, "foobar", false},
    {{"foo"}, "a/foo", false},  // patterns are anchored at the context root
    {{"/foo"}, "foo", true},    // a leading / is dropped
    {{"./foo/"}, "foo/x", true},
    {{"foo//bar/../baz"}, "foo/baz", true},
    {{"  foo  "}, "foo", true},
    // * and ? never cross '/'
    {{"*.md"}, "README.md", true},
    {{"*.md"}, "docs/README.md", false},
    {{"*/*.md"}, "docs/README.md", true},
    {{"*"}, "anything", true},
    {{"*"}, "dir/below", true},  // through the parent
    {{"?.txt"}, "a.txt", true},
    {{"?.txt"}, "ab.txt", false},
    {{"temp?"}, "temp/x", false},
    {{"temp?"}, "temp1/x", true},
    // character classes and escapes
    {{"[abc].txt"}, "b.txt", true},
    {{"[abc].txt"}, "d.txt", false},
    {{"[a-c]x"}, "bx", true},
    {{"[^a-c]x"}, "dx", true},
    {{"[^a-c]x"}, "ax", false},
    {{"\\*.txt"}, "*.txt", true},
    {{"\\*.txt"}, "a.txt", false},
    {{"file.(1)"}, "file.(1)", true},  // regexp characters are literal
    {{"a+b"}, "a+b", true},
    // ** for any number of directories
    {{"**/*.go"}, "main.go", true},
    {{"**/*.go"}, "cmd/app/main.go", true},
    {{"**/*.go"}, "main.golang", false},
    {{"**/node_modules"}, "node_modules/x", true},
    {{"**/node_modules"}, "web/ui/node_modules/react/index.js", true},
    {{"**/node_modules"}, "web/my_node_modules", false},
    {{"docs/**"}, "docs/a/b/c", true},
    {{"docs/**"}, "docs", false},
    {{"docs/**/*.png"}, "docs/a.png", true},
    {{"docs/**/*.png"}, "docs/x/y/a.png", true},
    {{"docs/**/*.png"}, "src/a.png", false},
    {{"**"}, "everything/at/all", true},
    {{"a/**/b"}, "a/b", true},
    {{"a/**/b"}, "a/x/y/b", true},
    {{"a/**/b"}, "a/xb", false},
    {{"**.bak"}, "x/y.bak", true},
    // exceptions, and the last match wins
    {{"*.md", "!README.md"}, "README.md", false},
    {{"*.md", "!README.md"}, "CHANGES.md", true},
    {{"!README.md", "*.md"}, "README.md", true},
    {{"docs", "!docs/keep.txt"}, "docs/keep.txt", false},
    {{"docs", "!docs/keep.txt"}, "docs/other.txt", true},
    {{"docs", "!docs/keep.txt"}, "docs", true},
    {{"**/*.log", "!important/**", "important/debug.log"}, "important/debug.log", true},
    {{"**/*.log", "!important/**", "important/debug.log"}, "important/app.log", false},
    {{"*", "!src", "src/*.tmp"}, "src/main.c", false},
    {{"*", "!src", "src/*.tmp"}, "src/x.tmp", true},
    {{"*", "!src"}, "other", true},
    {{"! keep"}, "keep", false},
    // the context root is never excluded
    {{"*"}, ".", false},
    {{"."}, "x", false},
};

TEST(DockerIgnore, Table) {
  for (const auto& c : ignore_cases) {
    std::string patterns;
    for (const auto& p : c.patterns) patterns += p + "\n";
    SCOPED_TRACE(patterns + "path: " + c.path);
    IgnoreMatcher matcher = IgnoreMatcher::parse(patterns);
    EXPECT_EQ(matcher.excluded(c.path), c.excluded);
  }
}

TEST(DockerIgnore, ReadsTheFileAsDockerDoes) {
  auto patterns = read_ignore_file(
      "\xEF\xBB\xBF# comment\n"
      "   # not a comment: it does not start the line\n"
      "\n"
      "  /abs/path/  \r\n"
      "! ./keep/../kept \n"
      "a//b/./c\n"
      "/\n");
  EXPECT_EQ(patterns, (std::vector<std::string>{"# not a comment: it does not start the line", "abs/path", "!kept",
                                                "a/b/c", "/"}));
}

TEST(DockerIgnore, BadPatterns) {
  EXPECT_THROW(IgnoreMatcher::parse("[abc"), Error);
  EXPECT_THROW(IgnoreMatcher::parse("a\\"), Error);
  EXPECT_THROW(IgnoreMatcher::parse("[]a]"), Error);
  EXPECT_THROW(IgnoreMatcher::parse("!"), Error);
  try {
    IgnoreMatcher::parse("ok\n[z-");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_STREQ(e.what(), "invalid pattern \"[z-\": syntax error in pattern");
  }
}

TEST(DockerIgnore, ExceptionsBelowExcludedDirectories) {
  IgnoreMatcher m = IgnoreMatcher::parse("build\n!build/keep/**\nvendor\n");
  EXPECT_TRUE(m.has_exceptions());
  EXPECT_TRUE(m.may_include_below("build"));
  EXPECT_TRUE(m.may_include_below("build/keep"));
  EXPECT_FALSE(m.may_include_below("build/other"));
  EXPECT_FALSE(m.may_include_below("vendor"));
  IgnoreMatcher wildcard = IgnoreMatcher::parse("*\n!**/*.c\n");
  EXPECT_TRUE(wildcard.may_include_below("anything/deep"));
  EXPECT_FALSE(IgnoreMatcher::parse("x\n").may_include_below("x"));
}

TEST(DockerIgnore, CleanPath) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("a//b/./c/.."), "a/b");
  EXPECT_EQ(clean_path("/../a"), "/a");
  EXPECT_EQ(clean_path("../a"), "../a");
  EXPECT_EQ(clean_path("a/../.."), "..");
  EXPECT_EQ(clean_path("/"), "/");
  EXPECT_EQ(clean_path("./"), ".");
}

TEST(DockerIgnore, GlobMatch) {
  EXPECT_TRUE(glob_match("*.c", "main.c"));
  EXPECT_FALSE(glob_match("*.c", "src/main.c"));
  EXPECT_TRUE(glob_match("ma?n.[ch]", "main.h"));
  EXPECT_TRUE(glob_match("[^x]", "y"));
  EXPECT_TRUE(glob_match("\\[x\\]", "[x]"));
  EXPECT_TRUE(glob_match("**", "abc"));  // two stars are one star in Go's Match
  EXPECT_FALSE(glob_match("**", "a/b"));
  EXPECT_TRUE(glob_match("[é]", "é"));
  EXPECT_THROW(glob_match("[", "x"), Error);
  EXPECT_TRUE(has_wildcards("a*"));
  EXPECT_FALSE(has_wildcards("plain/path.txt"));
}

}  // namespace

}  // namespace skiff::builder
