// Variable substitution and shell-word processing for Dockerfile
// instructions, as the Dockerfile reference defines it and as BuildKit's
// shell lexer implements it: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word},
// ${VAR:+word}, ${VAR+word}, ${VAR:?msg}, ${VAR?msg}, ${VAR#pat},
// ${VAR##pat}, ${VAR%pat}, ${VAR%%pat}, ${VAR/pat/repl}, ${VAR//pat/repl};
// the escape character (\ or the `# escape=` one); single quotes (literal)
// and double quotes (only $, the quote and the escape are special).
//
// Nothing here runs a shell: RUN, CMD and ENTRYPOINT are not expanded by the
// builder, the shell in the container does that.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::builder {

// An ordered list of variables (ENV and ARG values as a step sees them).
// Setting an existing name replaces its value in place, as an image's Env
// list does; names are case-sensitive (Linux).
class Variables {
 public:
  Variables() = default;
  // From "K=V" strings (an image config's Env); an entry without '=' is a
  // variable with an empty value.
  static Variables from_env(const std::vector<std::string>& env);

  void set(std::string_view name, std::string value);
  void erase(std::string_view name);
  const std::string* get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name) != nullptr; }

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  std::vector<std::string> to_env() const;  // "K=V", in order
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct LexOptions {
  char escape = '\\';
  bool raw_quotes = false;   // keep the quote characters in the result
  bool raw_escapes = false;  // keep escape characters in the result
  bool skip_unset = false;   // leave references to unset variables as written
  bool skip_quotes = false;  // quotes are ordinary characters (heredoc bodies)
};

struct Expansion {
  std::string word;                 // the whole text expanded, inner spaces kept
  std::vector<std::string> words;   // the text split into shell words
  std::set<std::string> matched;    // referenced variables that were set
  std::set<std::string> unmatched;  // referenced variables that were not set
};

// Expands `text` against `vars`. Throws Error(invalid_argument) for a syntax
// error ("failed to process \"${A\": syntax error: missing '}'") or a
// ${VAR:?message} whose variable is unset or empty.
Expansion expand(std::string_view text, const Variables& vars, const LexOptions& options = {});

// The whole text as one word (ENV values, WORKDIR, USER, COPY paths…).
std::string expand_word(std::string_view text, const Variables& vars, const LexOptions& options = {});

// The text split into words after expansion (EXPOSE, heredoc delimiters).
std::vector<std::string> expand_words(std::string_view text, const Variables& vars,
                                      const LexOptions& options = {});

// Shell pattern matching as ${VAR#pattern} uses it: * and ? (which match
// '/' too, unlike file globs) and the escape \ for *, ? and \ itself.
// Throws invalid_argument for any other escape.
bool shell_pattern_match(std::string_view pattern, std::string_view text);

}  // namespace skiff::builder
