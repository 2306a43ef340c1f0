#include "engine/isolation_vm.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <utility>

#include "container/store.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/root.h"
#include "engine/detach.h"
#include "engine/fd_io.h"
#include "engine/vm_control.h"
#include "snapshot/snapshotter.h"
#include "vm/attach.h"
#include "vm/vm.h"

namespace skiff::engine {

using container::Record;

namespace {

// The fds of a VM owner started by start_detached(): the container's
// stdout and stderr (pipes to skiff-monitor) and the start report.
constexpr int kOwnerStdout = 3, kOwnerStderr = 4, kOwnerReport = 5;

vm::Process vm_process(const Json& process, const std::string& hostname) {
  vm::Process p;
  p.args = process.value("args", std::vector<std::string>{});
  p.env = process.value("env", std::vector<std::string>{});
  p.cwd = process.value("cwd", "/");
  Json user = process.value("user", Json::object());
  p.uid = user.value("uid", 0u);
  p.gid = user.value("gid", 0u);
  p.additional_gids = user.value("additionalGids", std::vector<std::uint32_t>{});
  p.terminal = process.value("terminal", false);
  p.hostname = hostname;
  return p;
}

// What the VM boots: the image (its erofs cached per top chain ID), the
// kernel, the size; `plan` is what prepare() recorded.
vm::VmConfig boot_config(const Root& root, const Json& plan, std::uint64_t memory_bytes, double cpus) {
  vm::VmConfig config;
  std::string top = plan.value("RootKey", "");
  config.rootfs_key = top;
  // Runs on the image builder's thread: its own database connection.
  config.make_rootfs = [root_path = root.path(), top](const std::filesystem::path& dir) {
    Root own(root_path);
    snapshot::Snapshotter(own).flatten_into(top, dir);
  };
  config.min_kernel = plan.value("MinKernel", "");
  config.kernel.kernel = plan.value("Kernel", "");
  config.resources.memory_bytes = memory_bytes;
  config.resources.cpus = cpus;
  return config;
}

// ... and the process, from the container's spec.
vm::VmConfig vm_config(const Root& root, const ContainerPaths& paths, const Record& record) {
  Json spec = parse_json(read_file(paths.spec()), "config.json of " + record.short_id());
  Json resources = spec.value("linux", Json::object()).value("resources", Json::object());
  Json cpu = resources.value("cpu", Json::object());
  double period = cpu.value("period", 0.0);
  vm::VmConfig config = boot_config(root, record.config.value("Vm", Json::object()),
                                    resources.value("memory", Json::object()).value("limit", std::uint64_t{0}),
                                    period > 0 ? cpu.value("quota", 0.0) / period : 0.0);
  config.process = vm_process(spec.value("process", Json::object()), spec.value("hostname", ""));
  return config;
}

// The guest booting ahead of a foreground run.
struct BootingVm : HeadStart {
  std::unique_ptr<vm::VmBox> box;
};

void refuse_network_namespace(const StartInputs& inputs) {
  if (!inputs.network_namespace.empty())
    fail(ErrorKind::unsupported, "a prepared network namespace is not available with --isolation=vm yet: use --network none");
}

}  // namespace

std::unique_ptr<HeadStart> VmIsolation::prepare(Record& record, const PrepareInputs& inputs) const {
  const container::RunOptions& options = inputs.options;
  auto refuse = [&](std::string_view option, std::string_view why) {
    fail(ErrorKind::unsupported, "{} is not available with --isolation=vm: {}", option, why);
  };
  if (!options.volumes.empty())
    refuse("-v/--volume", "no host directory reaches the guest; copy the files into the image, or use --isolation=process");
  if (!options.tmpfs.empty()) refuse("--tmpfs", "the guest's root is already a writable overlay on a tmpfs");
  if (options.read_only) refuse("--read-only", "the guest always gets a writable overlay on a tmpfs");
  if (options.network == "host") refuse("--network host", "the VM has no network device; use --network none");
  if (inputs.top_chain.empty())
    fail(ErrorKind::unsupported, "run {}: the image has no layers to boot a VM from", options.image);
  if (options.memory && parse_size(*options.memory) < vm::kMinimumMemory)
    fail(ErrorKind::invalid_argument, "--memory {}: a VM needs at least {}m", *options.memory, vm::kMinimumMemory >> 20);

  vm::KernelChoice choice;
  const std::string& kernel_path = options.vm_kernel.empty() ? config_.vm_kernel : options.vm_kernel;
  if (!kernel_path.empty()) {
    struct stat st;
    if (::stat(kernel_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      fail(ErrorKind::not_found, "--vm-kernel {}: no such file; give the path of a guest kernel (a bzImage, e.g. /boot/vmlinuz-*)",
           kernel_path);
    choice.kernel = std::filesystem::absolute(kernel_path);
  }
  vm::GuestKernel kernel = vm::select_kernel(root_, choice);
  try {
    vm::check_kernel_requirement(kernel, inputs.min_kernel);
  } catch (const Error& e) {
    fail(e.kind(), "run {}: {}", options.image, e.what());
  }
  Json plan = {{"Kernel", choice.kernel.string()}, {"KernelRelease", kernel.release}, {"MinKernel", inputs.min_kernel},
               {"RootKey", inputs.top_chain}};
  record.config["Vm"] = plan;
  if (!inputs.foreground_run_follows) return nullptr;
  // The guest boots while the rest of create runs; the process it will
  // run is handed over at start (this one only passes the box's checks).
  vm::VmConfig config = boot_config(root_, plan, options.memory ? parse_size(*options.memory) : 0, options.cpus.value_or(0));
  config.process.args = {"(given at start)"};
  auto booting = std::make_unique<BootingVm>();
  booting->box = std::make_unique<vm::VmBox>(root_, record.short_id(), std::move(config));
  booting->box->boot();
  return booting;
}

void VmIsolation::signal(const ContainerRef& c, int signal, bool) const { vm_control_kill(c.paths.dir, signal); }

Exit VmIsolation::run_foreground(const ContainerRef& c, const StartInputs& inputs, const Stdio& stdio,
                                 std::unique_ptr<HeadStart> head_start,
                                 const std::function<void(pid_t)>& started) const {
  refuse_network_namespace(inputs);
  bool tty = c.record.config.value("Tty", false);
  vm::VmConfig config = vm_config(root_, c.paths, c.record);
  int terminal = vm::user_terminal();
  if (config.process.terminal) std::tie(config.process.rows, config.process.cols) = vm::terminal_size(terminal);
  std::unique_ptr<vm::VmBox> box;
  if (auto* booting = dynamic_cast<BootingVm*>(head_start.get())) box = std::move(booting->box);
  if (!box) box = std::make_unique<vm::VmBox>(root_, c.record.short_id(), config);
  int code = 0;
  {
    vm::Attachment attached(tty ? terminal : -1,
                            {[&box](int signal) { box->kill(signal); },
                             [&box](std::uint16_t rows, std::uint16_t cols) { box->resize(rows, cols); }});
    box->start({stdio.in, stdio.out, stdio.err}, config.process);
    VmControlServer control(c.paths.dir, *box);
    if (started) started(box->qemu_pid());
    code = box->wait();
  }
  if (auto errors = box->process_errors(0); !errors.empty()) fmt::print(stderr, "skiff: {}\n", errors);
  return {code, false};
}

pid_t VmIsolation::start_detached(const ContainerRef& c, const StartInputs& inputs,
                                  const container::MonitorArgs& monitor) const {
  refuse_network_namespace(inputs);
  // Here, not in the owner: its own stderr goes nowhere.
  vm::warn_if_emulated(vm::choose_accelerator());
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> owner_args = {self, "--root", root_.path().string(), "container", "vm-monitor", c.record.id};
  std::vector<char*> owner_argv;
  for (auto& a : owner_args) owner_argv.push_back(a.data());
  owner_argv.push_back(nullptr);

  return start_under_monitor(c.paths, c.record.short_id(), monitor, [&](const DetachedStdio& io) {
    auto high = [](int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 10); };
    pid_t monitor_pid = ::getpid();
    pid_t vm_owner = ::fork();
    if (vm_owner == 0) {
      // A VM nobody watches would outlive its record: it goes with the monitor.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != monitor_pid) ::_exit(125);
      int fds[3] = {high(io.out), high(io.err), high(io.report)};
      int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || devnull < 0) ::_exit(125);
      for (int std_fd = 0; std_fd < 3; ++std_fd) ::dup2(devnull, std_fd);
      if (::dup2(fds[0], kOwnerStdout) < 0 || ::dup2(fds[1], kOwnerStderr) < 0 || ::dup2(fds[2], kOwnerReport) < 0)
        ::_exit(125);
      ::syscall(SYS_close_range, kOwnerReport + 1, ~0u, 0);
      ::execv(owner_argv[0], owner_argv.data());
      ::_exit(127);
    }
    if (vm_owner < 0) fail_errno("fork the VM owner");
    return Launched{vm_owner, {}, /*reports_itself=*/true};
  });
}

int VmIsolation::own(container::Store& store, const std::string& id) const {
  for (int fd : {kOwnerStdout, kOwnerStderr, kOwnerReport}) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
      fail(ErrorKind::invalid_argument, "container vm-monitor: run by skiff itself for detached VM containers, not by hand");
  }
  UniqueFd report(kOwnerReport);
  std::unique_ptr<vm::VmBox> box;
  std::unique_ptr<VmControlServer> control;
  try {
    Record record = store.get(id);
    ContainerPaths paths{root_.containers_dir() / record.id};
    vm::VmConfig config = vm_config(root_, paths, record);
    if (config.process.terminal) std::tie(config.process.rows, config.process.cols) = std::pair<std::uint16_t, std::uint16_t>{24, 80};
    box = std::make_unique<vm::VmBox>(root_, record.short_id(), std::move(config));
    box->start({-1, kOwnerStdout, kOwnerStderr});
    control = std::make_unique<VmControlServer>(paths.dir, *box);
    write_all(report.get(), fmt::format("P{}", box->qemu_pid()));
    report.reset();
  } catch (const std::exception& e) {
    write_all(report.get(), std::string("E") + e.what());
    return 125;
  }
  ::malloc_trim(0);  // it lives as long as the container: give back what setting up took
  int code = 125;
  try {
    code = box->wait();
  } catch (const Error& e) {
    write_all(kOwnerStderr, fmt::format("skiff: {}\n", e.what()));
  }
  if (auto errors = box->process_errors(0); !errors.empty()) write_all(kOwnerStderr, fmt::format("skiff: {}\n", errors));
  control.reset();
  box.reset();
  return code;
}

int VmIsolation::exec(const ContainerRef& c, const Json& process, const Stdio& stdio) const {
  vm::Process spec = vm_process(process, "");
  spec.open_stdin = stdio.in >= 0;
  return vm_control_exec(c.paths.dir, spec, {stdio.in, stdio.out, stdio.err});
}

}  // namespace skiff::engine
