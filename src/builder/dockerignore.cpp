#include "builder/dockerignore.h"

#include <optional>

#include "core/error.h"

namespace skiff::builder {

namespace {

using Token = IgnoreMatcher::Pattern::Token;

size_t rune_length(std::string_view text, size_t i) {
  size_t n = 1;
  while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
  return n;
}

// Decodes one UTF-8 code point (stray bytes decode as themselves).
char32_t decode(std::string_view text, size_t i, size_t* length) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  size_t n = rune_length(text, i);
  *length = n;
  unsigned char lead = byte(i);
  if (n == 1) return lead;
  char32_t cp = n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (byte(i + k) & 0x3F);
  return cp;
}

[[noreturn]] void bad_pattern(std::string_view pattern) {
  fail(ErrorKind::invalid_argument, "invalid pattern \"{}\": syntax error in pattern", pattern);
}

// Parses a class body after '[' up to and including ']'; returns the index
// after it. The body keeps Go's syntax (ranges, \ escapes) for class_matches.
size_t parse_class(std::string_view pattern, size_t i, Token& token) {
  token.type = Token::Type::char_class;
  if (i < pattern.size() && pattern[i] == '^') {
    token.negated = true;
    ++i;
  }
  size_t items = 0;
  for (;;) {
    if (i >= pattern.size()) bad_pattern(pattern);
    if (pattern[i] == ']' && items > 0) return i + 1;
    // lo [- hi]; '-' and ']' must be escaped
    for (int side = 0; side < 2; ++side) {
      if (i >= pattern.size() || pattern[i] == '-' || pattern[i] == ']') bad_pattern(pattern);
      if (pattern[i] == '\\') {
        token.text += pattern[i++];
        if (i >= pattern.size()) bad_pattern(pattern);
      }
      size_t n = rune_length(pattern, i);
      token.text += pattern.substr(i, n);
      i += n;
      if (side == 0) {
        if (i < pattern.size() && pattern[i] == '-') {
          token.text += '-';
          ++i;
          continue;
        }
        break;
      }
    }
    ++items;
  }
}

bool class_matches(const Token& token, char32_t c) {
  std::string_view body = token.text;
  bool matched = false;
  size_t i = 0;
  auto read = [&]() {
    if (body[i] == '\\') ++i;
    size_t n;
    char32_t value = decode(body, i, &n);
    i += n;
    return value;
  };
  while (i < body.size()) {
    char32_t lo = read();
    char32_t hi = lo;
    if (i < body.size() && body[i] == '-') {
      ++i;
      hi = read();
    }
    if (lo <= c && c <= hi) matched = true;
  }
  return matched != token.negated;
}

// Full-match of `tokens` against `text` with memoisation (positions are
// bytes; single-character tokens consume one UTF-8 character).
class TokenMatcher {
 public:
  TokenMatcher(const std::vector<Token>& tokens, std::string_view text)
      : tokens_(tokens), text_(text), memo_((tokens.size() + 1) * (text.size() + 1), -1) {}

  bool match(size_t t = 0, size_t p = 0) {
    int8_t& cached = memo_[t * (text_.size() + 1) + p];
    if (cached >= 0) return cached;
    bool result = compute(t, p);
    cached = result;
    return result;
  }

 private:
  bool compute(size_t t, size_t p) {
    if (t == tokens_.size()) return p == text_.size();
    const Token& token = tokens_[t];
    switch (token.type) {
      case Token::Type::literal:
        return text_.substr(p, token.text.size()) == token.text && match(t + 1, p + token.text.size());
      case Token::Type::question:
        return p < text_.size() && text_[p] != '/' && match(t + 1, p + rune_length(text_, p));
      case Token::Type::char_class: {
        if (p >= text_.size()) return false;
        size_t n;
        char32_t c = decode(text_, p, &n);
        return class_matches(token, c) && match(t + 1, p + n);
      }
      case Token::Type::star:  // [^/]*
        for (size_t q = p;; q += rune_length(text_, q)) {
          if (match(t + 1, q)) return true;
          if (q >= text_.size() || text_[q] == '/') return false;
        }
      case Token::Type::any_dirs:  // (.*/)?
        if (match(t + 1, p)) return true;
        for (size_t q = p; q < text_.size(); ++q) {
          if (text_[q] == '/' && match(t + 1, q + 1)) return true;
        }
        return false;
      case Token::Type::any_rest:  // .*
        for (size_t q = p; q <= text_.size(); ++q) {
          if (match(t + 1, q)) return true;
        }
        return false;
    }
    return false;
  }

  const std::vector<Token>& tokens_;
  std::string_view text_;
  std::vector<int8_t> memo_;
};

void add_literal(std::vector<Token>& tokens, std::string_view text) {
  if (!tokens.empty() && tokens.back().type == Token::Type::literal) {
    tokens.back().text += text;
  } else {
    tokens.push_back({Token::Type::literal, std::string(text)});
  }
}

// Go path.Match pattern: no "**" (it is two stars, i.e. one).
std::vector<Token> compile_glob(std::string_view pattern) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '*') {
      if (tokens.empty() || tokens.back().type != Token::Type::star) tokens.push_back({Token::Type::star, {}});
      ++i;
    } else if (c == '?') {
      tokens.push_back({Token::Type::question, {}});
      ++i;
    } else if (c == '[') {
      Token token{Token::Type::char_class, {}};
      i = parse_class(pattern, i + 1, token);
      tokens.push_back(std::move(token));
    } else if (c == '\\') {
      if (i + 1 >= pattern.size()) bad_pattern(pattern);
      size_t n = rune_length(pattern, i + 1);
      add_literal(tokens, pattern.substr(i + 1, n));
      i += 1 + n;
    } else {
      size_t n = rune_length(pattern, i);
      add_literal(tokens, pattern.substr(i, n));
      i += n;
    }
  }
  return tokens;
}

std::vector<std::string_view> split_slash(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    parts.push_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string_view trim_space(std::string_view s) {
  const char* space = " \t\n\v\f\r";
  size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

}  // namespace

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> out;
  for (auto part : split_slash(path)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string result = rooted ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) result += '/';
    result += out[i];
  }
  if (result.empty()) return ".";
  return result;
}

bool has_wildcards(std::string_view pattern) { return pattern.find_first_of("*?[\\") != std::string_view::npos; }

bool glob_match(std::string_view pattern, std::string_view name) {
  auto tokens = compile_glob(pattern);
  return TokenMatcher(tokens, name).match();
}

std::vector<std::string> read_ignore_file(std::string_view text) {
  std::vector<std::string> patterns;
  size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? text.size() + 1 : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    first = false;
    if (!line.empty() && line[0] == '#') continue;  // only at the very start of the line
    std::string_view pattern = trim_space(line);
    if (pattern.empty()) continue;
    bool exception = pattern[0] == '!';
    if (exception) pattern = trim_space(pattern.substr(1));
    std::string cleaned;
    if (!pattern.empty()) {
      cleaned = clean_path(pattern);
      if (cleaned.size() > 1 && cleaned[0] == '/') cleaned.erase(0, 1);
    }
    patterns.push_back((exception ? "!" : "") + cleaned);
  }
  return patterns;
}

IgnoreMatcher::IgnoreMatcher(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    std::string_view text = trim_space(line);
    if (text.empty()) continue;
    Pattern pattern;
    std::string cleaned = clean_path(text);
    if (cleaned[0] == '!') {
      if (cleaned.size() == 1) fail(ErrorKind::invalid_argument, "illegal exclusion pattern: \"!\"");
      pattern.exception = true;
      has_exceptions_ = true;
      cleaned.erase(0, 1);
    }
    compile_glob(cleaned);  // Go checks the syntax with filepath.Match first
    pattern.text = cleaned;

    // patternmatcher's compile: "**" matches any number of directories;
    // plain patterns compare exactly, "x/**" by prefix, "**/x" by suffix.
    auto kind = Pattern::Kind::exact;
    std::string_view p = cleaned;
    for (size_t i = 0, iteration = 0; i < p.size(); ++iteration) {
      char c = p[i];
      if (c == '*' && i + 1 < p.size() && p[i + 1] == '*') {
        i += 2;
        if (i < p.size() && p[i] == '/') ++i;
        if (i >= p.size()) {
          if (kind == Pattern::Kind::exact) {
            kind = Pattern::Kind::prefix;
          } else {
            pattern.tokens.push_back({Token::Type::any_rest, {}});
            kind = Pattern::Kind::glob;
          }
        } else {
          pattern.tokens.push_back({Token::Type::any_dirs, {}});
          kind = Pattern::Kind::glob;
        }
        if (iteration == 0) kind = Pattern::Kind::suffix;
      } else if (c == '*') {
        pattern.tokens.push_back({Token::Type::star, {}});
        kind = Pattern::Kind::glob;
        ++i;
      } else if (c == '?') {
        pattern.tokens.push_back({Token::Type::question, {}});
        kind = Pattern::Kind::glob;
        ++i;
      } else if (c == '[') {
        Token token{Token::Type::char_class, {}};
        i = parse_class(p, i + 1, token);
        pattern.tokens.push_back(std::move(token));
        kind = Pattern::Kind::glob;
      } else if (c == '\\') {
        size_t n = rune_length(p, i + 1);
        add_literal(pattern.tokens, p.substr(i + 1, n));
        kind = Pattern::Kind::glob;
        i += 1 + n;
      } else {
        size_t n = rune_length(p, i);
        add_literal(pattern.tokens, p.substr(i, n));
        i += n;
      }
    }
    pattern.kind = kind;
    patterns_.push_back(std::move(pattern));
  }
}

bool IgnoreMatcher::Pattern::matches(std::string_view path) const {
  switch (kind) {
    case Kind::exact:
      return path == text;
    case Kind::prefix:
      return path.substr(0, text.size() - 2) == std::string_view(text).substr(0, text.size() - 2);
    case Kind::suffix: {
      std::string_view suffix = std::string_view(text).substr(2);
      if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) return true;
      // "**/foo" matches "foo"
      return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
    }
    case Kind::glob:
      return TokenMatcher(tokens, path).match();
  }
  return false;
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  std::string cleaned = clean_path(path);
  if (cleaned == "." || patterns_.empty()) return false;
  auto parts = split_slash(cleaned);
  bool matched = false;
  for (const auto& pattern : patterns_) {
    // An exclusion cannot change an excluded path, nor an exception an
    // included one.
    if (pattern.exception != matched) continue;
    bool match = pattern.matches(cleaned);
    if (!match) {
      // A pattern matching a parent directory matches everything below it.
      std::string_view parent(cleaned);
      for (size_t i = 0, length = 0; !match && i + 1 < parts.size(); ++i) {
        length += (i ? 1 : 0) + parts[i].size();
        match = pattern.matches(parent.substr(0, length));
      }
    }
    if (match) matched = !pattern.exception;
  }
  return matched;
}

bool IgnoreMatcher::may_include_below(std::string_view dir) const {
  if (!has_exceptions_) return false;
  std::string cleaned = clean_path(dir);
  auto dir_parts = split_slash(cleaned);
  for (const auto& pattern : patterns_) {
    if (!pattern.exception) continue;
    auto parts = split_slash(pattern.text);
    bool possible = true;
    for (size_t i = 0; i < dir_parts.size(); ++i) {
      if (i >= parts.size()) {
        possible = false;
        break;
      }
      if (parts[i].find("**") != std::string_view::npos) break;  // anything below may match
      bool component_matches = false;
      try {
        component_matches = glob_match(parts[i], dir_parts[i]);
      } catch (const Error&) {
      }
      if (!component_matches) {
        possible = false;
        break;
      }
      if (i + 1 == dir_parts.size() && parts.size() == dir_parts.size()) possible = false;
    }
    if (possible) return true;
  }
  return false;
}

}  // namespace skiff::builder
