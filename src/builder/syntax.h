// Internal to the builder: the line-level syntax of a Dockerfile (BuildKit's
// parser package) between the raw text and typed instructions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builder/dockerfile.h"

namespace skiff::builder::syntax {

// ASCII case mapping: keywords, flags and names of the language are ASCII.
std::string ascii_lower(std::string_view text);
std::string ascii_upper(std::string_view text);

// One instruction after directives, comments and continuation lines are
// handled and its heredoc bodies are read.
struct RawInstruction {
  std::string keyword;             // as written: "run", "RUN"
  std::vector<std::string> flags;  // "--from=build", quotes and escapes removed
  std::string rest;                // the arguments after the flags, trimmed
  std::string text;                // the whole joined line
  SourceLines lines;
  std::vector<Heredoc> heredocs;
};

struct RawDockerfile {
  char escape = '\\';
  std::string syntax;
  std::string check;
  std::vector<RawInstruction> instructions;
  std::vector<std::string> warnings;
};

// Throws Error(invalid_argument) as "<file>:<line>: <what>".
RawDockerfile scan(std::string_view text, std::string_view file_name);

// Splits "RUN --mount=x echo hi" into keyword, flags and the rest.
void split_command(std::string_view line, char escape, RawInstruction& into);

// Words split on whitespace with quotes and escapes kept in the words (they
// are removed later by expansion): ENV, LABEL and ARG arguments.
std::vector<std::string> parse_words(std::string_view text, char escape);

// Splits on runs of blanks (space, tab, \v, \f, \r) as BuildKit's
// whitespace regex does.
std::vector<std::string> split_blanks(std::string_view text);

// The heredoc a single word introduces ("<<EOF", "<<-'END'", "3<<X"), body
// empty; nullopt if the word is not a heredoc.
std::optional<Heredoc> heredoc_of_word(std::string_view word);

// The heredocs a line introduces, in order, bodies empty.
std::vector<Heredoc> heredocs_in_line(std::string_view line);

// Parses a JSON array of strings. nullopt when the text is not a JSON array
// (the instruction then takes the shell form); throws invalid_argument for
// an array that holds anything but strings.
std::optional<std::vector<std::string>> parse_json_array(std::string_view text);

bool valid_utf8(std::string_view text);

// Builds the typed instruction; throws invalid_argument without a location.
Instruction build_instruction(const RawInstruction& raw, char escape, std::vector<std::string>& warnings);

}  // namespace skiff::builder::syntax
