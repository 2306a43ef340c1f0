#include "builder/expand.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff::builder {

namespace {

Variables test_variables() {
  Variables vars;
  vars.set("PWD", "/home");
  vars.set("SHELL", "bash");
  vars.set("NULL", "");
  vars.set("KOREAN", "한국어");
  vars.set("SPACE", "abc  def");
  vars.set("LEADING", "  ab c");
  vars.set("PATHNAME", "/usr/local/lib/libfoo.so.1");
  vars.set("FILE", "archive.tar.gz");
  return vars;
}

struct WordCase {
  const char* input;
  const char* expected;  // nullptr: an error
};

// One word, as ENV values, WORKDIR, COPY paths are expanded.
const WordCase word_cases[] = {
    {"hello", "hello"},
    {"he'll'o", "hello"},
    {"he'llo", nullptr},
    {"he\\'llo", "he'llo"},
    {"he\\\\'llo", nullptr},
    {"abc\\tdef", "abctdef"},
    {"\"abc\\tdef\"", "abc\\tdef"},
    {"\"abc\\\\tdef\"", "abc\\tdef"},
    {"'abc\\tdef'", "abc\\tdef"},
    {"hello\\", "hello"},
    {"hello\\\\", "hello\\"},
    {"\"hello", nullptr},
    {"\"hello\\\"", nullptr},
    {"\"hel'lo\"", "hel'lo"},
    {"'hello", nullptr},
    {"'hello\\'", "hello\\"},
    {"\"''\"", "''"},
    {"$.", "$."},
    {"he$1x", "hex"},
    {"he$.x", "he$.x"},
    {"he$pwd.", "he."},  // names are case-sensitive
    {"he$PWD", "he/home"},
    {"he\\$PWD", "he$PWD"},
    {"he\\\\$PWD", "he\\/home"},
    {"\"he\\$PWD\"", "he$PWD"},
    {"\"he\\\\$PWD\"", "he\\/home"},
    {"\\${}", "${}"},
    {"he\\${}xx", "he${}xx"},
    {"${}", nullptr},
    {"he${}xx", nullptr},
    {"he${hi}xx", "hexx"},
    {"he${PWD}", "he/home"},
    {"he${.}", nullptr},
    {"he${XXX:-000}xx", "he000xx"},
    {"he${PWD:-000}xx", "he/homexx"},
    {"he${XXX:-$PWD}xx", "he/homexx"},
    {"he${XXX:-${PWD:-yyy}}xx", "he/homexx"},
    {"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
    {"he${XXX:YYY}", nullptr},
    {"he${XXX?}", nullptr},
    {"he${XXX:?}", nullptr},
    {"he${PWD?}", "he/home"},
    {"he${PWD:?}", "he/home"},
    {"he${NULL?}", "he"},
    {"he${NULL:?}", nullptr},
    {"he${XXX:+${PWD}}xx", "hexx"},
    {"he${PWD:+${XXX}}xx", "hexx"},
    {"he${PWD:+${SHELL}}xx", "hebashxx"},
    {"he${XXX:+000}xx", "hexx"},
    {"he${PWD:+000}xx", "he000xx"},
    // without ':' only unset counts, an empty value is a value
    {"${NULL-default}", ""},
    {"${NULL:-default}", "default"},
    {"${NULL+set}", "set"},
    {"${NULL:+set}", ""},
    {"${XXX-default}", "default"},
    {"${XXX+set}", ""},
    {"'he${XX}'", "he${XX}"},
    {"\"he${PWD}\"", "he/home"},
    {"\"he'$PWD'\"", "he'/home'"},
    {"\"$PWD\"", "/home"},
    {"'$PWD'", "$PWD"},
    {"'\\$PWD'", "\\$PWD"},
    {"'\"hello\"'", "\"hello\""},
    {"he${PWD", nullptr},
    {"he${PWD:=000}xx", nullptr},
    {"he${PWD:+${PWD}:}xx", "he/home:xx"},
    {"he${XXX:-\\$PWD:}xx", "he$PWD:xx"},
    {"he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"},
    {"안녕$KOREAN", "안녕한국어"},
    {"안'녕'하세요", "안녕하세요"},
    {"${{aaa}", nullptr},
    {"${aaa}}", "}"},
    {"${aaa", nullptr},
    {"${aaa:-bbb}}", "bbb}"},
    {"${aaa:-bbb", nullptr},
    {"${aaa:-${bbb:-ccc}}", "ccc"},
    {"${aaa:-bbb ${foo}", nullptr},
    {"${aaa:-bbb {foo}", "bbb {foo"},
    {"${:}", nullptr},
    {"${:-bbb}", nullptr},
    {"$1", ""},
    {"${1:-bbb}", "bbb"},
    {"a$", "a$"},
    {"${PWD:", nullptr},
    // BuildKit's pattern forms
    {"${PATHNAME#*/}", "usr/local/lib/libfoo.so.1"},
    {"${PATHNAME##*/}", "libfoo.so.1"},
    {"${PATHNAME%/*}", "/usr/local/lib"},
    {"${PATHNAME%%/lib*}", "/usr/local"},
    {"${FILE%.*}", "archive.tar"},
    {"${FILE%%.*}", "archive"},
    {"${FILE#*.}", "tar.gz"},
    {"${FILE##*.}", "gz"},
    {"${FILE#nomatch}", "archive.tar.gz"},
    {"${FILE#a?c}", "hive.tar.gz"},
    {"${FILE%\\*}", "archive.tar.gz"},
    {"${FILE/tar/zip}", "archive.zip.gz"},
    {"${FILE//a/A}", "Archive.tAr.gz"},
    {"${FILE/a/A}", "Archive.tar.gz"},
    {"${FILE/.*/}", "archive"},
    {"${FILE/x/y}", "archive.tar.gz"},
    {"${PATHNAME//\\//:}", ":usr:local:lib:libfoo.so.1"},
    {"${XXX#foo}", ""},
    {"${FILE:#a}", nullptr},
    {"${FILE/a", nullptr},
    {"${FILE#\\q}", nullptr},
    {"${KOREAN#한}", "국어"},
    {"${KOREAN%?}", "한국"},
};

TEST(Expand, WordTable) {
  Variables vars = test_variables();
  for (const auto& c : word_cases) {
    SCOPED_TRACE(c.input);
    if (c.expected) {
      EXPECT_EQ(expand_word(c.input, vars), c.expected);
    } else {
      EXPECT_THROW(expand_word(c.input, vars), Error);
    }
  }
}

struct WordsCase {
  const char* input;
  std::vector<std::string> expected;
};

// Word splitting after expansion (EXPOSE, heredoc delimiters): unquoted
// variable values split on blanks, quoted ones do not.
const WordsCase words_cases[] = {
    {"hello", {"hello"}},
    {"hello${hi}bye", {"hellobye"}},
    {"hello${SPACE}bye", {"helloabc", "defbye"}},
    {"hello\"${SPACE}\"bye", {"helloabc  defbye"}},
    {"hello \"${SPACE}\"bye", {"hello", "abc  defbye"}},
    {"hello${LEADING}def", {"hello", "ab", "cdef"}},
    {"hello\"${LEADING}\" def", {"hello  ab c", "def"}},
    {"hello\" there  \"", {"hello there  "}},
    {"hello there     ", {"hello", "there"}},
    {"hello\\ there", {"hello there"}},
    {"hello\\\" there", {"hello\"", "there"}},
    {"hello\"\\\\there\"", {"hello\\there"}},
    {"hello'\\\\there'", {"hello\\\\there"}},
    {"hello'$there'", {"hello$there"}},
    {"\"\"", {}},
    {"a  \t b", {"a", "b"}},
    {"${XXX:-one two}", {"one", "two"}},
    {"<<  EOF", {"<<  EOF"}},
};

TEST(Expand, WordsTable) {
  Variables vars = test_variables();
  for (const auto& c : words_cases) {
    SCOPED_TRACE(c.input);
    EXPECT_EQ(expand_words(c.input, vars), c.expected);
  }
  EXPECT_THROW(expand_words("hello\" there", vars), Error);
}

TEST(Expand, BacktickEscape) {
  Variables vars = test_variables();
  LexOptions backtick{'`'};
  EXPECT_EQ(expand_word("he`$PWD", vars, backtick), "he$PWD");
  EXPECT_EQ(expand_word("C:\\path\\$SHELL", vars, backtick), "C:\\path\\bash");
  EXPECT_EQ(expand_word("\"a`\"b\"", vars, backtick), "a\"b");
  EXPECT_EQ(expand_word("a``b", vars, backtick), "a`b");
}

TEST(Expand, ErrorsNameTheTextAndTheProblem) {
  Variables vars = test_variables();
  try {
    expand_word("${NOPE:?set NOPE to the release}", vars);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_STREQ(e.what(), "failed to process \"${NOPE:?set NOPE to the release}\": NOPE: set NOPE to the release");
  }
  try {
    expand_word("${NULL:?}", vars);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NULL: is not allowed to be empty"), std::string::npos);
  }
  try {
    expand_word("a${B", vars);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing '}'"), std::string::npos) << e.what();
  }
}

TEST(Expand, RecordsMatchedAndUnmatchedNames) {
  Variables vars = test_variables();
  Expansion e = expand("$PWD ${NOPE:-x} ${SHELL:+y} '$QUOTED'", vars);
  EXPECT_EQ(e.matched, (std::set<std::string>{"PWD", "SHELL"}));
  EXPECT_EQ(e.unmatched, (std::set<std::string>{"NOPE"}));
}

TEST(Expand, SkipUnsetAndRawModes) {
  Variables vars = test_variables();
  LexOptions keep;
  keep.skip_unset = true;
  EXPECT_EQ(expand_word("$PWD $NOPE ${NOPE} ${NOPE:-x}", vars, keep), "/home $NOPE ${NOPE} ${NOPE:-x}");
  LexOptions raw;
  raw.raw_quotes = true;
  EXPECT_EQ(expand_word("'a b' \"$SHELL\"", vars, raw), "'a b' \"bash\"");
  LexOptions body;  // heredoc bodies: quotes are plain text
  body.skip_quotes = true;
  EXPECT_EQ(expand_word("echo \"$SHELL\" 'x'", vars, body), "echo \"bash\" 'x'");
}

TEST(Expand, VariablesKeepOrderAndReplaceInPlace) {
  Variables vars = Variables::from_env({"A=1", "B=2=3", "C"});
  EXPECT_EQ(*vars.get("B"), "2=3");
  EXPECT_EQ(*vars.get("C"), "");
  vars.set("A", "9");
  vars.set("D", "4");
  EXPECT_EQ(vars.to_env(), (std::vector<std::string>{"A=9", "B=2=3", "C=", "D=4"}));
  vars.erase("B");
  EXPECT_FALSE(vars.contains("B"));
}

TEST(Expand, ManyStarsOnALongValue) {
  Variables vars;
  vars.set("LONG", std::string(300, 'a'));
  EXPECT_EQ(expand_word("${LONG##*a*a*a*a*a*a*a*b}", vars), std::string(300, 'a'));
  EXPECT_EQ(expand_word("${LONG%%a*a*a*a*a*a*a}", vars), "");
}

TEST(Expand, ShellPatterns) {
  EXPECT_TRUE(shell_pattern_match("*.c", "dir/a.c"));  // '*' crosses '/' here, unlike globs
  EXPECT_TRUE(shell_pattern_match("a?c", "abc"));
  EXPECT_FALSE(shell_pattern_match("a?c", "ac"));
  EXPECT_TRUE(shell_pattern_match("a\\*", "a*"));
  EXPECT_FALSE(shell_pattern_match("a\\*", "ab"));
  EXPECT_THROW(shell_pattern_match("a\\b", "ab"), Error);
}

}  // namespace

}  // namespace skiff::builder
