#include "cli/command_tail.h"

namespace skiff::cli {

const std::vector<TailCommand>& tail_commands() {
  static const std::vector<TailCommand> commands = {{{"run"}}, {{"create"}}, {{"exec"}}};
  return commands;
}

namespace {

bool takes_value(const CLI::Option* option) { return option != nullptr && option->get_items_expected_min() > 0; }

// Global options that take a value, before the command name.
bool global_takes_value(CLI::App& app, const std::string& word) {
  if (!word.starts_with("--") || word.find('=') != std::string::npos) return false;
  return takes_value(app.get_option_no_throw(word));
}

}  // namespace

std::vector<std::string> split_command_tail(CLI::App& app, std::vector<std::string>& args) {
  // Find the command words.
  size_t i = 0;
  for (; i < args.size(); ++i) {
    if (!args[i].starts_with("-")) break;
    if (global_takes_value(app, args[i])) ++i;
  }
  const TailCommand* match = nullptr;
  CLI::App* command = nullptr;
  for (const auto& candidate : tail_commands()) {
    if (i + candidate.path.size() > args.size()) continue;
    bool same = true;
    for (size_t k = 0; k < candidate.path.size(); ++k) same = same && args[i + k] == candidate.path[k];
    if (!same) continue;
    CLI::App* sub = &app;
    for (const auto& name : candidate.path) sub = sub ? sub->get_subcommand_ptr(name).get() : nullptr;
    if (sub) {
      match = &candidate;
      command = sub;
      break;
    }
  }
  if (!match) return {};

  for (size_t j = i + match->path.size(); j < args.size(); ++j) {
    const std::string& word = args[j];
    if (word == "--") {
      // "run [OPTIONS] -- IMAGE CMD…": only ends the options; the image stays for CLI11.
      args.erase(args.begin() + static_cast<long>(j));
      if (j + 1 >= args.size()) return {};
      std::vector<std::string> tail(args.begin() + static_cast<long>(j) + 1, args.end());
      args.erase(args.begin() + static_cast<long>(j) + 1, args.end());
      return tail;
    }
    if (word.starts_with("--")) {
      if (word.find('=') == std::string::npos && takes_value(command->get_option_no_throw(word))) ++j;
      continue;
    }
    if (word.starts_with("-") && word.size() > 1) {
      // Short options may be combined (-it); one taking a value ends the group.
      for (size_t c = 1; c < word.size(); ++c) {
        if (takes_value(command->get_option_no_throw(std::string("-") + word[c]))) {
          if (c + 1 == word.size()) ++j;
          break;
        }
      }
      continue;
    }
    // The first positional (the image or container): the rest is the command.
    std::vector<std::string> tail(args.begin() + static_cast<long>(j) + 1, args.end());
    args.erase(args.begin() + static_cast<long>(j) + 1, args.end());
    return tail;
  }
  return {};
}

}  // namespace skiff::cli
