// skiff vm: run a command in a VM over a root filesystem directory, and
// manage guest kernels. For testing and benchmarking the VM box; `skiff run
// --isolation=vm` is the user-facing way in.
#include <fmt/format.h>
#include <unistd.h>

#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/humanize.h"
#include "core/json.h"
#include "vm/attach.h"
#include "vm/vm.h"

namespace skiff::cli {

namespace {

struct RunOptions {
  std::string rootfs, key, memory, user, workdir = "/", hostname, kernel, modules, initramfs, accel = "auto",
                                     min_kernel;
  double cpus = 0;
  bool tty = false, interactive = false;
  std::vector<std::string> env, command;
};

std::pair<std::uint32_t, std::uint32_t> parse_user(const std::string& text) {
  auto number = [&](const std::string& part) {
    try {
      size_t used = 0;
      unsigned long v = std::stoul(part, &used);
      if (used == part.size() && v <= 0xffffffffUL) return static_cast<std::uint32_t>(v);
    } catch (...) {
    }
    fail(ErrorKind::invalid_argument, "--user \"{}\": give UID[:GID] as numbers", text);
  };
  auto colon = text.find(':');
  std::uint32_t uid = number(text.substr(0, colon));
  std::uint32_t gid = colon == std::string::npos ? uid : number(text.substr(colon + 1));
  return {uid, gid};
}

void run_vm(const RunOptions& o, Context& context) {
  if (o.command.empty()) fail(ErrorKind::invalid_argument, "vm run: no command given (skiff vm run --rootfs DIR COMMAND [ARG...])");
  vm::VmConfig config;
  config.rootfs = o.rootfs;
  config.rootfs_key = o.key;
  config.min_kernel = o.min_kernel;
  config.accel = vm::parse_accelerator(o.accel);
  config.kernel = {o.kernel, o.modules, o.initramfs};
  config.resources.cpus = o.cpus;
  if (!o.memory.empty()) {
    try {
      config.resources.memory_bytes = parse_size(o.memory);
    } catch (const std::invalid_argument& e) {
      fail(ErrorKind::invalid_argument, "--memory: {}", e.what());
    }
  }
  auto& p = config.process;
  p.args = o.command;
  p.env = o.env;
  bool has_path = false;
  for (const auto& e : p.env) has_path |= e.starts_with("PATH=");
  if (!has_path) p.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  if (o.tty) p.env.push_back("TERM=xterm");
  p.cwd = o.workdir;
  p.hostname = o.hostname.empty() ? "skiff-vm" : o.hostname;
  if (!o.user.empty()) std::tie(p.uid, p.gid) = parse_user(o.user);
  p.terminal = o.tty;
  if (o.tty) std::tie(p.rows, p.cols) = vm::terminal_size(STDOUT_FILENO);

  auto box = std::make_unique<vm::VmBox>(context.root(), "cli", config);
  vm::Stdio stdio;
  stdio.in = o.interactive || o.tty ? STDIN_FILENO : -1;
  stdio.out = STDOUT_FILENO;
  stdio.err = STDERR_FILENO;
  int code = 0;
  {
    // Signals and window sizes go to the process in the VM.
    vm::Attachment attached(o.tty ? STDIN_FILENO : -1,
                            {[&box](int signal) { box->kill(signal); },
                             [&box](std::uint16_t rows, std::uint16_t cols) { box->resize(rows, cols); }});
    box->start(stdio);
    code = box->wait();
  }
  if (auto errors = box->errors(); !errors.empty()) fmt::print(stderr, "skiff: {}\n", errors);
  box.reset();  // no qemu, no temp files left when we exit
  context.exit_code = code;
}

}  // namespace

void add_vm_command(CLI::App& app, Context& context) {
  auto* vm_cmd = app.add_subcommand("vm", "Run commands in skiff VMs and manage guest kernels");
  vm_cmd->require_subcommand(1);

  static RunOptions o;
  auto* run = vm_cmd->add_subcommand("run", "Run a command in a VM over a root filesystem directory");
  run->add_option("--rootfs", o.rootfs, "Root filesystem directory (a flattened image)")->required();
  run->add_option("--key", o.key, "Cache key of the root image (e.g. the image's chain ID); empty: not cached");
  run->add_option("-m,--memory", o.memory, "VM memory (e.g. 512m, 1g; default 512m)");
  run->add_option("--cpus", o.cpus, "vCPUs (fractions round up; default 1)");
  run->add_flag("-t,--tty", o.tty, "Allocate a terminal");
  run->add_flag("-i,--interactive", o.interactive, "Keep stdin open");
  run->add_option("-e,--env", o.env, "Environment variable K=V (repeatable)")->allow_extra_args(false);
  run->add_option("-u,--user", o.user, "UID[:GID] to run as");
  run->add_option("-w,--workdir", o.workdir, "Working directory inside");
  run->add_option("--hostname", o.hostname, "Host name inside the VM");
  run->add_option("--vm-kernel", o.kernel, "Guest kernel (bzImage) instead of Debian's cloud kernel");
  run->add_option("--vm-modules", o.modules, "The guest kernel's modules directory (lib/modules/RELEASE)");
  run->add_option("--vm-initramfs", o.initramfs, "A ready initramfs with skiff's agent as /init");
  run->add_option("--accel", o.accel, "auto, kvm or tcg (default auto; or $SKIFF_VM_ACCEL)");
  run->add_option("--min-kernel", o.min_kernel, "Minimum guest kernel version (an image's os.version)");
  // Everything from the command on belongs to it, dashes included (as with
  // docker run; CLI11 cannot take a `--` here).
  run->prefix_command();
  run->allow_extras();
  run->fallthrough(false);
  run->footer("Usage: skiff vm run [OPTIONS] COMMAND [ARG...]");
  run->callback([&context, run] {
    o.command = run->remaining();
    run_vm(o, context);
  });

  auto* kernel = vm_cmd->add_subcommand("kernel", "Manage guest kernels");
  kernel->require_subcommand(1);
  static std::string package = "linux-image-cloud-amd64";
  auto* fetch = kernel->add_subcommand("fetch", "Fetch Debian's cloud kernel with apt into the store");
  fetch->add_option("--package", package, "Kernel package")->capture_default_str();
  fetch->callback([&context] {
    auto k = vm::kernel_cache(context.root()).fetch(package);
    fmt::print("{} ({}) {}\n", k.release, k.version.str(), k.image.string());
  });
  static std::string list_format;
  auto* list = kernel->add_subcommand("ls", "List cached guest kernels");
  list->add_option("--format", list_format, "Output format: table or json");
  list->callback([&context] {
    auto kernels = vm::kernel_cache(context.root()).list();
    if (wants_json(list_format)) {
      for (const auto& k : kernels)
        fmt::print("{}\n", Json{{"Release", k.release}, {"Version", k.version.str()}, {"Image", k.image.string()},
                                {"Source", k.source}}.dump());
      return;
    }
    Table table({"RELEASE", "VERSION", "SOURCE"});
    for (const auto& k : kernels) table.add({k.release, k.version.str(), k.source});
    table.print();
  });

  static std::string info_format;
  auto* info = vm_cmd->add_subcommand("info", "Show whether VMs work here and how");
  info->add_option("--format", info_format, "Output format: table or json");
  info->callback([&context] {
    auto s = vm::vm_support(context.root());
    if (wants_json(info_format)) {
      fmt::print("{}\n", Json{{"Usable", s.usable},
                              {"Accelerator", vm::to_string(s.accel.accel)},
                              {"AcceleratorReason", s.accel.reason},
                              {"Qemu", s.qemu},
                              {"ErofsTools", s.erofs_tools},
                              {"Kernel", s.kernel ? s.kernel->release : ""},
                              {"Detail", s.detail}}.dump());
      return;
    }
    fmt::print("VM isolation:  {}\n", s.detail);
    fmt::print("Accelerator:   {} ({})\n", vm::to_string(s.accel.accel), s.accel.reason);
    fmt::print("qemu:          {}\n", s.qemu.empty() ? "missing: apt-get install qemu-system-x86" : s.qemu);
    fmt::print("mkfs.erofs:    {}\n", s.erofs_tools ? "present" : "missing: apt-get install erofs-utils");
    fmt::print("Guest kernel:  {}\n", s.kernel ? s.kernel->release + " (" + s.kernel->version.str() + ")" : "not cached");
  });
}

}  // namespace skiff::cli
