// The subcommands of `skiff system`, one file each.
#pragma once

#include "cli/context.h"

namespace skiff::cli {

void add_system_df(CLI::App& system, Context& context);
void add_system_prune(CLI::App& system, Context& context);

}  // namespace skiff::cli
