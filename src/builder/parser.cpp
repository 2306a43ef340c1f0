// The line level of the Dockerfile language, as BuildKit's parser reads it:
// parser directives at the very top, comments, continuation lines,
// here-documents; then each joined line is split into keyword, flags and
// arguments.
#include <algorithm>
#include <cctype>

#include "builder/expand.h"
#include "builder/syntax.h"
#include "core/error.h"
#include "core/json.h"

namespace skiff::builder::syntax {

namespace {

// unicode.IsSpace for the ASCII range, which is all a Dockerfile's syntax uses.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view trim_left_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}

std::string_view trim_space(std::string_view s) {
  s = trim_left_space(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_comment(std::string_view line) {
  line = trim_left_space(line);
  return !line.empty() && line[0] == '#';
}

// Parser directives (# syntax=, # escape=, # check=) are only read until
// the first line that is not one: an instruction, an empty line, or any
// other comment.
class DirectiveParser {
 public:
  // Returns true if `line` (left-trimmed, newline removed) is a directive.
  bool parse(std::string_view line, RawDockerfile& into) {
    if (done_) return false;
    if (line.empty() || line[0] != '#') {
      done_ = true;
      return false;
    }
    line = trim_left_space(line.substr(1));
    // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
    size_t i = 0;
    if (i >= line.size() || !std::isalpha(static_cast<unsigned char>(line[i]))) return finish();
    while (i < line.size() && std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
    std::string key = ascii_lower(line.substr(0, i));
    std::string_view after = trim_left_space(line.substr(i));
    if (after.empty() || after[0] != '=') return finish();
    std::string_view value = trim_space(after.substr(1));
    if (value.empty()) return finish();
    if (key != "syntax" && key != "escape" && key != "check") return finish();
    for (const auto& seen : seen_) {
      if (seen == key) fail(ErrorKind::invalid_argument, "only one {} parser directive can be used", key);
    }
    seen_.push_back(key);
    if (key == "escape") {
      if (value != "`" && value != "\\") {
        fail(ErrorKind::invalid_argument, "invalid escape token '{}' does not match ` or \\", value);
      }
      into.escape = value[0];
    } else if (key == "syntax") {
      into.syntax = std::string(value);
    } else {
      into.check = std::string(value);
    }
    return true;
  }

 private:
  bool finish() {
    done_ = true;
    return false;
  }
  bool done_ = false;
  std::vector<std::string> seen_;
};

// A line continues on the next when its last non-blank character is the
// escape character, unless that is itself escaped. Returns the line without
// it and whether the instruction ends here.
std::pair<std::string, bool> trim_continuation(std::string_view line, char escape) {
  std::string_view body = line;
  while (!body.empty() && (body.back() == ' ' || body.back() == '\t')) body.remove_suffix(1);
  if (!body.empty() && body.back() == escape) {
    // BuildKit's regex ([^E])E[ \t]*$|^E[ \t]*$ cannot see an escaped
    // escape before it ("a \\\" does not continue); neither do we.
    if (body.size() == 1 || body[body.size() - 2] != escape) {
      return {std::string(body.substr(0, body.size() - 1)), false};
    }
  }
  return {std::string(line), true};
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

// RUN, COPY and ADD in shell form (also as an ONBUILD trigger) read
// here-documents; the exec (JSON) form does not.
bool can_contain_heredoc(const RawInstruction& node, char escape) {
  const RawInstruction* target = &node;
  RawInstruction child;
  if (ascii_lower(node.keyword) == "onbuild") {
    split_command(node.rest, escape, child);
    target = &child;
  }
  std::string keyword = ascii_lower(target->keyword);
  if (keyword != "run" && keyword != "copy" && keyword != "add") return false;
  try {
    return !parse_json_array(target->rest);
  } catch (const Error&) {
    return false;  // reported when the instruction is built
  }
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_blanks(std::string_view text) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) ++i;
    if (i >= text.size()) break;
    size_t start = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
    parts.emplace_back(text.substr(start, i - start));
  }
  return parts;
}

void split_command(std::string_view line, char escape, RawInstruction& into) {
  line = trim_space(line);
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  into.keyword = std::string(line.substr(0, end));
  while (end < line.size() && is_blank(line[end])) ++end;
  std::string_view args = line.substr(end);
  into.flags.clear();

  // Flags are the leading words that start with "--"; a bare "--" ends them.
  // Their quotes and escapes are processed here (BuildKit's extractBuilderFlags).
  size_t pos = 0;
  for (;;) {
    while (pos < args.size() && is_space(args[pos])) ++pos;
    if (pos + 1 >= args.size() || args[pos] != '-' || args[pos + 1] != '-') break;
    std::string word;
    bool quoted_empty_ok = false;
    char quote = 0;
    for (; pos < args.size(); ++pos) {
      char c = args[pos];
      if (quote) {
        if (c == quote) {
          quote = 0;
          continue;
        }
        if (c == escape) {
          if (pos + 1 == args.size()) continue;
          c = args[++pos];
        }
        word += c;
        continue;
      }
      if (is_space(c)) break;
      if (c == '\'' || c == '"') {
        quote = c;
        quoted_empty_ok = true;
        continue;
      }
      if (c == escape) {
        if (pos + 1 == args.size()) continue;
        c = args[++pos];
      }
      word += c;
    }
    if (word == "--") break;
    if (quoted_empty_ok || !word.empty()) into.flags.push_back(std::move(word));
  }
  into.rest = std::string(trim_space(pos < args.size() ? args.substr(pos) : std::string_view()));
}

std::vector<std::string> parse_words(std::string_view rest, char escape) {
  // Quotes and escapes stay in the words: expansion removes them later.
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  for (size_t pos = 0; pos < rest.size(); ++pos) {
    char c = rest[pos];
    if (!in_word) {
      if (is_space(c)) continue;
      in_word = true;
    }
    if (quote) {
      if (c == quote) quote = 0;
      // The escape is special in double quotes only.
      if (c == escape && quote != '\'') {
        if (pos + 1 == rest.size()) {
          quote = 0;
          continue;
        }
        word += c;
        c = rest[++pos];
      }
      word += c;
      continue;
    }
    if (is_space(c)) {
      if (blank_ok || !word.empty()) words.push_back(word);
      word.clear();
      in_word = blank_ok = false;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      blank_ok = true;
    }
    if (c == escape) {
      if (pos + 1 == rest.size()) continue;  // a trailing escape is dropped
      word += c;
      c = rest[++pos];
    }
    word += c;
  }
  if (in_word && (blank_ok || !word.empty())) words.push_back(word);
  return words;
}

std::optional<Heredoc> heredoc_of_word(std::string_view word) {
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t i = 0;
  while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i;
  std::string_view digits = word.substr(0, i);
  if (word.substr(i, 2) != "<<") return std::nullopt;
  i += 2;
  bool chomp = i < word.size() && word[i] == '-';
  if (chomp) ++i;
  while (i < word.size() && is_space(word[i])) ++i;
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) return std::nullopt;

  // Lex the delimiter with and without quote removal: if the counts of
  // quote characters differ, part of it was quoted and the body is literal.
  LexOptions options;
  options.skip_unset = true;
  auto words = expand_words(rest, {}, options);
  if (words.size() != 1) return std::nullopt;
  options.raw_quotes = true;
  auto raw_words = expand_words(rest, {}, options);
  if (raw_words.size() != 1) {
    fail(ErrorKind::invalid_argument, "internal lexing of heredoc produced inconsistent results: {}", rest);
  }
  auto quotes = [](const std::string& s) { return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"'); };

  Heredoc heredoc;
  heredoc.name = words[0];
  heredoc.expand = quotes(words[0]) == quotes(raw_words[0]);
  heredoc.chomp = chomp;
  heredoc.fd = digits.empty() ? 0 : static_cast<unsigned>(std::stoul(std::string(digits.substr(0, 9))));
  return heredoc;
}

std::vector<Heredoc> heredocs_in_line(std::string_view line) {
  LexOptions options;
  options.raw_quotes = true;
  options.raw_escapes = true;
  options.skip_unset = true;
  std::vector<std::string> words;
  try {
    words = expand_words(line, {}, options);
  } catch (const Error&) {
    return {};  // BuildKit ignores lexing errors here too
  }
  std::vector<Heredoc> heredocs;
  for (const auto& word : words) {
    if (auto heredoc = heredoc_of_word(word)) heredocs.push_back(std::move(*heredoc));
  }
  return heredocs;
}

std::optional<std::vector<std::string>> parse_json_array(std::string_view text) {
  text = trim_left_space(text);
  if (text.empty() || text[0] != '[') return std::nullopt;
  Json value = Json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded() || !value.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& element : value) {
    if (!element.is_string()) {
      fail(ErrorKind::invalid_argument, "when using JSON array syntax, arrays must be comprised of strings only");
    }
    out.push_back(element.get<std::string>());
  }
  return out;
}

namespace {

// The line (1-based) holding the first byte that is not valid UTF-8, or 0.
int first_invalid_utf8_line(std::string_view text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > text.size()) return line;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return line;
      cp = (cp << 6) | (next & 0x3F);
    }
    // overlong forms, surrogates, beyond U+10FFFF
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return line;
    }
    i += n;
  }
  return 0;
}

}  // namespace

bool valid_utf8(std::string_view text) { return first_invalid_utf8_line(text) == 0; }

RawDockerfile scan(std::string_view text, std::string_view file_name) {
  // Instructions end up in JSON (image configs, history), which is UTF-8.
  if (int line = first_invalid_utf8_line(text)) {
    fail(ErrorKind::invalid_argument, "{}:{}: the file is not valid UTF-8 text", file_name, line);
  }
  RawDockerfile result;
  DirectiveParser directives;
  auto lines = split_lines(text);
  size_t index = 0;
  int current_line = 0;
  auto located = [&](int line, auto&& body) {
    try {
      body();
    } catch (const Error& e) {
      fail(e.kind(), "{}:{}: {}", file_name, line, e.what());
    }
  };

  while (index < lines.size()) {
    std::string_view raw = lines[index++];
    if (current_line == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    std::string_view token = trim_left_space(trim_newline(raw));
    located(current_line + 1, [&] { directives.parse(token, result); });
    if (is_comment(token)) token = {};
    ++current_line;

    int start_line = current_line;
    auto [first, end_of_instruction] = trim_continuation(token, result.escape);
    if (end_of_instruction && first.empty()) continue;
    std::string joined = first;

    bool empty_continuation = false;
    while (!end_of_instruction && index < lines.size()) {
      std::string_view next_raw = lines[index++];
      ++current_line;
      if (is_comment(next_raw)) continue;  // comments inside continuations vanish
      std::string_view next = trim_newline(next_raw);
      if (trim_left_space(next).empty()) {
        // BuildKit accepts (with a warning) blank lines inside a continuation.
        empty_continuation = true;
        continue;
      }
      auto [part, ends] = trim_continuation(next, result.escape);
      joined += part;
      end_of_instruction = ends;
    }
    if (empty_continuation) {
      result.warnings.push_back(fmt::format("{}:{}: empty continuation line found in: {}", file_name, current_line,
                                            trim_space(joined)));
    }

    RawInstruction node;
    node.text = std::string(trim_space(joined));
    split_command(joined, result.escape, node);

    if (joined.find("<<") != std::string::npos && can_contain_heredoc(node, result.escape)) {
      std::vector<Heredoc> heredocs;
      located(start_line, [&] { heredocs = heredocs_in_line(joined); });
      for (auto& heredoc : heredocs) {
        bool terminated = false;
        std::string content;
        while (index < lines.size()) {
          std::string_view body_line = lines[index++];
          ++current_line;
          std::string_view candidate = trim_newline(body_line);
          if (heredoc.chomp) {
            while (!candidate.empty() && candidate[0] == '\t') candidate.remove_prefix(1);
          }
          if (candidate == heredoc.name) {
            terminated = true;
            break;
          }
          if (heredoc.chomp) {
            while (!body_line.empty() && body_line[0] == '\t') body_line.remove_prefix(1);
          }
          content += body_line;
        }
        if (!terminated) {
          fail(ErrorKind::invalid_argument, "{}:{}: unterminated heredoc <<{} (no line \"{}\" ends it)", file_name,
               start_line, heredoc.name, heredoc.name);
        }
        heredoc.content = std::move(content);
        node.heredocs.push_back(std::move(heredoc));
      }
    }
    node.lines = {start_line, current_line};
    result.instructions.push_back(std::move(node));
  }
  return result;
}

}  // namespace skiff::builder::syntax
