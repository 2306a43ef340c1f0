// The Dockerfile language: parsing text into typed instructions grouped in
// stages. docker's Dockerfile reference is the specification; where the
// classic builder and BuildKit differ, skiff follows BuildKit (the comments
// in the .cpp files say where).
//
// Parsing does not expand variables: an instruction keeps the words as
// written (quotes included where expansion removes them later), because the
// values depend on ARG/ENV state that only evaluation (evaluate.h) knows.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace skiff::builder {

// 1-based line numbers of an instruction in its file, heredoc bodies included.
struct SourceLines {
  int first = 0;
  int last = 0;
};

struct Heredoc {
  std::string name;     // the delimiter, quotes removed: EOF for <<"EOF"
  std::string content;  // the body, each line with its '\n'; tabs stripped for <<-
  bool expand = true;   // false when any part of the delimiter was quoted
  bool chomp = false;   // <<- : leading tabs of body lines were stripped
  unsigned fd = 0;      // 3<<EOF: the descriptor the shell feeds it to (0: stdin)
};

// RUN / CMD / ENTRYPOINT / HEALTHCHECK CMD command lines.
struct CommandLine {
  // Exec form: the argv. Shell form: one element, the command text, which
  // runs through the stage's SHELL (["/bin/sh", "-c"] by default).
  std::vector<std::string> args;
  bool shell_form = false;
};

struct KeyValue {
  std::string key;
  std::string value;
  bool legacy_form = false;  // "ENV key value" rather than "ENV key=value"
};

struct FromInstruction {
  std::string image;       // as written: "debian:$VERSION", "builder", "scratch"
  std::string stage_name;  // the AS name, lowercased; "" without AS
  std::string platform;    // --platform, as written
};

struct ArgDefinition {
  std::string name;
  std::optional<std::string> default_value;  // as written (quotes kept)
};
struct ArgInstruction {
  std::vector<ArgDefinition> args;
};

struct EnvInstruction {
  std::vector<KeyValue> pairs;
};

struct LabelInstruction {
  std::vector<KeyValue> pairs;
};

// RUN --mount=… after parsing its comma-separated fields.
struct RunMount {
  enum class Type { bind, cache, tmpfs, secret, ssh };
  Type type = Type::bind;
  std::string from;    // stage name, index or image ("" : the build context)
  std::string source;  // path in `from`
  std::string target;  // path in the container
  bool read_only = true;
  std::int64_t size_limit = 0;  // tmpfs size in bytes, 0: none
  std::string id;               // cache or secret id
  std::string sharing;          // cache: shared | private | locked ("" : shared)
  bool required = false;        // secret, ssh
  std::optional<std::uint32_t> mode, uid, gid;
  std::optional<std::string> env;  // secret: expose as this environment variable
};
const char* mount_type_name(RunMount::Type type);

struct RunInstruction {
  CommandLine command;
  std::vector<Heredoc> heredocs;
  std::vector<std::string> mounts;  // --mount specs as written; parse_mount() after expansion
  std::string network;              // --network: "" (default), none, host
  std::string security;             // --security: "" or sandbox
};

// COPY and ADD.
struct CopyInstruction {
  bool add = false;
  std::vector<std::string> sources;      // paths, globs or (ADD) URLs, as written
  std::vector<Heredoc> inline_sources;   // COPY <<EOF /dest: heredocs that become files
  std::string destination;
  std::string from;                      // --from: stage name, stage index or image
  std::string chown;                     // --chown=user[:group]
  std::string chmod;                     // --chmod=0755 (octal)
  bool link = false;                     // --link
  bool parents = false;                  // --parents (COPY)
  std::vector<std::string> excludes;     // --exclude patterns
  std::string checksum;                  // --checksum (ADD)
  std::optional<bool> unpack;            // --unpack (ADD): overrides archive detection
  std::optional<bool> keep_git_dir;      // --keep-git-dir (ADD)
  bool json_form = false;
};

struct WorkdirInstruction {
  std::string path;
};

struct UserInstruction {
  std::string user;
};

struct CmdInstruction {
  CommandLine command;
};

struct EntrypointInstruction {
  CommandLine command;  // exec form with no args ("ENTRYPOINT []") clears it
};

struct ExposeInstruction {
  std::vector<std::string> ports;  // "80", "53/udp", "8000-8010/tcp", as written
};

struct VolumeInstruction {
  std::vector<std::string> paths;
  bool json_form = false;
};

struct StopSignalInstruction {
  std::string signal;
};

struct HealthcheckInstruction {
  // {"NONE"}, {"CMD", argv...} (exec form) or {"CMD-SHELL", text}.
  std::vector<std::string> test;
  std::int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

struct ShellInstruction {
  std::vector<std::string> shell;
};

struct OnbuildInstruction {
  // The trigger as stored in the image config: the text after ONBUILD, with
  // heredoc bodies appended (BuildKit's form), parsed again when triggered.
  std::string trigger;
};

struct MaintainerInstruction {
  std::string name;
};

enum class Keyword {
  from, arg, env, label, run, copy, add, workdir, user, cmd, entrypoint,
  expose, volume, stopsignal, healthcheck, shell, onbuild, maintainer,
};
// "FROM", "RUN", …
const char* keyword_name(Keyword keyword);

using InstructionBody =
    std::variant<FromInstruction, ArgInstruction, EnvInstruction, LabelInstruction, RunInstruction,
                 CopyInstruction, WorkdirInstruction, UserInstruction, CmdInstruction, EntrypointInstruction,
                 ExposeInstruction, VolumeInstruction, StopSignalInstruction, HealthcheckInstruction,
                 ShellInstruction, OnbuildInstruction, MaintainerInstruction>;

struct Instruction {
  Keyword keyword = Keyword::run;
  std::string text;  // as written, continuation lines joined (no heredoc bodies)
  SourceLines lines;
  InstructionBody body;

  template <typename T>
  const T& as() const { return std::get<T>(body); }
  template <typename T>
  T& as() { return std::get<T>(body); }
};

struct Stage {
  size_t index = 0;
  std::string name;  // lowercased AS name, "" if none
  FromInstruction from;
  Instruction from_instruction;
  std::vector<Instruction> instructions;  // after FROM
};

struct Dockerfile {
  std::string file_name = "Dockerfile";
  char escape = '\\';
  std::string syntax;  // "# syntax=" directive, informational (no frontends are fetched)
  std::string check;   // "# check=" directive, ignored
  std::vector<Instruction> global_args;  // ARGs before the first FROM
  std::vector<Stage> stages;
  // Non-fatal findings: "Dockerfile:7: empty continuation line", "MAINTAINER is deprecated".
  std::vector<std::string> warnings;

  // The stage named `name` (case-insensitive), or nullptr.
  const Stage* find_stage(std::string_view name) const;
};

// Parses a whole Dockerfile. Throws Error(invalid_argument) with
// "<file_name>:<line>: <what>", e.g.
//   Dockerfile:7: unknown instruction: RUNN (did you mean RUN?)
Dockerfile parse_dockerfile(std::string_view text, std::string_view file_name = "Dockerfile");

// Parses ONBUILD triggers stored in a base image's config (its
// config.OnBuild list) into the instructions they run, in order.
// FROM, ONBUILD and MAINTAINER are refused as triggers. `where` names the
// image in errors.
std::vector<Instruction> parse_onbuild_triggers(const std::vector<std::string>& triggers, std::string_view where);

// Parses one RUN --mount spec ("type=cache,target=/root/.cache"): its
// comma-separated fields are split first, then `expand_value` (if given)
// expands each value but from=, which may not hold variables. Throws
// invalid_argument naming the bad field.
RunMount parse_mount(std::string_view spec, const std::function<std::string(std::string_view)>& expand_value = {});

// The from= of a --mount spec ("" if none), without parsing the rest.
std::string mount_from(std::string_view spec);

// Parses a Go duration ("30s", "1m30s", "1.5h", "250ms") into nanoseconds,
// as HEALTHCHECK's flags take them. Throws invalid_argument.
std::int64_t parse_duration(std::string_view text);

// The closest of `candidates` to `word` within a small edit distance
// (case-insensitive), for "did you mean" hints; "" if none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace skiff::builder
