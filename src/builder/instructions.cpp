// Typed instructions from the line-level syntax, and the grouping of
// instructions into stages (BuildKit's instructions package).
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "builder/syntax.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

struct KeywordInfo {
  const char* name;
  Keyword keyword;
};
constexpr KeywordInfo keywords[] = {
    {"FROM", Keyword::from},         {"ARG", Keyword::arg},
    {"ENV", Keyword::env},           {"LABEL", Keyword::label},
    {"RUN", Keyword::run},           {"COPY", Keyword::copy},
    {"ADD", Keyword::add},           {"WORKDIR", Keyword::workdir},
    {"USER", Keyword::user},         {"CMD", Keyword::cmd},
    {"ENTRYPOINT", Keyword::entrypoint}, {"EXPOSE", Keyword::expose},
    {"VOLUME", Keyword::volume},     {"STOPSIGNAL", Keyword::stopsignal},
    {"HEALTHCHECK", Keyword::healthcheck}, {"SHELL", Keyword::shell},
    {"ONBUILD", Keyword::onbuild},   {"MAINTAINER", Keyword::maintainer},
};

using syntax::ascii_lower;
using syntax::ascii_upper;

std::optional<Keyword> find_keyword(std::string_view word) {
  std::string upper = ascii_upper(word);
  for (const auto& info : keywords) {
    if (upper == info.name) return info.keyword;
  }
  return std::nullopt;
}

std::vector<std::string> keyword_names() {
  std::vector<std::string> names;
  for (const auto& info : keywords) names.emplace_back(info.name);
  return names;
}

// ---- instruction flags (BuildKit's BFlags) -----------------------------------

enum class FlagType { boolean, string, strings };
struct FlagSpec {
  const char* name;
  FlagType type;
};

class Flags {
 public:
  Flags(const std::vector<std::string>& given, std::initializer_list<FlagSpec> specs) {
    std::vector<std::string> known;
    for (const auto& spec : specs) known.emplace_back(spec.name);
    for (const auto& flag : given) {
      if (flag.rfind("--", 0) != 0) fail(ErrorKind::invalid_argument, "arg should start with -- : {}", flag);
      auto eq = flag.find('=');
      std::string name = flag.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      bool has_value = eq != std::string::npos;
      std::string value = has_value ? flag.substr(eq + 1) : std::string();
      const FlagSpec* spec = nullptr;
      for (const auto& candidate : specs) {
        if (name == candidate.name) spec = &candidate;
      }
      if (!spec) {
        std::string hint = closest_match(name, known);
        fail(ErrorKind::invalid_argument, "unknown flag: --{}{}", name,
             hint.empty() ? std::string() : " (did you mean --" + hint + "?)");
      }
      if (values_.count(name) && spec->type != FlagType::strings) {
        fail(ErrorKind::invalid_argument, "duplicate flag specified: --{}", name);
      }
      switch (spec->type) {
        case FlagType::boolean: {
          if (has_value && value.empty()) fail(ErrorKind::invalid_argument, "missing a value on flag: --{}", name);
          std::string lower = ascii_lower(value);
          if (lower != "" && lower != "true" && lower != "false") {
            fail(ErrorKind::invalid_argument, "expecting boolean value for flag --{}, not: {}", name, value);
          }
          values_[name].push_back(lower == "false" ? "false" : "true");
          break;
        }
        case FlagType::string:
        case FlagType::strings:
          if (!has_value) fail(ErrorKind::invalid_argument, "missing a value on flag: --{}", name);
          values_[name].push_back(value);
          break;
      }
    }
  }

  bool used(const std::string& name) const { return values_.count(name) != 0; }
  std::string string(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::string() : it->second.back();
  }
  std::vector<std::string> strings(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>() : it->second;
  }
  bool boolean(const std::string& name) const { return string(name) == "true"; }
  std::optional<bool> optional_boolean(const std::string& name) const {
    if (!used(name)) return std::nullopt;
    return boolean(name);
  }

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// ---- argument shapes -----------------------------------------------------------

struct MaybeJson {
  std::vector<std::string> args;
  bool json = false;
};

// RUN, CMD, ENTRYPOINT, SHELL: a JSON array of strings, else the whole text.
MaybeJson json_or_text(const std::string& rest) {
  if (rest.empty()) return {};
  if (auto array = syntax::parse_json_array(rest)) return {*array, true};
  return {{rest}, false};
}

// COPY, ADD, VOLUME: a JSON array of strings, else blank-separated words.
MaybeJson json_or_words(const std::string& rest) {
  if (auto array = syntax::parse_json_array(rest)) return {*array, true};
  return {syntax::split_blanks(rest), false};
}

// ENV and LABEL: "key value" (legacy) or key=value pairs.
std::vector<KeyValue> name_values(const std::string& rest, char escape, const char* keyword) {
  auto words = syntax::parse_words(rest, escape);
  if (words.empty()) fail(ErrorKind::invalid_argument, "{} requires at least one argument", keyword);
  std::vector<KeyValue> pairs;
  if (words[0].find('=') == std::string::npos) {
    auto parts = syntax::split_blanks(rest);
    if (parts.size() < 2) fail(ErrorKind::invalid_argument, "{} must have two arguments", keyword);
    // The value is the rest of the line after the name, spaces kept.
    size_t value_start = rest.find_first_not_of(" \t\v\f\r", parts[0].size());
    pairs.push_back({parts[0], rest.substr(value_start), true});
    return pairs;
  }
  for (const auto& word : words) {
    auto eq = word.find('=');
    if (eq == std::string::npos) {
      fail(ErrorKind::invalid_argument,
           "Syntax error - can't find = in \"{}\". Must be of the form: name=value", word);
    }
    if (eq == 0) fail(ErrorKind::invalid_argument, "{} names can not be blank", keyword);
    pairs.push_back({word.substr(0, eq), word.substr(eq + 1), false});
  }
  return pairs;
}

std::string one_argument(const std::string& rest, const char* keyword) {
  if (rest.empty()) fail(ErrorKind::invalid_argument, "{} requires exactly one argument", keyword);
  return rest;
}

void no_flags(const syntax::RawInstruction& raw) { Flags flags(raw.flags, {}); }

bool valid_octal_mode(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
}

// ---- per instruction -----------------------------------------------------------

FromInstruction build_from(const syntax::RawInstruction& raw, std::vector<std::string>& warnings) {
  Flags flags(raw.flags, {{"platform", FlagType::string}});
  auto args = syntax::split_blanks(raw.rest);
  FromInstruction from;
  from.platform = flags.string("platform");
  if (args.size() == 3 && ascii_lower(args[1]) == "as") {
    from.stage_name = ascii_lower(args[2]);
    static const std::regex valid_name("^[a-z][a-z0-9-_.]*$");
    if (!std::regex_match(from.stage_name, valid_name)) {
      fail(ErrorKind::invalid_argument,
           "invalid name for build stage: \"{}\", name can't start with a number or contain symbols", args[2]);
    }
    if (from.stage_name == "scratch" || from.stage_name == "context") {
      warnings.push_back(fmt::format("stage name \"{}\" is reserved", from.stage_name));
    }
  } else if (args.size() != 1) {
    fail(ErrorKind::invalid_argument, "FROM requires either one or three arguments (FROM image [AS name])");
  }
  from.image = args[0];
  return from;
}

ArgInstruction build_arg(const syntax::RawInstruction& raw, char escape) {
  no_flags(raw);
  auto words = syntax::parse_words(raw.rest, escape);
  if (words.empty()) fail(ErrorKind::invalid_argument, "ARG requires at least one argument");
  ArgInstruction arg;
  for (const auto& word : words) {
    auto eq = word.find('=');
    if (eq == 0) fail(ErrorKind::invalid_argument, "ARG names can not be blank");
    if (eq == std::string::npos) {
      arg.args.push_back({word, std::nullopt});
    } else {
      arg.args.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
  }
  return arg;
}

RunInstruction build_run(const syntax::RawInstruction& raw) {
  Flags flags(raw.flags, {{"mount", FlagType::strings},
                          {"network", FlagType::string},
                          {"security", FlagType::string},
                          {"device", FlagType::strings}});
  if (flags.used("device")) {
    fail(ErrorKind::unsupported, "RUN --device is not supported: build steps get no host devices");
  }
  RunInstruction run;
  run.network = flags.string("network");
  if (run.network == "default") run.network.clear();
  if (!run.network.empty() && run.network != "none" && run.network != "host") {
    fail(ErrorKind::invalid_argument, "unsupported network mode \"{}\" (use default, none or host)", run.network);
  }
  run.security = flags.string("security");
  if (run.security == "insecure") {
    fail(ErrorKind::unsupported,
         "RUN --security=insecure is not supported: build steps always run confined (seccomp, reduced capabilities)");
  }
  if (!run.security.empty() && run.security != "sandbox") {
    fail(ErrorKind::invalid_argument, "unsupported security mode \"{}\" (use sandbox)", run.security);
  }
  run.mounts = flags.strings("mount");
  for (const auto& spec : run.mounts) {
    // Specs with variables are checked once expanded.
    if (spec.find('$') == std::string::npos) {
      parse_mount(spec);
    } else {
      mount_from(spec);
    }
  }
  auto command = json_or_text(raw.rest);
  if (command.args.empty() || (!command.json && command.args[0].empty())) {
    fail(ErrorKind::invalid_argument, "RUN requires at least one argument");
  }
  run.command = {command.args, !command.json};
  run.heredocs = raw.heredocs;
  return run;
}

CopyInstruction build_copy(const syntax::RawInstruction& raw, bool add) {
  const char* name = add ? "ADD" : "COPY";
  CopyInstruction copy;
  copy.add = add;
  if (add) {
    Flags flags(raw.flags, {{"chown", FlagType::string},
                            {"chmod", FlagType::string},
                            {"link", FlagType::boolean},
                            {"keep-git-dir", FlagType::boolean},
                            {"checksum", FlagType::string},
                            {"unpack", FlagType::boolean},
                            {"exclude", FlagType::strings}});
    copy.chown = flags.string("chown");
    copy.chmod = flags.string("chmod");
    copy.link = flags.boolean("link");
    copy.keep_git_dir = flags.optional_boolean("keep-git-dir");
    copy.checksum = flags.string("checksum");
    copy.unpack = flags.optional_boolean("unpack");
    copy.excludes = flags.strings("exclude");
  } else {
    Flags flags(raw.flags, {{"from", FlagType::string},
                            {"chown", FlagType::string},
                            {"chmod", FlagType::string},
                            {"link", FlagType::boolean},
                            {"parents", FlagType::boolean},
                            {"exclude", FlagType::strings}});
    copy.from = flags.string("from");
    copy.chown = flags.string("chown");
    copy.chmod = flags.string("chmod");
    copy.link = flags.boolean("link");
    copy.parents = flags.boolean("parents");
    copy.excludes = flags.strings("exclude");
    if (flags.used("from") && copy.from.empty()) {
      fail(ErrorKind::invalid_argument, "COPY --from needs a stage name, a stage index or an image");
    }
  }
  if (!copy.chmod.empty() && copy.chmod.find('$') == std::string::npos && !valid_octal_mode(copy.chmod)) {
    fail(ErrorKind::invalid_argument, "invalid --chmod value \"{}\": give an octal mode such as 0755", copy.chmod);
  }
  auto args = json_or_words(raw.rest);
  copy.json_form = args.json;
  if (args.args.size() < 2) {
    fail(ErrorKind::invalid_argument,
         "{} requires at least two arguments, but only one was provided. Destination could not be determined", name);
  }
  copy.destination = args.args.back();
  args.args.pop_back();
  if (!args.json && syntax::heredoc_of_word(copy.destination)) {
    fail(ErrorKind::invalid_argument, "{} cannot accept a heredoc as a destination", name);
  }
  for (auto& source : args.args) {
    std::optional<Heredoc> heredoc;
    if (!args.json) heredoc = syntax::heredoc_of_word(source);
    if (!heredoc) {
      copy.sources.push_back(std::move(source));
      continue;
    }
    auto body = std::find_if(raw.heredocs.begin(), raw.heredocs.end(),
                             [&](const Heredoc& h) { return h.name == heredoc->name; });
    copy.inline_sources.push_back(body != raw.heredocs.end() ? *body : *heredoc);
  }
  return copy;
}

CommandLine build_command_line(const syntax::RawInstruction& raw, const char* name, bool allow_empty_exec) {
  no_flags(raw);
  auto command = json_or_text(raw.rest);
  if (!command.json && command.args.empty()) {
    fail(ErrorKind::invalid_argument, "{} requires at least one argument", name);
  }
  if (command.json && command.args.empty() && !allow_empty_exec) {
    fail(ErrorKind::invalid_argument, "{} [] has no command", name);
  }
  return {command.args, !command.json};
}

HealthcheckInstruction build_healthcheck(const syntax::RawInstruction& raw) {
  const std::string& rest = raw.rest;
  size_t sep = 0;
  while (sep < rest.size() && !std::isspace(static_cast<unsigned char>(rest[sep]))) ++sep;
  if (sep == 0) fail(ErrorKind::invalid_argument, "HEALTHCHECK requires at least one argument");
  std::string type = ascii_upper(rest.substr(0, sep));
  size_t next = rest.find_first_not_of(" \t\n\v\f\r", sep);
  std::string command_text = next == std::string::npos ? std::string() : rest.substr(next);

  HealthcheckInstruction health;
  if (type == "NONE") {
    if (!command_text.empty()) fail(ErrorKind::invalid_argument, "HEALTHCHECK NONE takes no arguments");
    // BuildKit ignores flags here; skiff refuses them, they could only be a mistake.
    if (!raw.flags.empty()) fail(ErrorKind::invalid_argument, "HEALTHCHECK NONE takes no flags");
    health.test = {"NONE"};
    return health;
  }
  Flags flags(raw.flags, {{"interval", FlagType::string},
                          {"timeout", FlagType::string},
                          {"start-period", FlagType::string},
                          {"start-interval", FlagType::string},
                          {"retries", FlagType::string}});
  if (type != "CMD") fail(ErrorKind::invalid_argument, "Unknown type \"{}\" in HEALTHCHECK (try CMD)", type);
  auto command = json_or_text(command_text);
  if (command.args.empty()) fail(ErrorKind::invalid_argument, "Missing command after HEALTHCHECK CMD");
  health.test.push_back(command.json ? "CMD" : "CMD-SHELL");
  health.test.insert(health.test.end(), command.args.begin(), command.args.end());

  auto interval = [&](const char* name) -> std::int64_t {
    std::string text = flags.string(name);
    if (text.empty()) return 0;
    std::int64_t ns = parse_duration(text);
    if (ns != 0 && ns < 1'000'000) {
      fail(ErrorKind::invalid_argument, "Interval \"{}\" cannot be less than 1ms", name);
    }
    return ns;
  };
  health.interval_ns = interval("interval");
  health.timeout_ns = interval("timeout");
  health.start_period_ns = interval("start-period");
  health.start_interval_ns = interval("start-interval");
  if (flags.used("retries")) {
    std::string text = flags.string("retries");
    char* end = nullptr;
    long long retries = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || retries > INT32_MAX || retries < INT32_MIN) {
      fail(ErrorKind::invalid_argument, "invalid --retries value \"{}\": give a whole number", text);
    }
    if (retries < 0) fail(ErrorKind::invalid_argument, "--retries cannot be negative ({})", retries);
    health.retries = static_cast<int>(retries);
  }
  return health;
}

OnbuildInstruction build_onbuild(const syntax::RawInstruction& raw, char escape, std::vector<std::string>& warnings) {
  no_flags(raw);
  if (raw.rest.empty()) fail(ErrorKind::invalid_argument, "ONBUILD requires at least one argument");
  syntax::RawInstruction child;
  syntax::split_command(raw.rest, escape, child);
  std::string trigger = ascii_upper(child.keyword);
  if (trigger == "ONBUILD") fail(ErrorKind::invalid_argument, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger == "FROM" || trigger == "MAINTAINER") {
    fail(ErrorKind::invalid_argument, "{} isn't allowed as an ONBUILD trigger", trigger);
  }
  child.heredocs = raw.heredocs;
  child.text = raw.rest;
  syntax::build_instruction(child, escape, warnings);  // validates the trigger now

  // The stored form is the text after ONBUILD with the heredoc bodies
  // appended, so that it parses again on its own.
  static const std::regex onbuild_prefix("^\\s*ONBUILD\\s*", std::regex::icase);
  OnbuildInstruction onbuild;
  onbuild.trigger = std::regex_replace(raw.text, onbuild_prefix, "", std::regex_constants::format_first_only);
  for (const auto& heredoc : raw.heredocs) onbuild.trigger += "\n" + heredoc.content + heredoc.name;
  return onbuild;
}

}  // namespace

const char* keyword_name(Keyword keyword) {
  for (const auto& info : keywords) {
    if (info.keyword == keyword) return info.name;
  }
  return "?";
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // Optimal string alignment distance (edits and adjacent transpositions).
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  std::string lower = ascii_lower(word);
  if (lower.size() > 64) return {};
  size_t limit = lower.size() <= 3 ? 1 : 2;
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    size_t d = distance(lower, ascii_lower(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

const Stage* Dockerfile::find_stage(std::string_view name) const {
  std::string lower = ascii_lower(name);
  for (const auto& stage : stages) {
    if (!stage.name.empty() && stage.name == lower) return &stage;
  }
  return nullptr;
}

namespace syntax {

Instruction build_instruction(const RawInstruction& raw, char escape, std::vector<std::string>& warnings) {
  auto keyword = find_keyword(raw.keyword);
  if (!keyword) {
    std::string hint = closest_match(raw.keyword, keyword_names());
    fail(ErrorKind::invalid_argument, "unknown instruction: {}{}", ascii_upper(raw.keyword),
         hint.empty() ? std::string() : " (did you mean " + hint + "?)");
  }
  Instruction instruction;
  instruction.keyword = *keyword;
  instruction.text = raw.text;
  instruction.lines = raw.lines;
  switch (*keyword) {
    case Keyword::from:
      instruction.body = build_from(raw, warnings);
      break;
    case Keyword::arg:
      instruction.body = build_arg(raw, escape);
      break;
    case Keyword::env:
      no_flags(raw);
      instruction.body = EnvInstruction{name_values(raw.rest, escape, "ENV")};
      break;
    case Keyword::label:
      no_flags(raw);
      instruction.body = LabelInstruction{name_values(raw.rest, escape, "LABEL")};
      break;
    case Keyword::run:
      instruction.body = build_run(raw);
      break;
    case Keyword::copy:
    case Keyword::add:
      instruction.body = build_copy(raw, *keyword == Keyword::add);
      break;
    case Keyword::workdir:
      no_flags(raw);
      instruction.body = WorkdirInstruction{one_argument(raw.rest, "WORKDIR")};
      break;
    case Keyword::user:
      no_flags(raw);
      instruction.body = UserInstruction{one_argument(raw.rest, "USER")};
      break;
    case Keyword::cmd:
      instruction.body = CmdInstruction{build_command_line(raw, "CMD", true)};
      break;
    case Keyword::entrypoint:
      instruction.body = EntrypointInstruction{build_command_line(raw, "ENTRYPOINT", true)};
      break;
    case Keyword::expose: {
      no_flags(raw);
      auto ports = split_blanks(raw.rest);
      if (ports.empty()) fail(ErrorKind::invalid_argument, "EXPOSE requires at least one argument");
      instruction.body = ExposeInstruction{ports};
      break;
    }
    case Keyword::volume: {
      no_flags(raw);
      auto paths = json_or_words(raw.rest);
      if (paths.args.empty()) fail(ErrorKind::invalid_argument, "VOLUME requires at least one argument");
      for (auto& path : paths.args) {
        auto first = path.find_first_not_of(" \t\n\v\f\r");
        if (first == std::string::npos) fail(ErrorKind::invalid_argument, "VOLUME specified can not be an empty string");
        path = path.substr(first, path.find_last_not_of(" \t\n\v\f\r") - first + 1);
      }
      instruction.body = VolumeInstruction{paths.args, paths.json};
      break;
    }
    case Keyword::stopsignal:
      no_flags(raw);
      instruction.body = StopSignalInstruction{one_argument(raw.rest, "STOPSIGNAL")};
      break;
    case Keyword::healthcheck:
      instruction.body = build_healthcheck(raw);
      break;
    case Keyword::shell: {
      no_flags(raw);
      auto shell = json_or_text(raw.rest);
      if (shell.args.empty()) fail(ErrorKind::invalid_argument, "SHELL requires at least one argument");
      if (!shell.json) {
        fail(ErrorKind::invalid_argument, "SHELL requires the arguments to be in JSON form: SHELL [\"executable\", \"parameters\"]");
      }
      instruction.body = ShellInstruction{shell.args};
      break;
    }
    case Keyword::onbuild:
      instruction.body = build_onbuild(raw, escape, warnings);
      break;
    case Keyword::maintainer:
      no_flags(raw);
      instruction.body = MaintainerInstruction{one_argument(raw.rest, "MAINTAINER")};
      warnings.push_back("MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=…");
      break;
  }
  return instruction;
}

}  // namespace syntax

Dockerfile parse_dockerfile(std::string_view text, std::string_view file_name) {
  auto raw = syntax::scan(text, file_name);
  Dockerfile dockerfile;
  dockerfile.file_name = std::string(file_name);
  dockerfile.escape = raw.escape;
  dockerfile.syntax = raw.syntax;
  dockerfile.check = raw.check;
  dockerfile.warnings = raw.warnings;
  if (raw.instructions.empty()) fail(ErrorKind::invalid_argument, "{}: file with no instructions", file_name);

  for (const auto& node : raw.instructions) {
    Instruction instruction;
    std::vector<std::string> warnings;
    try {
      instruction = syntax::build_instruction(node, raw.escape, warnings);
    } catch (const Error& e) {
      fail(e.kind(), "{}:{}: {}", file_name, node.lines.first, e.what());
    }
    for (const auto& warning : warnings) {
      dockerfile.warnings.push_back(fmt::format("{}:{}: {}", file_name, node.lines.first, warning));
    }
    if (instruction.keyword == Keyword::from) {
      Stage stage;
      stage.index = dockerfile.stages.size();
      stage.from = instruction.as<FromInstruction>();
      stage.name = stage.from.stage_name;
      // BuildKit only lints this (and the later stage wins); the classic
      // builder refused it, and so does skiff: it can only be a mistake.
      if (!stage.name.empty() && dockerfile.find_stage(stage.name)) {
        fail(ErrorKind::invalid_argument, "{}:{}: duplicate stage name \"{}\": stage names must be unique", file_name,
             node.lines.first, stage.name);
      }
      stage.from_instruction = std::move(instruction);
      dockerfile.stages.push_back(std::move(stage));
    } else if (dockerfile.stages.empty()) {
      if (instruction.keyword != Keyword::arg) {
        fail(ErrorKind::invalid_argument,
             "{}:{}: no build stage in current context: {} must come after a FROM (only ARG may precede the first FROM)",
             file_name, node.lines.first, keyword_name(instruction.keyword));
      }
      dockerfile.global_args.push_back(std::move(instruction));
    } else {
      dockerfile.stages.back().instructions.push_back(std::move(instruction));
    }
  }
  if (dockerfile.stages.empty()) {
    fail(ErrorKind::invalid_argument, "{}: no build stage: the file has no FROM instruction", file_name);
  }
  return dockerfile;
}

std::vector<Instruction> parse_onbuild_triggers(const std::vector<std::string>& triggers, std::string_view where) {
  std::vector<Instruction> out;
  for (size_t i = 0; i < triggers.size(); ++i) {
    // Triggers are parsed with the default escape character, as BuildKit does.
    syntax::RawDockerfile raw;
    try {
      raw = syntax::scan(triggers[i], "ONBUILD");
    } catch (const Error& e) {
      fail(e.kind(), "{}: ONBUILD trigger {} ({}): {}", where, i + 1, triggers[i], e.what());
    }
    for (const auto& node : raw.instructions) {
      std::vector<std::string> warnings;
      Instruction instruction;
      try {
        std::string keyword = ascii_upper(node.keyword);
        if (keyword == "ONBUILD" || keyword == "FROM" || keyword == "MAINTAINER") {
          fail(ErrorKind::invalid_argument, "{} isn't allowed as an ONBUILD trigger", keyword);
        }
        instruction = syntax::build_instruction(node, '\\', warnings);
      } catch (const Error& e) {
        fail(e.kind(), "{}: ONBUILD trigger {} ({}): {}", where, i + 1, node.text, e.what());
      }
      out.push_back(std::move(instruction));
    }
  }
  return out;
}

}  // namespace skiff::builder
