#include "base/definition.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/paths.h"
#include "core/error.h"
#include "core/json.h"
#include "core/strings.h"

namespace skiff::base {

std::string SourceLine::str() const { return fmt::format("{}:{}", file.string(), line); }

const PackageSlice* ImageDefinition::find_package(const std::string& name) const {
  for (const auto& p : packages)
    if (p.name == name) return &p;
  return nullptr;
}

const std::vector<std::string>& known_generators() {
  static const std::vector<std::string> names = {"ca-bundle", "os-release"};
  return names;
}

namespace {

const std::vector<std::string> bootstrap_variants = {"extract", "custom", "essential", "apt", "required",
                                                     "minbase", "buildd",  "important", "standard"};

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Strips a comment: "#" as the first non-blank character or after a blank.
std::string_view strip_comment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  }
  return line;
}

class Parser {
 public:
  Parser(ImageDefinition& out, std::string release) : out_(out), release_(std::move(release)) {}

  void parse_file(const std::filesystem::path& file, bool active, const SourceLine* included_from) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(file, ec);
    if (ec) canonical = file;
    if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end())
      error(*included_from, "include cycle: {} includes itself", file.string());
    if (stack_.size() >= 16) error(*included_from, "includes nested more than 16 deep");
    std::ifstream in(file);
    if (!in) {
      if (included_from) error(*included_from, "cannot read included file {}", file.string());
      fail(ErrorKind::not_found, "{}: cannot read image definition", file.string());
    }
    stack_.push_back(canonical);
    State state{file, active, active};
    std::string raw;
    int number = 0;
    while (std::getline(in, raw)) {
      ++number;
      SourceLine where{file, number};
      std::string_view line = strip_comment(raw);
      if (trim(line).empty()) continue;
      bool indented = line.front() == ' ' || line.front() == '\t';
      if (indented) {
        path_rule(state, where, std::string(trim(line)));
      } else {
        directive(state, where, line);
      }
    }
    stack_.pop_back();
  }

 private:
  struct State {
    std::filesystem::path file;
    bool outer_active;             // the including file's release section applies
    bool active;                   // and this file's current one does too
    PackageSlice* package = nullptr;  // the block indented path lines belong to
    bool package_line_seen = false;   // whether any `package` line precedes (even inactive)
  };

  template <typename... Args>
  [[noreturn]] void error(const SourceLine& where, fmt::format_string<Args...> format, Args&&... args) {
    fail(ErrorKind::invalid_argument, "{}: {}", where.str(), fmt::format(format, std::forward<Args>(args)...));
  }

  void expect_args(const SourceLine& where, const std::vector<std::string>& w, size_t min, size_t max,
                   const char* usage) {
    size_t n = w.size() - 1;
    if (n < min || n > max) error(where, "{}: expected \"{}\"", w[0], usage);
  }

  std::string check_path(const SourceLine& where, const std::string& path, bool allow_glob) {
    if (auto reason = invalid_rule_reason(path)) error(where, "{}: {}", path, *reason);
    if (!allow_glob && has_glob(path)) error(where, "{}: globs are only allowed in package paths and remove", path);
    return path;
  }

  void check_name(const SourceLine& where, const std::string& what, const std::string& name) {
    static const std::regex pattern("[a-z0-9][a-z0-9._+-]*");
    if (!std::regex_match(name, pattern))
      error(where, "{} \"{}\": use lowercase letters, digits and . _ + -", what, name);
  }

  mode_t parse_mode(const SourceLine& where, const std::string& text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (ec != std::errc() || end != text.data() + text.size() || text.size() < 3 || text.size() > 4 || value > 07777)
      error(where, "mode \"{}\": expected octal digits such as 0755 or 1777", text);
    return static_cast<mode_t>(value);
  }

  unsigned parse_id(const SourceLine& where, const std::string& text, const char* what) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (ec != std::errc() || end != text.data() + text.size() || value > 65535)
      error(where, "{} \"{}\": expected a number from 0 to 65535", what, text);
    return value;
  }

  std::vector<std::string> parse_argv(const SourceLine& where, std::string_view value) {
    value = trim(value);
    if (!value.starts_with('[')) return words(value);
    Json parsed;
    try {
      parsed = Json::parse(value);
    } catch (const Json::exception& e) {
      error(where, "bad JSON array: {}", e.what());
    }
    std::vector<std::string> out;
    if (!parsed.is_array()) error(where, "expected a JSON array of strings");
    for (const auto& item : parsed) {
      if (!item.is_string()) error(where, "expected a JSON array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  void path_rule(State& state, const SourceLine& where, std::string text) {
    if (!state.package_line_seen)
      error(where, "indented path \"{}\" outside a package block: paths belong under a \"package NAME\" line", text);
    if (!state.active || !state.package) return;
    bool exclude = text.starts_with('!');
    if (exclude) text.erase(0, 1);
    if (text.find_first_of(" \t") != std::string::npos) error(where, "one path per line (found a blank in \"{}\")", text);
    check_path(where, text, true);
    state.package->rules.push_back({text, exclude, where});
  }

  void directive(State& state, const SourceLine& where, std::string_view line) {
    auto w = words(line);
    const std::string& key = w[0];
    // Any directive ends a package block.
    state.package = nullptr;
    if (key != "package") state.package_line_seen = false;
    auto rest = [&]() {
      size_t at = line.find(key) + key.size();
      return std::string(trim(line.substr(at)));
    };

    if (key == "release") {
      if (w.size() < 2) error(where, "release: expected \"release NAME…\" or \"release *\"");
      bool matches = false;
      for (size_t i = 1; i < w.size(); ++i) {
        if (w[i] != "*") check_name(where, "release", w[i]);
        if (w[i] == "*" || w[i] == release_) matches = true;
      }
      state.active = state.outer_active && matches;
      return;
    }
    if (key == "include") {
      expect_args(where, w, 1, 1, "include FILE");
      parse_file(state.file.parent_path() / w[1], state.active, &where);
      return;
    }
    if (key == "package") {
      expect_args(where, w, 1, 1, "package NAME");
      check_name(where, "package", w[1]);
      state.package_line_seen = true;
      if (!state.active) return;
      auto it = std::find_if(out_.packages.begin(), out_.packages.end(), [&](auto& p) { return p.name == w[1]; });
      if (it == out_.packages.end()) {
        out_.packages.push_back({w[1], {}, where});
        it = std::prev(out_.packages.end());
      }
      state.package = &*it;
      return;
    }

    // The remaining directives are validated even when inactive.
    if (key == "image" || key == "variant") {
      expect_args(where, w, 1, 1, key == "image" ? "image NAME" : "variant NAME");
      check_name(where, key.c_str(), w[1]);
      if (!state.active) return;
      (key == "image" ? out_.image : out_.variant) = w[1];
    } else if (key == "description") {
      if (w.size() < 2) error(where, "description: expected \"description TEXT\"");
      if (state.active) out_.description = rest();
    } else if (key == "bootstrap") {
      expect_args(where, w, 1, 1, "bootstrap VARIANT");
      if (std::find(bootstrap_variants.begin(), bootstrap_variants.end(), w[1]) == bootstrap_variants.end())
        error(where, "bootstrap \"{}\": not an mmdebstrap variant ({})", w[1], join(bootstrap_variants, ", "));
      if (state.active) out_.bootstrap = w[1];
    } else if (key == "dir") {
      expect_args(where, w, 2, 3, "dir PATH MODE [UID:GID]");
      DirectoryEntry d{check_path(where, w[1], false), parse_mode(where, w[2]), 0, 0, where};
      if (w.size() == 4) {
        auto ids = split(w[3], ':');
        if (ids.size() != 2) error(where, "owner \"{}\": expected UID:GID", w[3]);
        d.uid = parse_id(where, ids[0], "uid");
        d.gid = parse_id(where, ids[1], "gid");
      }
      if (state.active) out_.directories.push_back(d);
    } else if (key == "symlink") {
      expect_args(where, w, 2, 2, "symlink PATH TARGET");
      SymlinkEntry s{check_path(where, w[1], false), w[2], where};
      if (state.active) out_.symlinks.push_back(s);
    } else if (key == "file") {
      expect_args(where, w, 3, 3, "file PATH MODE SOURCE");
      FileEntry f{check_path(where, w[1], false), parse_mode(where, w[2]), state.file.parent_path() / w[3], where};
      if (!std::filesystem::is_regular_file(f.source))
        error(where, "file {}: source {} is not a readable file", w[1], f.source.string());
      if (state.active) out_.files.push_back(f);
    } else if (key == "user") {
      if (w.size() < 6) error(where, "user: expected \"user NAME UID GID HOME SHELL [GECOS…]\"");
      check_name(where, "user", w[1]);
      Account a{w[1], parse_id(where, w[2], "uid"), parse_id(where, w[3], "gid"),
                check_path(where, w[4], false), check_path(where, w[5], false), ""};
      if (w.size() > 6) {
        std::vector<std::string> gecos(w.begin() + 6, w.end());
        a.gecos = join(gecos, " ");
      }
      if (a.gecos.find(':') != std::string::npos) error(where, "user {}: GECOS must not contain \":\"", a.name);
      if (state.active) {
        std::erase_if(out_.users, [&](auto& u) { return u.name == a.name; });
        out_.users.push_back(a);
        user_lines_.push_back({a.name, where});
      }
    } else if (key == "group") {
      expect_args(where, w, 2, 3, "group NAME GID [MEMBER,…]");
      check_name(where, "group", w[1]);
      Group g{w[1], parse_id(where, w[2], "gid"), {}};
      if (w.size() == 4) g.members = split(w[3], ',');
      if (state.active) {
        std::erase_if(out_.groups, [&](auto& x) { return x.name == g.name; });
        out_.groups.push_back(g);
      }
    } else if (key == "applets") {
      if (w.size() < 3) error(where, "applets: expected \"applets BINARY NAME…\"");
      AppletSet a{check_path(where, w[1], false), {w.begin() + 2, w.end()}, where};
      for (const auto& name : a.names)
        if (name.find('/') != std::string::npos || name == "." || name == "..")
          error(where, "applet \"{}\": a name, not a path", name);
      if (state.active) out_.applets.push_back(a);
    } else if (key == "generate") {
      expect_args(where, w, 1, 1, "generate NAME");
      const auto& known = known_generators();
      if (std::find(known.begin(), known.end(), w[1]) == known.end())
        error(where, "generate \"{}\": unknown generator (known: {})", w[1], join(known, ", "));
      if (state.active && std::find(out_.generators.begin(), out_.generators.end(), w[1]) == out_.generators.end())
        out_.generators.push_back(w[1]);
    } else if (key == "remove") {
      expect_args(where, w, 1, 1, "remove GLOB");
      check_path(where, w[1], true);
      if (w[1] == "/" || w[1] == "/**") error(where, "remove {}: refusing to remove the whole tree", w[1]);
      if (state.active) out_.removals.push_back({w[1], false, where});
    } else if (key == "config") {
      config(state, where, w, line);
    } else {
      error(where, "unknown directive \"{}\" (known: image, variant, description, include, release, package, "
                   "dir, symlink, file, user, group, applets, generate, bootstrap, remove, config)", key);
    }
  }

  void config(State& state, const SourceLine& where, const std::vector<std::string>& w, std::string_view line) {
    if (w.size() < 3) error(where, "config: expected \"config KEY VALUE\"");
    const std::string& field = w[1];
    size_t at = line.find(field, line.find("config") + 6) + field.size();
    std::string value(trim(line.substr(at)));
    auto& c = out_.config;
    auto key_value = [&](const char* what) {
      size_t eq = value.find('=');
      if (eq == 0 || eq == std::string::npos) error(where, "config {}: expected KEY=VALUE", what);
      return std::pair{value.substr(0, eq), value.substr(eq + 1)};
    };
    if (field == "user") {
      if (state.active) c.user = value;
    } else if (field == "workdir") {
      check_path(where, value, false);
      if (state.active) c.working_dir = value;
    } else if (field == "env") {
      auto [k, v] = key_value("env");
      if (state.active) {
        std::erase_if(c.env, [&k = k](auto& e) { return e.starts_with(k + "="); });
        c.env.push_back(value);
      }
    } else if (field == "label") {
      auto [k, v] = key_value("label");
      if (state.active) c.labels[k] = v;
    } else if (field == "cmd" || field == "entrypoint") {
      auto argv = parse_argv(where, value);
      if (state.active) (field == "cmd" ? c.cmd : c.entrypoint) = argv;
    } else if (field == "stop-signal") {
      if (state.active) c.stop_signal = value;
    } else {
      error(where, "config \"{}\": unknown key (known: user, workdir, env, label, cmd, entrypoint, stop-signal)",
            field);
    }
  }

 public:
  void validate(const std::filesystem::path& file) {
    SourceLine top{file, 0};
    auto whole = [&](const char* message) {
      fail(ErrorKind::invalid_argument, "{}: {}", file.string(), message);
    };
    if (out_.image.empty()) whole("no \"image NAME\" line: name the image this file defines");
    if (!out_.bootstrap.empty() && !out_.packages.empty())
      error(out_.packages.front().where, "package lines and \"bootstrap\" exclude each other: a bootstrapped "
                                         "image takes whole packages from mmdebstrap");
    if (out_.bootstrap.empty() && out_.packages.empty())
      whole("no package lines and no \"bootstrap\" line: the image would be empty");
    for (const auto& p : out_.packages) {
      // A package may be listed with no paths (to pin and label it, e.g. base-files
      // feeding os-release); an include-less rule set with only excludes is a mistake.
      bool has_include = std::any_of(p.rules.begin(), p.rules.end(), [](auto& r) { return !r.exclude; });
      if (!has_include && !p.rules.empty())
        error(p.where, "package {}: only \"!\" rules; add the paths to keep", p.name);
    }
    for (const auto& [name, where] : user_lines_) {
      auto u = std::find_if(out_.users.begin(), out_.users.end(), [&](auto& x) { return x.name == name; });
      if (u == out_.users.end()) continue;
      bool has_group = std::any_of(out_.groups.begin(), out_.groups.end(), [&](auto& g) { return g.gid == u->gid; });
      if (!has_group) error(where, "user {}: gid {} has no \"group\" line", name, u->gid);
    }
  }

 private:
  ImageDefinition& out_;
  std::string release_;
  std::vector<std::filesystem::path> stack_;
  std::vector<std::pair<std::string, SourceLine>> user_lines_;
};

}  // namespace

ImageDefinition load_definition(const std::filesystem::path& file, const std::string& release) {
  ImageDefinition out;
  out.file = file;
  out.release = release;
  Parser parser(out, release);
  parser.parse_file(file, true, nullptr);
  parser.validate(file);
  return out;
}

}  // namespace skiff::base
