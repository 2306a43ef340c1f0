// A byte-wise port of the semantics of BuildKit's shell lexer
// (frontend/dockerfile/shell/lex.go). Every special character is ASCII, so
// UTF-8 text passes through untouched; variable names may contain non-ASCII
// letters as in BuildKit.
#include "builder/expand.h"

#include <algorithm>

#include "core/error.h"

namespace skiff::builder {

// ---- Variables -------------------------------------------------------------

Variables Variables::from_env(const std::vector<std::string>& env) {
  Variables vars;
  for (const auto& entry : env) {
    auto eq = entry.find('=');
    if (eq == std::string::npos) {
      vars.set(entry, "");
    } else {
      vars.set(std::string_view(entry).substr(0, eq), entry.substr(eq + 1));
    }
  }
  return vars;
}

void Variables::set(std::string_view name, std::string value) {
  for (auto& [key, current] : entries_) {
    if (key == name) {
      current = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::string(name), std::move(value));
}

void Variables::erase(std::string_view name) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.first == name; });
}

const std::string* Variables::get(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::vector<std::string> Variables::to_env() const {
  std::vector<std::string> env;
  env.reserve(entries_.size());
  for (const auto& [key, value] : entries_) env.push_back(key + "=" + value);
  return env;
}

// ---- shell patterns ----------------------------------------------------------

namespace {

constexpr int end_of_text = -1;

bool is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_continuation_byte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the UTF-8 sequence starting at text[i] (1 for stray bytes).
size_t char_length(std::string_view text, size_t i) {
  size_t n = 1;
  while (i + n < text.size() && is_continuation_byte(static_cast<unsigned char>(text[i + n]))) ++n;
  return n;
}

enum class PatternToken { literal, any_char, any_string };
struct PatternElement {
  PatternToken token;
  std::string text;  // for literal
};

std::vector<PatternElement> compile_pattern(std::string_view pattern) {
  std::vector<PatternElement> out;
  auto add_literal = [&](std::string_view s) {
    if (!out.empty() && out.back().token == PatternToken::literal) {
      out.back().text += s;
    } else {
      out.push_back({PatternToken::literal, std::string(s)});
    }
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*') {
      if (out.empty() || out.back().token != PatternToken::any_string) out.push_back({PatternToken::any_string, {}});
    } else if (c == '?') {
      out.push_back({PatternToken::any_char, {}});
    } else if (c == '\\') {
      // \} and \/ had to be escaped inside ${…}; the escape is not part of
      // the pattern.
      if (i + 1 < pattern.size() && (pattern[i + 1] == '}' || pattern[i + 1] == '/')) continue;
      if (i + 1 >= pattern.size() || (pattern[i + 1] != '*' && pattern[i + 1] != '?' && pattern[i + 1] != '\\')) {
        fail(ErrorKind::invalid_argument, "invalid pattern ({}) in substitution: invalid escape '\\{}'", pattern,
             i + 1 < pattern.size() ? std::string(1, pattern[i + 1]) : std::string());
      }
      add_literal(pattern.substr(++i, 1));
    } else {
      add_literal(pattern.substr(i, 1));
    }
  }
  return out;
}

// Whole-text match with memoisation, so that patterns like "*a*a*a*b"
// stay polynomial.
class PatternMatcher {
 public:
  PatternMatcher(const std::vector<PatternElement>& elements, std::string_view text)
      : elements_(elements), text_(text), memo_((elements.size() + 1) * (text.size() + 1), -1) {}

  bool match(size_t e = 0, size_t t = 0) {
    int8_t& cached = memo_[e * (text_.size() + 1) + t];
    if (cached < 0) cached = compute(e, t);
    return cached;
  }

 private:
  bool compute(size_t e, size_t t) {
    if (e == elements_.size()) return t == text_.size();
    const auto& element = elements_[e];
    switch (element.token) {
      case PatternToken::literal:
        return text_.substr(t, element.text.size()) == element.text && match(e + 1, t + element.text.size());
      case PatternToken::any_char:
        return t < text_.size() && match(e + 1, t + char_length(text_, t));
      case PatternToken::any_string:
        for (size_t k = t; k <= text_.size(); k += (k < text_.size() ? char_length(text_, k) : 1)) {
          if (match(e + 1, k)) return true;
        }
        return false;
    }
    return false;
  }

  const std::vector<PatternElement>& elements_;
  std::string_view text_;
  std::vector<int8_t> memo_;
};

bool match_elements(const std::vector<PatternElement>& elements, std::string_view text) {
  return PatternMatcher(elements, text).match();
}

std::vector<size_t> char_boundaries(std::string_view text) {
  std::vector<size_t> bounds;
  for (size_t i = 0; i < text.size(); i += char_length(text, i)) bounds.push_back(i);
  bounds.push_back(text.size());
  return bounds;
}

// ${v#p} / ${v##p}: the shortest / longest prefix matching the pattern goes.
std::string trim_prefix(std::string_view pattern, std::string_view value, bool longest) {
  auto elements = compile_pattern(pattern);
  auto bounds = char_boundaries(value);
  if (longest) std::reverse(bounds.begin(), bounds.end());
  for (size_t cut : bounds) {
    if (match_elements(elements, value.substr(0, cut))) return std::string(value.substr(cut));
  }
  return std::string(value);
}

// ${v%p} / ${v%%p}: the shortest / longest suffix matching the pattern goes.
std::string trim_suffix(std::string_view pattern, std::string_view value, bool longest) {
  auto elements = compile_pattern(pattern);
  auto bounds = char_boundaries(value);
  if (!longest) std::reverse(bounds.begin(), bounds.end());
  for (size_t cut : bounds) {
    if (match_elements(elements, value.substr(cut))) return std::string(value.substr(0, cut));
  }
  return std::string(value);
}

// ${v/p/r} and ${v//p/r}: the leftmost, longest match is replaced. Unlike
// BuildKit (which hands the replacement to Go's regexp, where "$1" means a
// group), the replacement is literal text with its escapes removed, as in
// bash; an empty match replaces nothing, also as in bash.
std::string replace_pattern(std::string_view pattern, std::string_view value, std::string_view replacement,
                            bool all) {
  auto elements = compile_pattern(pattern);
  std::string repl;
  for (size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] == '\\' && i + 1 < replacement.size()) ++i;
    repl += replacement[i];
  }
  std::string out;
  size_t i = 0;
  bool replaced = false;
  while (i < value.size()) {
    if (!(replaced && !all)) {
      auto bounds = char_boundaries(value.substr(i));
      std::optional<size_t> best;
      for (auto it = bounds.rbegin(); it != bounds.rend(); ++it) {
        if (*it == 0) break;
        if (match_elements(elements, value.substr(i, *it))) {
          best = *it;
          break;
        }
      }
      if (best) {
        out += repl;
        i += *best;
        replaced = true;
        continue;
      }
    }
    size_t n = char_length(value, i);
    out += value.substr(i, n);
    i += n;
  }
  return out;
}

// ---- the lexer ---------------------------------------------------------------

class Words {
 public:
  void add_char(char c) {
    if (is_space(static_cast<unsigned char>(c))) {
      if (in_word_ && !buffer_.empty()) {
        words_.push_back(std::move(buffer_));
        buffer_.clear();
        in_word_ = false;
      }
    } else {
      add_raw_char(c);
    }
  }
  void add_raw_char(char c) {
    buffer_ += c;
    in_word_ = true;
  }
  void add_string(std::string_view s) {
    for (char c : s) add_char(c);
  }
  void add_raw_string(std::string_view s) {
    buffer_ += s;
    in_word_ = true;
  }
  std::vector<std::string> take() {
    if (!buffer_.empty()) words_.push_back(std::move(buffer_));
    buffer_.clear();
    in_word_ = false;
    return std::move(words_);
  }

 private:
  std::string buffer_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

class Lexer {
 public:
  Lexer(std::string_view text, const Variables& vars, const LexOptions& options, Expansion& capture)
      : text_(text), vars_(vars), options_(options), capture_(capture), raw_escapes_(options.raw_escapes) {}

  std::pair<std::string, std::vector<std::string>> run() { return process_until(end_of_text, raw_escapes_); }

 private:
  int peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : end_of_text; }
  int next() { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_++]) : end_of_text; }

  std::pair<std::string, std::vector<std::string>> process_until(int stop, bool raw_escapes) {
    struct Restore {
      bool& target;
      bool saved;
      ~Restore() { target = saved; }
    } restore{raw_escapes_, raw_escapes_};
    raw_escapes_ = raw_escapes;

    std::string result;
    Words words;
    while (peek() != end_of_text) {
      int c = peek();
      if (stop != end_of_text && c == stop) {
        next();
        return {result, words.take()};
      }
      if (c == '$') {
        std::string value = process_dollar();
        result += value;
        words.add_string(value);
      } else if (c == '<') {
        std::string value = process_possible_heredoc();
        result += value;
        words.add_raw_string(value);
      } else if (!options_.skip_quotes && c == '\'') {
        std::string value = process_single_quote();
        result += value;
        words.add_raw_string(value);
      } else if (!options_.skip_quotes && c == '"') {
        std::string value = process_double_quote();
        result += value;
        words.add_raw_string(value);
      } else {
        c = next();
        if (c == options_.escape) {
          if (raw_escapes_) {
            words.add_raw_char(static_cast<char>(c));
            result += static_cast<char>(c);
          }
          // The escape character escapes anything, except at the end.
          c = next();
          if (c == end_of_text) break;
          words.add_raw_char(static_cast<char>(c));
        } else {
          words.add_char(static_cast<char>(c));
        }
        result += static_cast<char>(c);
      }
    }
    if (stop != end_of_text) {
      fail(ErrorKind::invalid_argument, "unexpected end of statement while looking for matching {}",
           static_cast<char>(stop));
    }
    return {result, words.take()};
  }

  std::string process_single_quote() {
    // Everything up to the next single quote is literal; it cannot be escaped.
    std::string result;
    int c = next();
    if (options_.raw_quotes) result += static_cast<char>(c);
    for (;;) {
      c = next();
      if (c == end_of_text) {
        fail(ErrorKind::invalid_argument, "unexpected end of statement while looking for matching single-quote");
      }
      if (c == '\'') {
        if (options_.raw_quotes) result += static_cast<char>(c);
        return result;
      }
      result += static_cast<char>(c);
    }
  }

  std::string process_double_quote() {
    // Literal except $, and the escape before ", $ or itself.
    std::string result;
    int c = next();
    if (options_.raw_quotes) result += static_cast<char>(c);
    for (;;) {
      int p = peek();
      if (p == end_of_text) {
        fail(ErrorKind::invalid_argument, "unexpected end of statement while looking for matching double-quote");
      }
      if (p == '"') {
        c = next();
        if (options_.raw_quotes) result += static_cast<char>(c);
        return result;
      }
      if (p == '$') {
        result += process_dollar();
        continue;
      }
      c = next();
      if (c == options_.escape) {
        if (raw_escapes_) result += static_cast<char>(c);
        int after = peek();
        if (after == end_of_text) continue;  // a lone escape at the end is dropped
        if (after == '"' || after == '$' || after == options_.escape) c = next();
      }
      result += static_cast<char>(c);
    }
  }

  std::string process_possible_heredoc() {
    next();
    if (peek() != '<') return "<";
    next();
    std::string result = "<<";
    while (peek() == ' ' || peek() == '\t' || peek() == '\r') result += static_cast<char>(next());
    return result;
  }

  static bool is_special_parameter(int c) {
    return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' || c == '0';
  }
  static bool is_name_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
  }

  std::string process_name() {
    std::string name;
    while (peek() != end_of_text) {
      int c = peek();
      if (name.empty() && c >= '0' && c <= '9') {
        // Positional parameters ($1) are never set.
        while (peek() >= '0' && peek() <= '9') name += static_cast<char>(next());
        return name;
      }
      if (name.empty() && is_special_parameter(c)) {
        name += static_cast<char>(next());
        return name;
      }
      if (!is_name_char(c)) break;
      name += static_cast<char>(next());
    }
    return name;
  }

  const std::string* lookup(const std::string& name) {
    const std::string* value = vars_.get(name);
    (value ? capture_.matched : capture_.unmatched).insert(name);
    return value;
  }

  // Runs `body`, turning an error at the end of the text into `message`.
  template <typename F>
  auto until_or(F body, const char* message) {
    try {
      return body();
    } catch (const Error&) {
      if (peek() == end_of_text) fail(ErrorKind::invalid_argument, "{}", message);
      throw;
    }
  }

  std::string process_dollar() {
    next();  // $
    if (peek() != '{') {
      std::string name = process_name();
      if (name.empty()) return "$";
      const std::string* value = lookup(name);
      if (!value && options_.skip_unset) return "$" + name;
      return value ? *value : std::string();
    }
    next();  // {
    int first = peek();
    if (first == end_of_text) fail(ErrorKind::invalid_argument, "syntax error: missing '}}'");
    if (first == '{' || first == '}' || first == ':') fail(ErrorKind::invalid_argument, "syntax error: bad substitution");

    std::string name = process_name();
    int c = next();
    if (c == end_of_text) fail(ErrorKind::invalid_argument, "syntax error: missing '}}'");
    std::string modifier(1, static_cast<char>(c));
    bool null_is_unset = false;

    if (c == '}') {
      const std::string* value = lookup(name);
      if (!value && options_.skip_unset) return "${" + name + "}";
      return value ? *value : std::string();
    }
    if (c == '/') {
      bool all = peek() == '/';
      if (all) next();
      std::string pattern =
          until_or([&] { return process_until('/', true).first; }, "syntax error: missing '/' in ${}");
      std::string replacement = until_or([&] { return process_until('}', true).first; }, "syntax error: missing '}'");
      const std::string* value = lookup(name);
      if (!value && options_.skip_unset) return "${" + name + "/" + pattern + "/" + replacement + "}";
      return replace_pattern(pattern, value ? *value : std::string(), replacement, all);
    }
    if (c == ':') {
      null_is_unset = true;
      c = next();
      if (c == end_of_text) fail(ErrorKind::invalid_argument, "syntax error: missing '}}'");
      modifier += static_cast<char>(c);
    }
    if (c != '+' && c != '-' && c != '?' && c != '#' && c != '%') {
      fail(ErrorKind::invalid_argument, "unsupported modifier ({}) in substitution", modifier);
    }
    bool pattern_modifier = c == '#' || c == '%';
    if (null_is_unset && pattern_modifier) {
      fail(ErrorKind::invalid_argument, "unsupported modifier ({}) in substitution", modifier);
    }
    std::string word = until_or([&] { return process_until('}', pattern_modifier).first; }, "syntax error: missing '}'");

    const std::string* value = lookup(name);
    if (!value && options_.skip_unset) return "${" + name + modifier + word + "}";
    bool unset_or_null = !value || (null_is_unset && value->empty());
    switch (c) {
      case '-':
        return unset_or_null ? word : *value;
      case '+':
        return unset_or_null ? std::string() : word;
      case '?':
        if (!value) {
          fail(ErrorKind::invalid_argument, "{}: {}", name, word.empty() ? "is not allowed to be unset" : word);
        }
        if (null_is_unset && value->empty()) {
          fail(ErrorKind::invalid_argument, "{}: {}", name, word.empty() ? "is not allowed to be empty" : word);
        }
        return *value;
      default: {  // # and %: one character for the shortest match, two for the longest
        bool longest = !word.empty() && word[0] == static_cast<char>(c);
        if (longest) word.erase(0, 1);
        std::string current = value ? *value : std::string();
        return c == '%' ? trim_suffix(word, current, longest) : trim_prefix(word, current, longest);
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  const Variables& vars_;
  const LexOptions& options_;
  Expansion& capture_;
  bool raw_escapes_;
};

}  // namespace

Expansion expand(std::string_view text, const Variables& vars, const LexOptions& options) {
  Expansion expansion;
  try {
    Lexer lexer(text, vars, options, expansion);
    auto [word, words] = lexer.run();
    expansion.word = std::move(word);
    expansion.words = std::move(words);
  } catch (const Error& e) {
    fail(ErrorKind::invalid_argument, "failed to process \"{}\": {}", text, e.what());
  }
  return expansion;
}

std::string expand_word(std::string_view text, const Variables& vars, const LexOptions& options) {
  return expand(text, vars, options).word;
}

std::vector<std::string> expand_words(std::string_view text, const Variables& vars, const LexOptions& options) {
  return expand(text, vars, options).words;
}

bool shell_pattern_match(std::string_view pattern, std::string_view text) {
  return match_elements(compile_pattern(pattern), text);
}

}  // namespace skiff::builder
