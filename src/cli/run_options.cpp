#include "cli/run_options.h"

#include <unistd.h>

#include "core/error.h"

namespace skiff::cli {

void add_run_options(CLI::App* cmd, container::RunOptions& o) {
  // -h is the host name, as in docker run; help is --help only.
  cmd->set_help_flag("--help", "Print this help message and exit");
  cmd->add_option("IMAGE", o.image, "Image name or ID")->required();
  cmd->add_option("--name", o.name, "Name the container");
  cmd->add_flag("-i,--interactive", o.interactive, "Keep stdin open");
  cmd->add_flag("-t,--tty", o.tty, "Allocate a pseudo-terminal");
  cmd->add_option("-e,--env", o.env, "Set environment variables (KEY=VALUE, or KEY to take it from here)");
  cmd->add_option("--env-file", o.env_files, "Read environment variables from a file");
  cmd->add_option("-u,--user", o.user, "USER[:GROUP], names or numbers (resolved in the image)");
  cmd->add_option("-w,--workdir", o.workdir, "Working directory inside the container");
  cmd->add_option("-h,--hostname", o.hostname, "Container host name (default: the short ID)");
  cmd->add_option("--entrypoint", o.entrypoint, "Replace the image's entrypoint");
  cmd->add_option("-v,--volume", o.volumes, "Bind mount HOST-PATH:CONTAINER-PATH[:ro]");
  cmd->add_option("--tmpfs", o.tmpfs, "Mount a tmpfs: PATH[:OPTIONS]");
  cmd->add_flag("--read-only", o.read_only, "Mount the root filesystem read-only");
  cmd->add_option("-m,--memory", o.memory, "Memory limit (e.g. 64m, 1g)");
  cmd->add_option("--cpus", o.cpus, "Number of CPUs (e.g. 0.5)");
  cmd->add_option("--pids-limit", o.pids_limit, "Maximum number of processes");
  cmd->add_option("--cap-add", o.cap_add, "Add a capability (or ALL)");
  cmd->add_option("--cap-drop", o.cap_drop, "Drop a capability (or ALL)");
  cmd->add_option("--security-opt", o.security_opts,
                  "seccomp=unconfined|PROFILE.json, no-new-privileges[:true|false]");
  cmd->add_option("--network,--net", o.network, "none (loopback only) or host")->capture_default_str();
  cmd->add_flag("--init", o.init, "Run a small init as PID 1 that reaps zombies and forwards signals");
  cmd->add_option("--isolation", o.isolation, "process (default; or the config's), vm or hyperv (a VM per container)");
  cmd->add_option("--vm-kernel", o.vm_kernel, "Guest kernel (bzImage) for --isolation=vm (default: Debian's cloud kernel)");
  cmd->add_option("--platform", o.platform, "Platform to pull if the image is missing (os/arch[/variant])");
  cmd->add_option("--pull", o.pull, "Pull the image: missing (default), always or never")->capture_default_str();
  cmd->add_option("--stop-signal", o.stop_signal, "Signal to stop the container (default: the image's, or SIGTERM)");
  cmd->add_option("--stop-timeout", o.stop_timeout, "Seconds to wait before killing the container on stop");
  cmd->add_option("-l,--label", o.labels, "Set a label KEY=VALUE");
  cmd->add_option("--log-max-size", o.log_max_size, "Rotate the log at this size (default 10m)");
}

void finish_run_options(container::RunOptions& o, const std::vector<std::string>& tail) {
  o.command = tail;
  if (o.pull != "missing" && o.pull != "always" && o.pull != "never")
    fail(ErrorKind::invalid_argument, "--pull {}: use missing, always or never", o.pull);
  if (!o.vm_kernel.empty() && o.isolation == "process")
    fail(ErrorKind::invalid_argument, "--vm-kernel {} needs --isolation=vm (a process-isolated container runs on the host's kernel)",
         o.vm_kernel);
  if (o.tty && o.interactive && !::isatty(STDIN_FILENO))
    fail(ErrorKind::invalid_argument, "the input device is not a TTY: drop -t, or run skiff from a terminal");
}

}  // namespace skiff::cli
