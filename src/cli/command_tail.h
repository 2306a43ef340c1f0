// `skiff run [OPTIONS] IMAGE [COMMAND [ARG…]]`: options stop at the image,
// as docker's (pflag's non-interspersed mode) do, so `skiff run nano ls -l`
// passes -l to ls. CLI11 has no such mode: the command line is split before
// it parses, using the command's own option table to know which options
// take a value.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace skiff::cli {

// Commands whose arguments after the first positional are the container's
// command, and how they are called in argv (e.g. {"run"}, {"container", "run"}).
struct TailCommand {
  std::vector<std::string> path;
};
const std::vector<TailCommand>& tail_commands();

// Removes the command tail from `args` (argv without argv[0]) and returns it.
// Leaves `args` untouched for other commands.
std::vector<std::string> split_command_tail(CLI::App& app, std::vector<std::string>& args);

}  // namespace skiff::cli
