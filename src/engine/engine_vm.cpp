// VM isolation as a handler of the engine's run path (crun's krun handler
// is the model): create is shared with process isolation (record, snapshot,
// OCI spec, user resolved in the image); what differs is who runs the
// process. Here a VmBox boots the flattened image (an erofs image cached
// per top chain ID) under a qemu microvm with the spec's process, env,
// user, cwd, terminal and limits (--memory, --cpus size the VM).
//
// The VmBox lives in the process that owns the container: the foreground
// `skiff run`, or for -d `skiff container vm-monitor ID` (this binary in
// monitor mode; the static skiff-monitor above it writes the log, records
// the exit code and runs the cleanup, as for process isolation). stop,
// kill and exec reach the box through the owner's control socket
// (vm_control.h).
#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <utility>

#include "container/monitor.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/lock.h"
#include "core/log.h"
#include "engine/engine.h"
#include "engine/engine_parts.h"
#include "engine/vm_control.h"
#include "vm/attach.h"
#include "vm/vm.h"

namespace skiff::engine {

using namespace container;

namespace {

// The fds a VM owner started by start_vm_detached() gets: the container's
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
// kernel, the size; `plan` is what plan_vm() recorded.
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
  Json spec = parse_json(read_file(paths.bundle() / "config.json"), "config.json of " + record.short_id());
  Json resources = spec.value("linux", Json::object()).value("resources", Json::object());
  Json cpu = resources.value("cpu", Json::object());
  double period = cpu.value("period", 0.0);
  vm::VmConfig config = boot_config(root, record.config.value("Vm", Json::object()),
                                    resources.value("memory", Json::object()).value("limit", std::uint64_t{0}),
                                    period > 0 ? cpu.value("quota", 0.0) / period : 0.0);
  config.process = vm_process(spec.value("process", Json::object()), spec.value("hostname", ""));
  return config;
}

std::string read_to_end(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

void write_text(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

}  // namespace

Json Engine::plan_vm(const Record& record, const RunOptions& options, const std::string& min_kernel,
                     const std::string& top_chain) {
  auto refuse = [&](std::string_view option, std::string_view why) {
    fail(ErrorKind::unsupported, "{} is not available with --isolation=vm: {}", option, why);
  };
  if (!options.volumes.empty())
    refuse("-v/--volume", "no host directory reaches the guest; copy the files into the image, or use --isolation=process");
  if (!options.tmpfs.empty()) refuse("--tmpfs", "the guest's root is already a writable overlay on a tmpfs");
  if (options.read_only) refuse("--read-only", "the guest always gets a writable overlay on a tmpfs");
  if (options.network == "host") refuse("--network host", "the VM has no network device; use --network none");
  if (top_chain.empty()) fail(ErrorKind::unsupported, "run {}: the image has no layers to boot a VM from", options.image);
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
    vm::check_kernel_requirement(kernel, min_kernel);
  } catch (const Error& e) {
    fail(e.kind(), "run {}: {}", options.image, e.what());
  }
  Json plan = {{"Kernel", choice.kernel.string()}, {"KernelRelease", kernel.release}, {"MinKernel", min_kernel},
               {"RootKey", top_chain}};
  if (std::exchange(parts_->boot_vm_during_create, false)) {
    // The guest boots while the rest of create runs; the process it will
    // run is handed over at start (this one only passes the box's checks).
    vm::VmConfig config = boot_config(root_, plan, options.memory ? parse_size(*options.memory) : 0, options.cpus.value_or(0));
    config.process.args = {"(given at start)"};
    parts_->booting_vm = std::make_unique<vm::VmBox>(root_, record.short_id(), std::move(config));
    parts_->booting_vm->boot();
  }
  return plan;
}

void Engine::deliver_signal(const Record& record, int signal, bool all) {
  if (record.isolation == "vm") vm_control_kill(container_dir(record.id), signal);
  else parts_->runtime.kill(record.id, signal, all);
}

int Engine::run_vm_foreground(Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  bool tty = record.config.value("Tty", false);
  bool interactive = record.config.value("OpenStdin", false);
  std::optional<FileLock> owner(std::in_place, paths.lock());
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  store_.update(record);

  // As with process isolation: --rm or -t output only goes to the terminal.
  std::optional<LogWriter> log;
  if (!record.auto_remove && !tty) log.emplace(paths.log(), record.config.value("LogMaxSize", default_log_max_size));
  int code = 0;
  try {
    vm::VmConfig config = vm_config(root_, paths, record);
    int terminal = vm::user_terminal();
    if (config.process.terminal) std::tie(config.process.rows, config.process.cols) = vm::terminal_size(terminal);
    std::unique_ptr<vm::VmBox> box = std::move(parts_->booting_vm);  // booted by create, for this run
    if (!box) box = std::make_unique<vm::VmBox>(root_, record.short_id(), config);
    vm::Stdio stdio{interactive ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO};
    if (log) stdio.copy = [&log](bool is_stderr, std::string_view data) { log->write(is_stderr ? "stderr" : "stdout", data); };
    {
      vm::Attachment attached(tty ? terminal : -1,
                              {[&box](int signal) { box->kill(signal); },
                               [&box](std::uint16_t rows, std::uint16_t cols) { box->resize(rows, cols); }});
      box->start(stdio, config.process);
      VmControlServer control(paths.dir, *box);
      store_.set_pid_if_running(record.id, box->qemu_pid());
      code = box->wait();
    }
    if (auto errors = box->process_errors(0); !errors.empty()) fmt::print(stderr, "skiff: {}\n", errors);
  } catch (...) {
    owner.reset();
    cleanup(record.id, 125);
    throw;
  }
  if (log) log->flush();
  owner.reset();
  cleanup(record.id, code);
  return code;
}

void Engine::start_vm_detached(Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  auto monitor = monitor_binary_path();
  // Here, not in the owner: its own stderr goes nowhere.
  vm::warn_if_emulated(vm::choose_accelerator());
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  record.pid = 0;
  record.exit_code.reset();
  record.finished_at.reset();
  store_.update(record);

  std::optional<FileLock> owner(std::in_place, paths.lock());  // held by skiff-monitor (fd 5) from here on
  Pipe out, err, report;
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  MonitorArgs args;
  args.monitor_binary = monitor;
  args.log_file = paths.log();
  args.log_max_size = record.config.value("LogMaxSize", default_log_max_size);
  args.exit_file = paths.exit_file();
  args.cleanup_command = {self, "--root", root_.path().string(), "container", "cleanup", record.id};
  std::vector<std::string> owner_args = {self, "--root", root_.path().string(), "container", "vm-monitor", record.id};
  std::vector<char*> owner_argv;
  for (auto& a : owner_args) owner_argv.push_back(a.data());
  owner_argv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // The future skiff-monitor: its own session, the VM owner's parent.
    ::setsid();
    auto high = [](int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 10); };
    pid_t monitor_pid = ::getpid();
    pid_t vm_owner = ::fork();
    if (vm_owner == 0) {
      // A VM nobody watches would outlive its record: it goes with the monitor.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != monitor_pid) ::_exit(125);
      int fds[3] = {high(out.write.get()), high(err.write.get()), high(report.write.get())};
      int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || devnull < 0) ::_exit(125);
      for (int std_fd = 0; std_fd < 3; ++std_fd) ::dup2(devnull, std_fd);
      if (::dup2(fds[0], kOwnerStdout) < 0 || ::dup2(fds[1], kOwnerStderr) < 0 || ::dup2(fds[2], kOwnerReport) < 0)
        ::_exit(125);
      ::syscall(SYS_close_range, kOwnerReport + 1, ~0u, 0);
      ::execv(owner_argv[0], owner_argv.data());
      ::_exit(127);
    }
    if (vm_owner < 0) {
      write_text(report.write.get(), "Efork the VM owner");
      ::_exit(1);
    }
    args.pid = vm_owner;
    int stdout_fd = high(out.read.get()), stderr_fd = high(err.read.get()), lock_fd = high(owner->fd());
    if (stdout_fd < 0 || stderr_fd < 0 || lock_fd < 0 || ::dup2(stdout_fd, 3) < 0 || ::dup2(stderr_fd, 4) < 0 ||
        ::dup2(lock_fd, 5) < 0)
      ::_exit(1);
    auto argv_strings = monitor_argv(args);
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(1);
  }
  out.write.reset();
  err.write.reset();
  report.write.reset();
  std::string reply = read_to_end(report.read.get());
  if (reply.starts_with("P")) {
    store_.set_pid_if_running(record.id, std::stoll(reply.substr(1)));
    return;
  }
  // The monitor records the owner's 125 and cleans up (it needs the lock).
  owner.reset();
  ::waitpid(pid, nullptr, 0);
  cleanup(record.id, 125);
  fail(ErrorKind::unavailable, "start {}: {}", record.short_id(),
       reply.starts_with("E") ? reply.substr(1) : "the VM owner exited before the VM started");
}

int Engine::own_vm(const std::string& id) {
  for (int fd : {kOwnerStdout, kOwnerStderr, kOwnerReport}) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
      fail(ErrorKind::invalid_argument, "container vm-monitor: run by skiff itself for detached VM containers, not by hand");
  }
  UniqueFd report(kOwnerReport);
  std::unique_ptr<vm::VmBox> box;
  std::unique_ptr<VmControlServer> control;
  try {
    Record record = store_.get(id);
    ContainerPaths paths{container_dir(record.id)};
    vm::VmConfig config = vm_config(root_, paths, record);
    if (config.process.terminal) std::tie(config.process.rows, config.process.cols) = std::pair<std::uint16_t, std::uint16_t>{24, 80};
    box = std::make_unique<vm::VmBox>(root_, record.short_id(), std::move(config));
    box->start({-1, kOwnerStdout, kOwnerStderr});
    control = std::make_unique<VmControlServer>(paths.dir, *box);
    write_text(report.get(), fmt::format("P{}", box->qemu_pid()));
    report.reset();
  } catch (const std::exception& e) {
    write_text(report.get(), std::string("E") + e.what());
    return 125;
  }
  ::malloc_trim(0);  // it lives as long as the container: give back what setting up took
  int code = 125;
  try {
    code = box->wait();
  } catch (const Error& e) {
    write_text(kOwnerStderr, fmt::format("skiff: {}\n", e.what()));
  }
  if (auto errors = box->process_errors(0); !errors.empty()) write_text(kOwnerStderr, fmt::format("skiff: {}\n", errors));
  control.reset();
  box.reset();
  return code;
}

int Engine::exec_vm(const Record& record, const Json& process, bool interactive) {
  vm::Process spec = vm_process(process, "");
  spec.open_stdin = interactive;
  return vm_control_exec(container_dir(record.id), spec);
}

}  // namespace skiff::engine
