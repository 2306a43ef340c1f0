// The options `skiff run` and `skiff create` share, bound to RunOptions.
#pragma once

#include <CLI/CLI.hpp>

#include "container/options.h"

namespace skiff::cli {

void add_run_options(CLI::App* command, container::RunOptions& options);
// Checks and completes what CLI11 cannot express (e.g. -t without a TTY).
void finish_run_options(container::RunOptions& options, const std::vector<std::string>& tail);

}  // namespace skiff::cli
