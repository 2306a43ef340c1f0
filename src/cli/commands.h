// One registrar per command; each lives in its own file named after it.
#pragma once

#include "cli/context.h"

namespace skiff::cli {

void add_version_command(CLI::App& app, Context& context);
void add_info_command(CLI::App& app, Context& context);
void add_vm_command(CLI::App& app, Context& context);

}  // namespace skiff::cli
