// skiff runtime exec: another process in a running container, joining all
// its namespaces and its cgroup.
#include <fmt/format.h>

#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"

namespace skiff::cli {

namespace {
struct ExecArgs {
  std::string id, process_file, console_socket, pid_file, cwd, user;
  std::vector<std::string> env, caps, command;
  std::vector<unsigned> additional_gids;
  int preserve_fds = 0;
  bool tty = false, detach = false, no_new_privs = false;
  std::string apparmor, process_label;
};

runtime::ProcessSpec build_process(const ExecArgs& args, const runtime::Runtime& runtime) {
  if (!args.process_file.empty()) {
    auto process = runtime::parse_process(parse_json(read_file(args.process_file), args.process_file));
    if (args.tty) process.terminal = true;
    return process;
  }
  if (args.command.empty()) fail(ErrorKind::invalid_argument, "exec {}: give a command (or --process FILE)", args.id);
  auto process = runtime.process_of(args.id);
  process.args = args.command;
  process.terminal = args.tty;
  process.console_size.reset();
  for (const auto& e : args.env) {
    if (e.find('=') == std::string::npos) fail(ErrorKind::invalid_argument, "--env {}: expected KEY=VALUE", e);
    auto key = e.substr(0, e.find('=') + 1);
    std::erase_if(process.env, [&](const std::string& existing) { return existing.starts_with(key); });
    process.env.push_back(e);
  }
  if (!args.cwd.empty()) process.cwd = args.cwd;
  if (!args.user.empty()) {
    auto parts = split(args.user, ':');
    try {
      process.user.uid = static_cast<uid_t>(std::stoul(parts[0]));
      process.user.gid = parts.size() > 1 ? static_cast<gid_t>(std::stoul(parts[1])) : 0;
    } catch (const std::exception&) {
      fail(ErrorKind::invalid_argument, "--user {}: expected UID[:GID] as numbers", args.user);
    }
  }
  for (auto gid : args.additional_gids) process.user.additional_gids.push_back(gid);
  if (args.no_new_privs) process.no_new_privileges = true;
  for (const auto& name : args.caps) {
    auto cap = runtime::capability_from_name(name);
    if (!cap) fail(ErrorKind::invalid_argument, "--cap {}: unknown capability", name);
    if (!process.capabilities) process.capabilities = runtime::CapabilitySets{};
    std::uint64_t bit = std::uint64_t{1} << *cap;
    process.capabilities->bounding |= bit;
    process.capabilities->effective |= bit;
    process.capabilities->permitted |= bit;
  }
  return process;
}
}  // namespace

void add_runtime_exec(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<ExecArgs>();
  auto* cmd = app.add_subcommand(
      "exec", "Run COMMAND [ARG...] in a running container (all its namespaces and its cgroup): exec [OPTIONS] ID COMMAND [ARG...]");
  cmd->add_option("id", args->id, "Container id")->required();
  cmd->add_option("-p,--process", args->process_file, "A process.json (OCI process object) instead of COMMAND");
  cmd->add_flag("-t,--tty", args->tty, "Give the process a pty");
  cmd->add_option("--console-socket", args->console_socket, "Unix socket that receives the pty master");
  cmd->add_flag("-d,--detach", args->detach, "Return once the process runs");
  cmd->add_option("--pid-file", args->pid_file, "Write the process's pid here");
  cmd->add_option("--cwd", args->cwd, "Working directory inside the container");
  cmd->add_option("-e,--env", args->env, "KEY=VALUE to add (repeatable)");
  cmd->add_option("-u,--user", args->user, "UID[:GID]");
  cmd->add_option("-g,--additional-gids", args->additional_gids, "Supplementary group id (repeatable)");
  cmd->add_option("-c,--cap", args->caps, "Add a capability (repeatable)");
  cmd->add_flag("--no-new-privs", args->no_new_privs, "Set no_new_privs");
  cmd->add_option("--preserve-fds", args->preserve_fds, "Pass this many extra descriptors (from fd 3)");
  cmd->add_option("--apparmor", args->apparmor, "Refused unless empty: AppArmor is not supported");
  cmd->add_option("--process-label", args->process_label, "Refused unless empty: SELinux is not supported");
  // Everything after the container id belongs to the command ("ls -l").
  cmd->prefix_command(true);
  cmd->callback([args, cmd, &context] {
    context.guarded([&] {
      for (const auto& extra : cmd->remaining()) args->command.push_back(extra);
      if (!args->apparmor.empty() || !args->process_label.empty())
        fail(ErrorKind::unsupported, "exec: AppArmor profiles and SELinux labels are not supported");
      auto runtime = context.runtime();
      runtime::ExecOptions options;
      options.process = build_process(*args, runtime);
      options.console_socket = args->console_socket;
      options.pid_file = args->pid_file;
      options.preserve_fds = args->preserve_fds;
      if (args->detach) {
        auto process = runtime.exec(args->id, options);
        if (process.pty_master)
          fail(ErrorKind::invalid_argument, "exec -d {}: a tty needs --console-socket when detached", args->id);
        return;
      }
      auto status = runtime.exec_and_wait(args->id, options);
      context.set_exit_code(status.exit_code);
    });
  });
}

}  // namespace skiff::cli
