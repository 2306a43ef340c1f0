#include "builder/evaluate.h"

#include <algorithm>

#include "builder/dockerignore.h"
#include "builder/syntax.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

bool valid_octal_mode(std::string_view text) {
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
}

bool is_remote_source(std::string_view source) {
  auto starts = [&](std::string_view prefix) { return source.substr(0, prefix.size()) == prefix; };
  return starts("http://") || starts("https://") || starts("git@") || starts("git://") || starts("ssh://");
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(separator) : std::string()) + parts[i];
  return out;
}

// COPY's destination against WORKDIR; a trailing "/" (or "." ) means
// "into this directory" and is kept.
std::string resolve_destination(std::string_view workdir, std::string_view destination) {
  std::string dest(destination);
  if (dest.empty() || dest == ".") dest = "./";
  bool into_directory = dest.back() == '/' || (dest.size() >= 2 && dest.substr(dest.size() - 2) == "/.");
  std::string absolute = dest[0] == '/' ? dest : (workdir.empty() ? std::string("/") : std::string(workdir)) + "/" + dest;
  std::string cleaned = clean_path(absolute);
  if (into_directory && cleaned != "/") cleaned += "/";
  return cleaned;
}

Json mount_json(const RunMount& mount) {
  Json json = {{"type", mount_type_name(mount.type)}, {"target", mount.target}, {"readonly", mount.read_only}};
  if (!mount.from.empty()) json["from"] = mount.from;
  if (!mount.source.empty()) json["source"] = mount.source;
  if (mount.size_limit) json["size"] = mount.size_limit;
  if (!mount.id.empty()) json["id"] = mount.id;
  if (!mount.sharing.empty()) json["sharing"] = mount.sharing;
  if (mount.required) json["required"] = true;
  if (mount.mode) json["mode"] = *mount.mode;
  if (mount.uid) json["uid"] = *mount.uid;
  if (mount.gid) json["gid"] = *mount.gid;
  if (mount.env) json["env"] = *mount.env;
  return json;
}

std::string key_values(const std::vector<KeyValue>& pairs) {
  std::string out;
  for (const auto& pair : pairs) out += " " + pair.key + "=" + pair.value;
  return out;
}

}  // namespace

StageEvaluator::StageEvaluator(const BuildPlan& plan, size_t stage, Json base_image)
    : plan_(plan), stage_(stage), image_(std::move(base_image)) {
  if (!image_.is_object()) image_ = Json::object();
  if (!image_.contains("config") || !image_["config"].is_object()) image_["config"] = Json::object();
  Json& config = image_["config"];
  std::vector<std::string> env;
  if (config.contains("Env") && config["Env"].is_array()) {
    for (const auto& entry : config["Env"]) {
      if (entry.is_string()) env.push_back(entry.get<std::string>());
    }
  }
  variables_ = Variables::from_env(env);
  if (config.contains("OnBuild")) {
    std::vector<std::string> triggers;
    if (config["OnBuild"].is_array()) {
      for (const auto& trigger : config["OnBuild"]) {
        if (trigger.is_string()) triggers.push_back(trigger.get<std::string>());
      }
    }
    const StagePlan& sp = plan_.stages.at(stage_);
    std::string where = fmt::format("{}:{}: base image of stage {}", plan_.dockerfile.file_name,
                                    plan_.dockerfile.stages.at(stage_).from_instruction.lines.first, sp.display_name);
    triggers_ = parse_onbuild_triggers(triggers, where);
    config.erase("OnBuild");
  }
}

std::vector<StageRef> StageEvaluator::trigger_sources() const {
  std::vector<StageRef> sources;
  for (const auto& trigger : triggers_) {
    std::vector<std::string> froms;
    if (trigger.keyword == Keyword::copy) froms.push_back(trigger.as<CopyInstruction>().from);
    if (trigger.keyword == Keyword::run) {
      for (const auto& spec : trigger.as<RunInstruction>().mounts) froms.push_back(mount_from(spec));
    }
    for (const auto& from : froms) {
      if (!from.empty()) sources.push_back(resolve_from(plan_.dockerfile, from));
    }
  }
  return sources;
}

void StageEvaluator::note_used(const Expansion& expansion, Step& step) const {
  for (const auto& name : expansion.matched) {
    for (const auto& [arg, value] : args_) {
      const std::string* current = variables_.get(name);
      if (arg != name || !value || !current || *current != *value) continue;
      if (std::find_if(step.args.begin(), step.args.end(), [&](const auto& a) { return a.first == name; }) ==
          step.args.end()) {
        step.args.emplace_back(name, *value);
      }
    }
  }
  std::sort(step.args.begin(), step.args.end());
}

std::string StageEvaluator::expand(std::string_view text, Step& step) const {
  Expansion expansion = builder::expand(text, variables_, {plan_.dockerfile.escape});
  note_used(expansion, step);
  return expansion.word;
}

std::vector<std::string> StageEvaluator::expand_words_of(std::string_view text, Step& step) const {
  Expansion expansion = builder::expand(text, variables_, {plan_.dockerfile.escape});
  note_used(expansion, step);
  return expansion.words;
}

std::vector<std::pair<std::string, std::string>> StageEvaluator::declared_args() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : args_) {
    if (value) out.emplace_back(name, *value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Step StageEvaluator::next(const Instruction& instruction) {
  try {
    return evaluate(instruction);
  } catch (const Error& e) {
    fail(e.kind(), "{}:{}: {}", plan_.dockerfile.file_name, instruction.lines.first, e.what());
  }
}

Step StageEvaluator::evaluate(const Instruction& original) {
  Step step;
  step.stage = stage_;
  step.instruction = original;
  Instruction& instruction = step.instruction;
  Json& config = image_["config"];
  const std::string keyword = keyword_name(instruction.keyword);

  switch (instruction.keyword) {
    case Keyword::from:
      fail(ErrorKind::internal, "FROM is not a step of a stage");

    case Keyword::env:
    case Keyword::label: {
      // Every value is expanded with the variables as they were before the
      // instruction: "ENV a=1 b=$a" gives b the previous a.
      auto& pairs = instruction.keyword == Keyword::env ? instruction.as<EnvInstruction>().pairs
                                                        : instruction.as<LabelInstruction>().pairs;
      for (auto& pair : pairs) {
        pair.key = expand(pair.key, step);
        pair.value = expand(pair.value, step);
        if (pair.key.empty()) fail(ErrorKind::invalid_argument, "{} names can not be blank", keyword);
      }
      if (instruction.keyword == Keyword::env) {
        for (const auto& pair : pairs) variables_.set(pair.key, pair.value);
      }
      apply_to_config(image_, instruction, state_);
      step.created_by = keyword + key_values(pairs);
      break;
    }

    case Keyword::arg: {
      std::vector<std::string> shown;
      for (auto& arg : instruction.as<ArgInstruction>().args) {
        std::optional<std::string> value;
        if (auto given = plan_.options.build_args.find(arg.name); given != plan_.options.build_args.end()) {
          value = given->second;
        } else if (arg.default_value) {
          value = expand(*arg.default_value, step);
        } else if (const std::string* global = plan_.global_args.get(arg.name)) {
          value = *global;  // an ARG before FROM, redeclared here
        }
        arg.default_value = value;
        auto existing = std::find_if(args_.begin(), args_.end(), [&](const auto& a) { return a.first == arg.name; });
        if (value) {
          variables_.set(arg.name, *value);
          if (existing != args_.end()) {
            existing->second = value;
          } else {
            args_.emplace_back(arg.name, value);
          }
        } else if (existing == args_.end()) {
          args_.emplace_back(arg.name, std::nullopt);
        }
        shown.push_back(value ? arg.name + "=" + *value : arg.name);
      }
      step.args.clear();  // declaring is not using
      step.created_by = "ARG " + join(shown, " ");
      break;
    }

    case Keyword::workdir: {
      auto& workdir = instruction.as<WorkdirInstruction>();
      workdir.path = expand(workdir.path, step);
      apply_to_config(image_, instruction, state_);
      std::string resolved = config.value("WorkingDir", std::string("/"));
      step.layer = resolved != "/";
      step.cache_input = {{"op", "WORKDIR"}, {"path", resolved}, {"user", config.value("User", std::string())}};
      step.created_by = "WORKDIR " + resolved;
      break;
    }

    case Keyword::user: {
      auto& user = instruction.as<UserInstruction>();
      user.user = expand(user.user, step);
      if (user.user.empty()) fail(ErrorKind::invalid_argument, "USER requires a non-empty user name");
      apply_to_config(image_, instruction, state_);
      step.created_by = "USER " + user.user;
      break;
    }

    case Keyword::volume: {
      auto& volume = instruction.as<VolumeInstruction>();
      for (auto& path : volume.paths) path = expand(path, step);
      apply_to_config(image_, instruction, state_);
      step.created_by = "VOLUME [" + join(volume.paths, " ") + "]";
      break;
    }

    case Keyword::stopsignal: {
      auto& signal = instruction.as<StopSignalInstruction>();
      signal.signal = expand(signal.signal, step);
      apply_to_config(image_, instruction, state_);
      step.created_by = "STOPSIGNAL " + signal.signal;
      break;
    }

    case Keyword::expose: {
      auto& expose = instruction.as<ExposeInstruction>();
      std::vector<std::string> ports;
      for (const auto& spec : expose.ports) {
        for (auto& word : expand_words_of(spec, step)) ports.push_back(std::move(word));
      }
      expose.ports = ports;
      apply_to_config(image_, instruction, state_);
      std::vector<std::string> exposed;
      for (const auto& spec : ports) {
        for (auto& port : parse_exposed_ports(spec)) exposed.push_back(std::move(port));
      }
      step.created_by = "EXPOSE " + join(exposed, " ");
      break;
    }

    // Not expanded by the builder (the container's shell expands them), or
    // taken literally (ONBUILD, MAINTAINER, HEALTHCHECK, SHELL).
    case Keyword::cmd:
    case Keyword::entrypoint:
    case Keyword::healthcheck:
    case Keyword::shell:
    case Keyword::onbuild:
    case Keyword::maintainer: {
      apply_to_config(image_, instruction, state_);
      const char* field = instruction.keyword == Keyword::cmd          ? "Cmd"
                          : instruction.keyword == Keyword::entrypoint ? "Entrypoint"
                          : instruction.keyword == Keyword::healthcheck ? "Healthcheck"
                          : instruction.keyword == Keyword::shell      ? "Shell"
                                                                       : nullptr;
      if (field && config.contains(field)) {
        step.created_by = keyword + " " + config[field].dump(-1, ' ', false, Json::error_handler_t::replace);
      } else {
        step.created_by = instruction.text;
      }
      break;
    }

    case Keyword::run: {
      auto& run_instruction = instruction.as<RunInstruction>();
      RunStep run;
      for (const auto& spec : run_instruction.mounts) {
        RunMount mount = parse_mount(spec, [&](std::string_view value) { return expand(value, step); });
        run.mount_sources.push_back(mount.from.empty() ? std::nullopt
                                                       : std::optional(resolve_from(plan_.dockerfile, mount.from)));
        run.mounts.push_back(std::move(mount));
      }
      run.network = run_instruction.network;
      run.security = run_instruction.security;

      // Heredocs, as BuildKit runs them: "RUN <<EOF" alone runs the body
      // (as a file when it starts with "#!"), anything else hands the shell
      // the command followed by the bodies.
      std::vector<std::string> args = run_instruction.command.args;
      const auto& heredocs = run_instruction.heredocs;
      if (!heredocs.empty()) {
        if (args.size() != 1 || !run_instruction.command.shell_form) {
          fail(ErrorKind::invalid_argument, "parsing produced an invalid run command");
        }
        if (syntax::heredoc_of_word(args[0])) {
          const Heredoc& only = heredocs[0];
          if (only.content.rfind("#!", 0) == 0) {
            std::string path = "/dev/pipes/" + only.name;
            run.files.push_back({path, only.content, 0755});
            args = {path};
          } else {
            args = {only.content};
          }
        } else {
          std::string text = args[0];
          for (const auto& heredoc : heredocs) text += "\n" + heredoc.content + heredoc.name;
          args = {text};
        }
      }
      run.argv = with_shell(image_, CommandLine{args, run_instruction.command.shell_form});

      Variables env = variables_;
      if (!env.contains("PATH")) env.set("PATH", default_path_env());
      run.env = env.to_env();
      run.user = config.value("User", std::string());
      run.workdir = config.value("WorkingDir", std::string());
      if (run.workdir.empty()) run.workdir = "/";
      step.args = declared_args();

      Json mounts = Json::array();
      for (const auto& mount : run.mounts) mounts.push_back(mount_json(mount));
      Json files = Json::array();
      for (const auto& file : run.files) files.push_back({{"path", file.path}, {"content", file.content}, {"mode", file.mode}});
      step.cache_input = {{"op", "RUN"},           {"argv", run.argv},       {"env", run.env},
                          {"user", run.user},       {"workdir", run.workdir}, {"mounts", mounts},
                          {"network", run.network}, {"security", run.security}, {"files", files}};

      // Proxy settings reach the process but not the cache key or history.
      for (const auto& [name, value] : plan_.options.build_args) {
        bool declared = std::any_of(args_.begin(), args_.end(), [&](const auto& a) { return a.first == name; });
        if (is_proxy_arg(name) && !declared) run.env.push_back(name + "=" + value);
      }

      std::string prefix;
      if (!step.args.empty()) {
        prefix = "|" + std::to_string(step.args.size());
        for (const auto& [name, value] : step.args) prefix += " " + name + "=" + value;
        prefix += " ";
      }
      step.created_by = "RUN " + prefix + join(run.argv, " ") + " # buildkit";
      step.layer = true;
      step.run = std::move(run);
      break;
    }

    case Keyword::copy:
    case Keyword::add: {
      auto& source = instruction.as<CopyInstruction>();
      CopyStep copy;
      copy.add = source.add;
      for (auto& path : source.sources) path = expand(path, step);
      source.destination = expand(source.destination, step);
      source.chown = expand(source.chown, step);
      source.chmod = expand(source.chmod, step);
      source.checksum = expand(source.checksum, step);
      if (!source.chmod.empty() && !valid_octal_mode(source.chmod)) {
        fail(ErrorKind::invalid_argument, "invalid --chmod value \"{}\": give an octal mode such as 0755", source.chmod);
      }
      for (const auto& path : source.sources) {
        if (source.add && is_remote_source(path)) {
          fail(ErrorKind::unsupported,
               "ADD {}: downloading URLs and git repositories is not supported yet (builds have no network policy for "
               "sources): fetch it in a RUN step, or put it in the build context and COPY it",
               path);
        }
      }
      if (!source.checksum.empty()) {
        fail(ErrorKind::invalid_argument, "checksum can't be specified for non-HTTP(S) sources");
      }
      // Heredoc files: their bodies are expanded unless the delimiter was
      // quoted. BuildKit does this with quotes left alone but escapes
      // processed ("\x" becomes "x"); so does skiff.
      for (auto& heredoc : source.inline_sources) {
        if (!heredoc.expand) continue;
        LexOptions raw;
        raw.skip_quotes = true;
        Expansion expansion = builder::expand(heredoc.content, variables_, raw);
        note_used(expansion, step);
        heredoc.content = expansion.word;
      }
      if (!source.from.empty()) {
        StageRef ref = resolve_from(plan_.dockerfile, source.from);
        copy.from = ref.kind == StageRef::Kind::stage ? CopyStep::From::stage : CopyStep::From::image;
        copy.stage = ref.stage;
        copy.image = ref.image;
        copy.keep_ownership = true;
      }
      copy.sources = source.sources;
      copy.inline_sources = source.inline_sources;
      copy.destination = resolve_destination(config.value("WorkingDir", std::string("/")), source.destination);
      copy.chown = source.chown;
      copy.chmod = source.chmod;
      copy.link = source.link;
      copy.parents = source.parents;
      copy.excludes = source.excludes;
      copy.unpack = source.unpack;

      Json inline_files = Json::array();
      for (const auto& heredoc : copy.inline_sources) {
        inline_files.push_back({{"name", heredoc.name}, {"content", heredoc.content}});
      }
      Json from = {{"kind", copy.from == CopyStep::From::context ? "context"
                            : copy.from == CopyStep::From::stage ? "stage"
                                                                 : "image"}};
      if (copy.from == CopyStep::From::image) from["image"] = copy.image;
      step.cache_input = {{"op", keyword},        {"from", from},          {"sources", copy.sources},
                          {"inline", inline_files}, {"destination", copy.destination},
                          {"chown", copy.chown},  {"chmod", copy.chmod},   {"link", copy.link},
                          {"parents", copy.parents}, {"excludes", copy.excludes}};
      if (copy.unpack) step.cache_input["unpack"] = *copy.unpack;

      std::string flags;
      if (!source.from.empty()) flags += " --from=" + source.from;
      if (!copy.chown.empty()) flags += " --chown=" + copy.chown;
      if (!copy.chmod.empty()) flags += " --chmod=" + copy.chmod;
      if (copy.link) flags += " --link";
      std::vector<std::string> names = copy.sources;
      for (const auto& heredoc : copy.inline_sources) names.push_back("<<" + heredoc.name);
      step.created_by = keyword + flags + " " + join(names, " ") + " " + copy.destination + " # buildkit";
      step.layer = true;
      step.copy = std::move(copy);
      break;
    }
  }
  return step;
}

StageResult evaluate_stage(const BuildPlan& plan, size_t stage, Json base_image) {
  StageEvaluator evaluator(plan, stage, std::move(base_image));
  StageResult result;
  for (const auto& trigger : evaluator.triggers()) result.steps.push_back(evaluator.next(trigger));
  for (const auto& instruction : plan.dockerfile.stages.at(stage).instructions) {
    result.steps.push_back(evaluator.next(instruction));
  }
  result.image = evaluator.image();
  return result;
}

}  // namespace skiff::builder
