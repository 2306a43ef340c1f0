// .dockerignore: which files of the build context COPY and ADD never see.
// The rules are docker's (moby/patternmatcher): Go filepath.Match patterns
// (*, ?, [a-z], [^a], \ escapes) plus "**" for any number of directories;
// a pattern matching a directory excludes everything below it; "!pattern"
// re-includes; the last matching line wins; comments (#) and blank lines
// are skipped; patterns are cleaned ("./a//b/" is "a/b", a leading "/" is
// dropped).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skiff::builder {

// Go's path.Clean for '/'-separated paths: "a//b/./c/.." -> "a/b", "" -> ".".
std::string clean_path(std::string_view path);

// Go's path.Match: `name` matches `pattern` as a whole, '*' and '?' never
// match '/'. Throws Error(invalid_argument) for a malformed pattern
// (unclosed '[', trailing '\').
bool glob_match(std::string_view pattern, std::string_view name);

// True if the pattern has any of Go's wildcard characters (* ? [ \).
bool has_wildcards(std::string_view pattern);

// The lines of a .dockerignore as docker reads them (ignorefile.ReadAll):
// comments and blanks dropped, each pattern trimmed and cleaned, exceptions
// keeping their '!'.
std::vector<std::string> read_ignore_file(std::string_view text);

class IgnoreMatcher {
 public:
  IgnoreMatcher() = default;
  // Throws invalid_argument for a malformed pattern or a lone "!".
  explicit IgnoreMatcher(const std::vector<std::string>& patterns);
  static IgnoreMatcher parse(std::string_view dockerignore_text) { return IgnoreMatcher(read_ignore_file(dockerignore_text)); }

  // `path` is relative to the context root, '/'-separated ("src/a.c").
  // A path is excluded when it or one of its parent directories matches a
  // pattern, and no later exception matches it (or its parents).
  bool excluded(std::string_view path) const;

  // Whether an exception could re-include something below the excluded
  // directory `dir`, so a walk must still descend into it.
  bool may_include_below(std::string_view dir) const;

  bool empty() const { return patterns_.empty(); }
  bool has_exceptions() const { return has_exceptions_; }

  struct Pattern {
    enum class Kind { exact, prefix, suffix, glob };
    std::string text;  // cleaned, without '!'
    bool exception = false;
    Kind kind = Kind::exact;
    struct Token {
      enum class Type { literal, star, question, any_dirs, any_rest, char_class } type;
      std::string text;  // literal characters, or the class body
      bool negated = false;
    };
    std::vector<Token> tokens;
    bool matches(std::string_view path) const;
  };
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

}  // namespace skiff::builder
