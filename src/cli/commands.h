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
void add_run_command(CLI::App& app, Context& context);
void add_create_command(CLI::App& app, Context& context);
void add_start_command(CLI::App& app, Context& context);
void add_stop_command(CLI::App& app, Context& context);
void add_kill_command(CLI::App& app, Context& context);
void add_rm_command(CLI::App& app, Context& context);
void add_wait_command(CLI::App& app, Context& context);
void add_ps_command(CLI::App& app, Context& context);
void add_logs_command(CLI::App& app, Context& context);
void add_exec_command(CLI::App& app, Context& context);
void add_commit_command(CLI::App& app, Context& context);
void add_container_command(CLI::App& app, Context& context);
void add_build_command(CLI::App& app, Context& context);
void add_builder_command(CLI::App& app, Context& context);
void add_container_vm_command(CLI::App& app, Context& context);  // needs add_container_command first

// The order `skiff --help` lists them in.
inline constexpr CommandRegistrar all_commands[] = {
    add_run_command,
    add_create_command,
    add_start_command,
    add_stop_command,
    add_kill_command,
    add_rm_command,
    add_ps_command,
    add_logs_command,
    add_exec_command,
    add_wait_command,
    add_commit_command,
    add_inspect_command,
    add_build_command,
    add_builder_command,
    add_pull_command,
    add_push_command,
    add_images_command,
    add_tag_command,
    add_rmi_command,
    add_save_command,
    add_load_command,
    add_login_command,
    add_logout_command,
    add_base_command,
    add_info_command,
    add_system_command,
    add_version_command,
    add_container_command,
    add_container_vm_command,
    add_runtime_command,
    add_vm_command,
    add_snapshot_command,
};

}  // namespace skiff::cli
