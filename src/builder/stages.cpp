#include "builder/stages.h"

#include <sys/utsname.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "builder/syntax.h"
#include "core/error.h"
#include "reference/reference.h"

namespace skiff::builder {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

[[noreturn]] void fail_at(const Dockerfile& dockerfile, const SourceLines& lines, const std::string& message,
                          ErrorKind kind = ErrorKind::invalid_argument) {
  fail(kind, "{}:{}: {}", dockerfile.file_name, lines.first, message);
}

}  // namespace

// ---- platforms and build args ---------------------------------------------------

Platform Platform::parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find('/', start);
    parts.push_back(syntax::ascii_lower(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  bool valid = parts.size() >= 2 && parts.size() <= 3;
  for (const auto& part : parts) {
    valid = valid && !part.empty() &&
            std::all_of(part.begin(), part.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; });
  }
  if (!valid) {
    fail(ErrorKind::invalid_argument, "invalid platform \"{}\": expected os/architecture[/variant] such as linux/amd64",
         text);
  }
  Platform platform;
  platform.os = parts[0];
  platform.architecture = parts[1];
  if (parts.size() == 3) platform.variant = parts[2];
  // containerd's normalisation of the common aliases
  if (platform.architecture == "x86_64" || platform.architecture == "x86-64") platform.architecture = "amd64";
  if (platform.architecture == "aarch64") platform.architecture = "arm64";
  if (platform.architecture == "arm64" && platform.variant == "v8") platform.variant.clear();
  return platform;
}

Platform Platform::host() {
  struct utsname name {};
  ::uname(&name);
  std::string machine = name.machine;
  Platform platform;
  if (machine == "x86_64") platform.architecture = "amd64";
  else if (machine == "aarch64" || machine == "arm64") platform.architecture = "arm64";
  else if (machine == "armv7l") platform = {"linux", "arm", "v7"};
  else if (machine == "armv6l") platform = {"linux", "arm", "v6"};
  else if (machine == "i386" || machine == "i686") platform.architecture = "386";
  else if (machine == "ppc64le" || machine == "s390x" || machine == "riscv64") platform.architecture = machine;
  else platform.architecture = machine;
  return platform;
}

std::string Platform::str() const {
  std::string text = os + "/" + architecture;
  if (!variant.empty()) text += "/" + variant;
  return text;
}

std::optional<std::pair<std::string, std::string>> parse_build_arg(
    std::string_view text, const std::function<const char*(const char*)>& environment) {
  auto eq = text.find('=');
  std::string name(text.substr(0, eq));
  if (name.empty()) fail(ErrorKind::invalid_argument, "--build-arg \"{}\": the name is empty (use NAME=value)", text);
  if (eq != std::string_view::npos) return std::pair{name, std::string(text.substr(eq + 1))};
  const char* value = environment ? environment(name.c_str()) : nullptr;
  if (!value) return std::nullopt;
  return std::pair{name, std::string(value)};
}

bool is_proxy_arg(std::string_view name) {
  static const char* const names[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                                      "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
}

std::vector<std::pair<std::string, std::string>> platform_args(const BuildOptions& options,
                                                               std::string_view target_stage) {
  const Platform& build = options.build_platform;
  const Platform& target = options.target_platform;
  std::vector<std::pair<std::string, std::string>> args = {
      {"BUILDPLATFORM", build.str()},   {"BUILDOS", build.os},
      {"BUILDOSVERSION", ""},           {"BUILDARCH", build.architecture},
      {"BUILDVARIANT", build.variant},  {"TARGETPLATFORM", target.str()},
      {"TARGETOS", target.os},          {"TARGETOSVERSION", ""},
      {"TARGETARCH", target.architecture}, {"TARGETVARIANT", target.variant},
      {"TARGETSTAGE", target_stage.empty() ? std::string("default") : std::string(target_stage)},
  };
  for (auto& [name, value] : args) {
    if (auto it = options.build_args.find(name); it != options.build_args.end()) value = it->second;
  }
  return args;
}

// ---- the stage graph ----------------------------------------------------------

bool BuildPlan::builds(size_t stage) const { return std::find(order.begin(), order.end(), stage) != order.end(); }

StageRef resolve_from(const Dockerfile& dockerfile, std::string_view from) {
  StageRef ref;
  if (all_digits(from)) {
    size_t index = from.size() > 6 ? SIZE_MAX : std::stoul(std::string(from));
    if (index >= dockerfile.stages.size()) {
      fail(ErrorKind::invalid_argument, "invalid stage index {} (the Dockerfile has {} stage{}, numbered from 0)", from,
           dockerfile.stages.size(), dockerfile.stages.size() == 1 ? "" : "s");
    }
    ref.kind = StageRef::Kind::stage;
    ref.stage = index;
    return ref;
  }
  if (const Stage* stage = dockerfile.find_stage(from)) {
    ref.kind = StageRef::Kind::stage;
    ref.stage = stage->index;
    return ref;
  }
  // Not a stage: an image. Validate now so a typo of a stage name fails here.
  try {
    Reference::parse(from, ReferencePolicy{"registry.invalid"});
  } catch (const Error& e) {
    std::vector<std::string> names;
    for (const auto& stage : dockerfile.stages) {
      if (!stage.name.empty()) names.push_back(stage.name);
    }
    std::string hint = closest_match(from, names);
    fail(ErrorKind::invalid_argument, "\"{}\" is neither a stage of the Dockerfile nor an image reference ({}){}", from,
         e.what(), hint.empty() ? std::string() : " (did you mean stage " + hint + "?)");
  }
  ref.kind = StageRef::Kind::image;
  ref.image = std::string(from);
  return ref;
}

BuildPlan plan_build(Dockerfile dockerfile, const BuildOptions& options) {
  for (const auto& [name, value] : options.build_args) {
    if (!syntax::valid_utf8(name) || !syntax::valid_utf8(value)) {
      fail(ErrorKind::invalid_argument, "--build-arg {}: not valid UTF-8 text", syntax::valid_utf8(name) ? name : "?");
    }
  }
  BuildPlan plan;
  plan.options = options;
  plan.dockerfile = std::move(dockerfile);
  const Dockerfile& df = plan.dockerfile;

  // The target first: TARGETSTAGE names it.
  if (options.target.empty()) {
    plan.target = df.stages.size() - 1;
  } else if (const Stage* stage = df.find_stage(options.target)) {
    plan.target = stage->index;
  } else {
    std::vector<std::string> names;
    for (const auto& stage : df.stages) {
      if (!stage.name.empty()) names.push_back(stage.name);
    }
    std::string hint = closest_match(options.target, names);
    if (!hint.empty()) {
      hint = " (did you mean " + hint + "?)";
    } else if (names.empty()) {
      hint = " (no stage has a name: use FROM image AS name)";
    } else {
      hint = " (stages: " + fmt::format("{}", fmt::join(names, ", ")) + ")";
    }
    fail(ErrorKind::invalid_argument, "{}: target stage \"{}\" could not be found{}", df.file_name, options.target, hint);
  }

  // Global scope: the platform args, then the ARGs before the first FROM
  // (a --build-arg overrides a default; a default may use earlier ones).
  for (auto& [name, value] : platform_args(options, df.stages[plan.target].name)) plan.global_args.set(name, value);
  std::set<std::string> declared;
  for (const auto& instruction : df.global_args) {
    for (const auto& arg : instruction.as<ArgInstruction>().args) {
      declared.insert(arg.name);
      if (auto given = options.build_args.find(arg.name); given != options.build_args.end()) {
        plan.global_args.set(arg.name, given->second);
      } else if (arg.default_value) {
        try {
          plan.global_args.set(arg.name, expand_word(*arg.default_value, plan.global_args, {df.escape}));
        } catch (const Error& e) {
          fail_at(df, instruction.lines, e.what());
        }
      }
    }
  }

  LexOptions lex{df.escape};
  for (const auto& stage : df.stages) {
    StagePlan sp;
    sp.index = stage.index;
    sp.name = stage.name;
    sp.display_name = stage.name.empty() ? "stage-" + std::to_string(stage.index) : stage.name;
    const SourceLines& at = stage.from_instruction.lines;

    // FROM sees only the global scope.
    std::string base;
    try {
      base = expand_word(stage.from.image, plan.global_args, lex);
    } catch (const Error& e) {
      fail_at(df, at, e.what());
    }
    if (base.empty()) fail_at(df, at, fmt::format("base name ({}) should not be blank", stage.from.image));
    if (base == "scratch") {
      sp.base.kind = StageRef::Kind::scratch;
    } else if (const Stage* parent = df.find_stage(base); parent && parent->index < stage.index) {
      // Only an earlier stage: a later name is an image, as in BuildKit.
      sp.base.kind = StageRef::Kind::stage;
      sp.base.stage = parent->index;
    } else {
      try {
        Reference::parse(base, ReferencePolicy{"registry.invalid"});
      } catch (const Error& e) {
        fail_at(df, at, fmt::format("FROM {}: {}", base, e.what()));
      }
      sp.base.kind = StageRef::Kind::image;
      sp.base.image = base;
    }
    if (!stage.from.platform.empty()) {
      try {
        std::string text = expand_word(stage.from.platform, plan.global_args, lex);
        if (text.empty()) fail(ErrorKind::invalid_argument, "empty platform value from expression {}", stage.from.platform);
        sp.platform = Platform::parse(text);
      } catch (const Error& e) {
        fail_at(df, at, e.what());
      }
    }

    std::set<size_t> deps;
    std::set<std::string> images;
    if (sp.base.kind == StageRef::Kind::stage) deps.insert(sp.base.stage);
    auto add_source = [&](const Instruction& instruction, const std::string& from) {
      if (from.empty()) return;
      try {
        if (expand_word(from, {}, lex) != from) {
          fail(ErrorKind::invalid_argument,
               "variable expansion is not supported for --from, define a new stage with FROM using ARG from global "
               "scope as a workaround");
        }
        StageRef ref = resolve_from(df, from);
        if (ref.kind == StageRef::Kind::stage) {
          deps.insert(ref.stage);
        } else {
          images.insert(ref.image);
        }
      } catch (const Error& e) {
        fail_at(df, instruction.lines, e.what());
      }
    };
    for (const auto& instruction : stage.instructions) {
      if (instruction.keyword == Keyword::copy) add_source(instruction, instruction.as<CopyInstruction>().from);
      if (instruction.keyword == Keyword::run) {
        for (const auto& spec : instruction.as<RunInstruction>().mounts) {
          std::string from;
          try {
            from = mount_from(spec);
          } catch (const Error& e) {
            fail_at(df, instruction.lines, e.what());
          }
          add_source(instruction, from);
        }
      }
    }
    sp.depends_on.assign(deps.begin(), deps.end());
    sp.images.assign(images.begin(), images.end());
    plan.stages.push_back(std::move(sp));
  }

  // Cycles (COPY --from may name a later stage, as in BuildKit).
  {
    enum class Mark { none, active, done };
    std::vector<Mark> marks(plan.stages.size(), Mark::none);
    std::function<void(size_t)> visit = [&](size_t s) {
      if (marks[s] == Mark::done) return;
      if (marks[s] == Mark::active) {
        const Stage& stage = df.stages[s];
        fail_at(df, stage.from_instruction.lines,
                fmt::format("circular dependency detected on stage: {}", plan.stages[s].display_name));
      }
      marks[s] = Mark::active;
      for (size_t dep : plan.stages[s].depends_on) visit(dep);
      marks[s] = Mark::done;
    };
    for (size_t s = 0; s < plan.stages.size(); ++s) visit(s);
  }

  // The stages the target needs, dependencies first, and their waves.
  std::vector<bool> needed(plan.stages.size(), false);
  std::function<void(size_t)> need = [&](size_t s) {
    if (needed[s]) return;
    needed[s] = true;
    for (size_t dep : plan.stages[s].depends_on) need(dep);
  };
  need(plan.target);
  std::vector<int> level(plan.stages.size(), -1);
  std::function<int(size_t)> level_of = [&](size_t s) -> int {
    if (level[s] >= 0) return level[s];
    int l = 0;
    for (size_t dep : plan.stages[s].depends_on) l = std::max(l, level_of(dep) + 1);
    return level[s] = l;
  };
  int max_level = -1;
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    if (needed[s]) max_level = std::max(max_level, level_of(s));
  }
  plan.levels.resize(static_cast<size_t>(max_level + 1));
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    if (needed[s]) plan.levels[static_cast<size_t>(level[s])].push_back(s);
  }
  for (const auto& wave : plan.levels) plan.order.insert(plan.order.end(), wave.begin(), wave.end());

  // --build-arg values no ARG of the build declares.
  for (size_t s : plan.order) {
    for (const auto& instruction : df.stages[s].instructions) {
      if (instruction.keyword != Keyword::arg) continue;
      for (const auto& arg : instruction.as<ArgInstruction>().args) declared.insert(arg.name);
    }
  }
  std::set<std::string> builtin;
  for (const auto& [name, value] : platform_args(options, "")) builtin.insert(name);
  for (const auto& [name, value] : options.build_args) {
    if (!declared.count(name) && !is_proxy_arg(name) && !builtin.count(name)) plan.unused_build_args.push_back(name);
  }
  if (!plan.unused_build_args.empty()) {
    std::string list;
    for (const auto& name : plan.unused_build_args) list += (list.empty() ? "" : " ") + name;
    plan.warnings.push_back(fmt::format("[Warning] One or more build-args [{}] were not consumed", list));
  }
  return plan;
}

}  // namespace skiff::builder
