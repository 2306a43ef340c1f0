// One registrar per command; each lives in its own file named after it.
#pragma once

#include "cli/context.h"

namespace skiff::cli {

void add_version_command(CLI::App& app, Context& context);
void add_info_command(CLI::App& app, Context& context);
void add_system_command(CLI::App& app, Context& context);
void add_pull_command(CLI::App& app, Context& context);
void add_push_command(CLI::App& app, Context& context);
void add_images_command(CLI::App& app, Context& context);
void add_inspect_command(CLI::App& app, Context& context);
void add_tag_command(CLI::App& app, Context& context);
void add_rmi_command(CLI::App& app, Context& context);
void add_save_command(CLI::App& app, Context& context);
void add_load_command(CLI::App& app, Context& context);
void add_login_command(CLI::App& app, Context& context);
void add_logout_command(CLI::App& app, Context& context);
void add_snapshot_command(CLI::App& app, Context& context);
void add_runtime_command(CLI::App& app, Context& context);
void add_base_command(CLI::App& app, Context& context);
void add_vm_command(CLI::App& app, Context& context);

// The order `skiff --help` lists them in.
inline constexpr CommandRegistrar all_commands[] = {
    add_version_command,
    add_info_command,
    add_system_command,
    add_pull_command,
    add_push_command,
    add_images_command,
    add_inspect_command,
    add_tag_command,
    add_rmi_command,
    add_save_command,
    add_load_command,
    add_login_command,
    add_logout_command,
    add_snapshot_command,
    add_runtime_command,
    add_base_command,
    add_vm_command,
};

}  // namespace skiff::cli
