// VmBox: the life of one VM. start() launches qemu at once and lets a relay
// thread carry frames between the agent and the caller's stdio while the
// root image may still be building.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/subprocess.h"
#include "core/thread.h"
#include "vm/initramfs.h"
#include "vm/qemu.h"
#include "vm/root_image.h"
#include "vm/vm.h"

namespace skiff::vm {

namespace proto = protocol;
using proto::MessageType;

namespace {

constexpr std::uint64_t kDefaultMemory = 512ull << 20;
constexpr size_t kStdinBacklog = 1 << 20;

UniqueFd dup_fd(int fd) {
  if (fd < 0) return {};
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) fail_errno("dup stdio descriptor");
  return UniqueFd(copy);
}

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return;  // the reader went away: drop the output, as a closed pipe would
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// The last line of a log, preferring what the agent itself said (the
// kernel's panic line that follows it says less).
std::string last_line(const fs::path& path) {
  auto text = read_file_if_exists(path);
  if (!text) return {};
  std::string line, agent;
  for (const auto& l : split(*text, '\n')) {
    std::string_view t = trim(l);
    if (t.empty()) continue;
    line = std::string(t);
    if (t.find("skiff-agent: ") != std::string_view::npos) agent = line;
  }
  return agent.empty() ? line : agent;
}

void check_process(const std::string& id, const Process& process) {
  if (process.args.empty()) fail(ErrorKind::invalid_argument, "VM {}: no command to run", id);
  if (process.cwd.empty() || process.cwd[0] != '/')
    fail(ErrorKind::invalid_argument, "VM {}: working directory \"{}\" must be absolute", id, process.cwd);
}

}  // namespace

struct VmBox::Impl {
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  long elapsed_ms() const {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - created).count());
  }
  const Root& root;
  std::string id;
  VmConfig config;
  GuestKernel kernel;
  fs::path initramfs;
  AcceleratorChoice accel;
  TempDir scratch;
  std::unique_ptr<RootImage> image;

  struct HostProcess {
    UniqueFd in, out, err;
    std::function<void(bool, std::string_view)> copy;
    bool terminal = false;
    std::optional<int> exit;
    std::string errors;
  };

  mutable std::mutex mutex;
  std::condition_variable changed;
  ChildProcess qemu;
  pid_t qemu_pid = -1;  // kept after the reap, for callers checking it is gone
  bool qemu_reaped = false;
  UniqueFd channel;
  UniqueFd wake;
  std::thread relay;
  std::string outgoing;  // frames waiting for the channel
  std::map<std::uint32_t, HostProcess> processes;
  std::uint32_t next_exec_id = 1;
  std::mutex boot_mutex, start_mutex;
  bool booted = false;
  bool process_given = false;      // start() handed over the process
  bool agent_up = false;           // its hello arrived
  bool start_sent = false;
  bool finished = false;           // the relay ended: the VM is gone
  std::optional<int> killed_with;  // the VM was killed before/without an exit frame
  std::string failure;             // why the VM ended without an exit code
  std::string errors;              // what the agent reported

  Impl(const Root& r, std::string i, VmConfig c)
      : root(r), id(std::move(i)), config(std::move(c)), scratch(r.tmp_dir(), "vm-") {}

  void queue(MessageType type, std::uint32_t process, std::string_view payload) {
    std::lock_guard lock(mutex);
    queue_locked(type, process, payload);
  }
  void queue_locked(MessageType type, std::uint32_t process, std::string_view payload) {
    if (finished) return;
    outgoing += proto::encode_frame(type, process, payload);
    std::uint64_t one = 1;
    (void)!::write(wake.get(), &one, sizeof one);
  }

  void kill_vm_locked() {
    if (!qemu_reaped) qemu.kill(SIGKILL);
  }

  void launch();
  void send_start();
  void run_relay();
  void handle_frame(const proto::Frame& frame);
  std::string describe_failure();
};

VmBox::VmBox(const Root& root, std::string id, VmConfig config)
    : impl_(std::make_unique<Impl>(root, std::move(id), std::move(config))) {
  auto& c = impl_->config;
  check_process(impl_->id, c.process);
  if (c.resources.memory_bytes != 0 && c.resources.memory_bytes < kMinimumMemory)
    fail(ErrorKind::invalid_argument, "VM {}: --memory {} MiB is too small for a VM; give at least 128m", impl_->id,
         c.resources.memory_bytes >> 20);
  if (c.resources.cpus < 0 || c.resources.cpus > 64)
    fail(ErrorKind::invalid_argument, "VM {}: --cpus {} out of range (0-64)", impl_->id, c.resources.cpus);
  if (!find_program("qemu-system-x86_64"))
    fail(ErrorKind::unavailable, "VM isolation needs qemu: apt-get install qemu-system-x86");
  // Measured while the kernel and initramfs are looked up (TCG needs it).
  std::thread tsc([] { host_tsc_khz(); });
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }
  } join_tsc{tsc};
  impl_->kernel = select_kernel(root, c.kernel);
  check_kernel_requirement(impl_->kernel, c.min_kernel);
  impl_->accel = choose_accelerator(c.accel);
  warn_if_emulated(impl_->accel);
  impl_->initramfs = c.kernel.initramfs.empty() ? ensure_initramfs(vm_dir(root) / "initramfs", impl_->kernel)
                                                : c.kernel.initramfs;
}

VmBox::~VmBox() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->kill_vm_locked();
  }
  if (impl_->relay.joinable()) impl_->relay.join();
  // ChildProcess, RootImage and TempDir clean up after the VM is gone.
}

void VmBox::Impl::launch() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) fail_errno("socketpair for the VM channel");
  channel.reset(pair[0]);
  UniqueFd guest_end(pair[1]);
  wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) fail_errno("eventfd");

  image = std::make_unique<RootImage>(vm_dir(root) / "images", RootSource{config.rootfs, config.make_rootfs},
                                      config.rootfs_key, scratch.path());

  QemuLaunch q;
  q.kernel = kernel.pvh_image.empty() ? kernel.image : kernel.pvh_image;
  q.initramfs = initramfs;
  q.root_image = image->path();
  // The serial console only serves diagnostics of failed boots;
  // SKIFF_VM_CONSOLE=off drops the device too.
  const char* console = std::getenv("SKIFF_VM_CONSOLE");
  if (!(console && std::string_view(console) == "off")) q.console_log = scratch.path() / "console.log";
  q.accel = accel.accel;
  std::uint64_t memory = config.resources.memory_bytes ? config.resources.memory_bytes : kDefaultMemory;
  q.memory_mib = std::max<std::uint64_t>(memory >> 20, kMinimumMemory >> 20);
  q.cpus = config.resources.cpus > 0 ? static_cast<unsigned>(std::ceil(config.resources.cpus)) : 1;
  q.channel_fd = 3;
  q.trace = log::level() <= log::Level::debug;
  auto args = qemu_arguments(q);
  auto program = find_program(args[0]);
  if (!program) fail(ErrorKind::unavailable, "VM isolation needs qemu: apt-get install qemu-system-x86");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log_path = (scratch.path() / "qemu.log").string();
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) fail_errno("create " + log_path);
  UniqueFd log(log_fd);
  int parent = static_cast<int>(::getpid());

  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork qemu");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the caller may block signals it forwards
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Out of the caller's process group: Ctrl-C on the user's terminal is
    // for the container (skiff forwards it), not for qemu.
    ::setpgid(0, 0);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    ::dup2(guest_end.get(), 3);
    ::syscall(SYS_close_range, 4, ~0u, 0);
    ::execv(program->c_str(), argv.data());
    ::_exit(127);
  }
  std::lock_guard lock(mutex);
  qemu = ChildProcess(pid);
  qemu_pid = pid;
  log::debug("VM {}: qemu pid {} at {} ms: {}", id, pid, elapsed_ms(), join(args, " "));
}

std::string VmBox::Impl::describe_failure() {
  std::string detail = last_line(scratch.path() / "qemu.log");
  std::string console = last_line(scratch.path() / "console.log");
  std::string out;
  if (!console.empty()) out += "; guest console: " + console;
  if (!detail.empty()) out += "; qemu: " + detail;
  return out;
}

void VmBox::boot() {
  auto& impl = *impl_;
  std::lock_guard boot_lock(impl.boot_mutex);
  if (impl.booted) return;
  impl.launch();
  impl.relay = start_thread_without_signals([&impl] { impl.run_relay(); });
  impl.booted = true;
}

void VmBox::start(Stdio stdio) { start(std::move(stdio), impl_->config.process); }

void VmBox::start(Stdio stdio, const Process& process) {
  auto& impl = *impl_;
  check_process(impl.id, process);
  {
    std::lock_guard lock(impl.mutex);
    if (impl.process_given || impl.finished) fail(ErrorKind::conflict, "VM {}: already started", impl.id);
    Impl::HostProcess main;
    main.terminal = process.terminal;
    main.in = dup_fd(stdio.in);
    main.out = dup_fd(stdio.out);
    if (!main.terminal) main.err = dup_fd(stdio.err);
    main.copy = std::move(stdio.copy);
    impl.processes[0] = std::move(main);
    impl.config.process = process;
    impl.process_given = true;
  }
  boot();
  bool agent_up;
  {
    std::lock_guard lock(impl.mutex);
    agent_up = impl.agent_up;
  }
  // Else the agent's hello sends it.
  if (impl.image->cached() || agent_up) impl.send_start();
}

// The process starts once the root image is complete. A cached image is
// complete at once: the start frame then waits in the channel for the agent
// (qemu holds it until the guest opens the port), saving a round trip.
void VmBox::Impl::send_start() {
  std::lock_guard once(start_mutex);  // the caller's thread and the relay's may both get here
  {
    std::lock_guard lock(mutex);
    if (start_sent || finished || !process_given) return;
  }
  try {
    image->wait_ready();
  } catch (const Error& e) {
    std::lock_guard lock(mutex);
    failure = e.what();
    kill_vm_locked();
    return;
  }
  std::lock_guard lock(mutex);
  if (start_sent) return;
  proto::ProcessSpec spec = config.process;
  spec.open_stdin = processes[0].in.valid();
  queue_locked(MessageType::start, 0, proto::encode_spec(spec));
  start_sent = true;
  log::debug("VM {}: root image ready, start queued at {} ms", id, elapsed_ms());
}

void VmBox::Impl::handle_frame(const proto::Frame& frame) {
  switch (frame.type) {
    case MessageType::hello: {
      log::debug("VM {}: agent up at {} ms (guest: {})", id, elapsed_ms(), frame.payload);
      {
        std::lock_guard lock(mutex);
        agent_up = true;
      }
      send_start();
      return;
    }
    case MessageType::stdout_data:
    case MessageType::stderr_data: {
      int fd = -1;
      bool is_stderr = false;
      std::function<void(bool, std::string_view)>* copy = nullptr;
      {
        std::lock_guard lock(mutex);
        auto it = processes.find(frame.process);
        if (it == processes.end()) return;
        auto& p = it->second;
        is_stderr = frame.type == MessageType::stderr_data && !p.terminal;
        fd = is_stderr ? p.err.get() : p.out.get();
        if (p.copy) copy = &p.copy;  // map nodes stay put; only this thread resets it
      }
      if (fd >= 0) write_all(fd, frame.payload.data(), frame.payload.size());
      if (copy) (*copy)(is_stderr, frame.payload);
      return;
    }
    case MessageType::exit: {
      if (frame.payload.size() != 4) return;
      int code = static_cast<std::int32_t>(proto::get_u32(frame.payload.data()));
      std::lock_guard lock(mutex);
      auto it = processes.find(frame.process);
      if (it == processes.end()) return;
      it->second.exit = code;
      it->second.in.reset();
      it->second.out.reset();
      it->second.err.reset();
      // Nothing in the guest outlives its main process: end the VM now
      // rather than wait for the guest's own power-off.
      if (frame.process == 0) {
        log::debug("VM {}: process exited with {} at {} ms", id, code, elapsed_ms());
        kill_vm_locked();
      }
      changed.notify_all();
      return;
    }
    case MessageType::trace:
      log::debug("VM {}: guest: {} (host {} ms)", id, frame.payload, elapsed_ms());
      return;
    case MessageType::error: {
      std::lock_guard lock(mutex);
      if (!errors.empty()) errors += "\n";
      errors += frame.payload;
      if (auto it = processes.find(frame.process); it != processes.end()) {
        if (!it->second.errors.empty()) it->second.errors += "\n";
        it->second.errors += frame.payload;
      }
      if (frame.process == 0 && !processes[0].exit) failure = frame.payload;
      changed.notify_all();
      return;
    }
    default:
      return;
  }
}

void VmBox::Impl::run_relay() {
  proto::FrameReader reader;
  ::fcntl(channel.get(), F_SETFL, ::fcntl(channel.get(), F_GETFL) | O_NONBLOCK);
  std::vector<pollfd> fds;
  std::vector<std::uint32_t> owners;
  bool channel_open = true;
  while (channel_open) {
    fds.clear();
    owners.clear();
    {
      std::lock_guard lock(mutex);
      fds.push_back({channel.get(), static_cast<short>(POLLIN | (outgoing.empty() ? 0 : POLLOUT)), 0});
      fds.push_back({wake.get(), POLLIN, 0});
      if (start_sent && outgoing.size() < kStdinBacklog) {
        for (auto& [pid, p] : processes) {
          if (p.in.valid() && !p.exit) {
            fds.push_back({p.in.get(), POLLIN, 0});
            owners.push_back(pid);
          }
        }
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      std::lock_guard lock(mutex);
      failure = std::string("poll: ") + std::strerror(errno);
      break;
    }
    if (fds[1].revents) {
      std::uint64_t count;
      (void)!::read(wake.get(), &count, sizeof count);
    }
    if (fds[0].revents & POLLOUT) {
      std::lock_guard lock(mutex);
      ssize_t n = ::send(channel.get(), outgoing.data(), outgoing.size(), MSG_NOSIGNAL);
      if (n > 0) outgoing.erase(0, static_cast<size_t>(n));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[65536];
      ssize_t n = ::read(channel.get(), buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        channel_open = false;  // qemu exited
      } else if (n > 0) {
        reader.feed(buffer, static_cast<size_t>(n));
        bool corrupt = false;
        while (auto frame = reader.next(corrupt)) handle_frame(*frame);
        if (corrupt) {
          std::lock_guard lock(mutex);
          failure = "corrupt frame from the guest agent";
          kill_vm_locked();
        }
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::uint32_t pid = owners[i - 2];
      char buffer[32768];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      std::lock_guard lock(mutex);
      auto it = processes.find(pid);
      if (it == processes.end() || it->second.in.get() != fds[i].fd) continue;
      if (n > 0) {
        queue_locked(MessageType::stdin_data, pid, std::string_view(buffer, static_cast<size_t>(n)));
      } else {
        it->second.in.reset();
        if (!it->second.terminal) queue_locked(MessageType::stdin_eof, pid, {});
      }
    }
  }
  // The VM is gone (or going): reap qemu without racing kill() on its pid.
  {
    std::lock_guard lock(mutex);
    kill_vm_locked();
  }
  siginfo_t info;
  ::waitid(P_PID, static_cast<id_t>(qemu_pid), &info, WEXITED | WNOWAIT);
  std::lock_guard lock(mutex);
  qemu.wait();
  qemu_reaped = true;
  log::debug("VM {}: qemu gone at {} ms", id, elapsed_ms());
  finished = true;
  if (!processes[0].exit && failure.empty() && !killed_with)
    failure = "the VM stopped before the process exited" + describe_failure();
  if (!failure.empty()) log::debug("VM {}: {}", id, failure);
  for (auto& [pid, p] : processes) {
    p.in.reset();
    p.out.reset();
    p.err.reset();
  }
  changed.notify_all();
}

void VmBox::kill(int signal) {
  auto& impl = *impl_;
  std::lock_guard lock(impl.mutex);
  if (impl.finished || impl.processes[0].exit) return;
  if (signal == SIGKILL || !impl.start_sent) {
    impl.killed_with = signal;
    impl.kill_vm_locked();
    return;
  }
  impl.queue_locked(MessageType::signal, 0, proto::encode_i32(signal));
}

void VmBox::resize(std::uint16_t rows, std::uint16_t cols) { resize_exec(0, rows, cols); }

void VmBox::resize_exec(std::uint32_t exec_id, std::uint16_t rows, std::uint16_t cols) {
  impl_->queue(MessageType::resize, exec_id, proto::encode_resize(rows, cols));
}

void VmBox::kill_exec(std::uint32_t exec_id, int signal) {
  impl_->queue(MessageType::signal, exec_id, proto::encode_i32(signal));
}

std::optional<int> VmBox::wait_for(std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  if (!impl.qemu.running() && !impl.finished) fail(ErrorKind::conflict, "VM {}: not started", impl.id);
  bool done = impl.changed.wait_for(lock, timeout, [&] { return impl.finished; });
  if (!done) return std::nullopt;
  if (auto code = impl.processes[0].exit) return *code;
  if (impl.killed_with) return 128 + *impl.killed_with;
  fail(ErrorKind::unavailable, "VM {}: {}", impl.id, impl.failure);
}

int VmBox::wait() {
  for (;;)
    if (auto code = wait_for(std::chrono::hours(24))) return *code;
}

int VmBox::stop(std::chrono::milliseconds grace) {
  kill(SIGTERM);
  if (auto code = wait_for(grace)) return *code;
  kill(SIGKILL);
  return wait();
}

std::uint32_t VmBox::exec(const Process& process, Stdio stdio) {
  auto& impl = *impl_;
  if (process.args.empty()) fail(ErrorKind::invalid_argument, "exec in VM {}: no command", impl.id);
  std::lock_guard lock(impl.mutex);
  if (impl.finished || !impl.start_sent) fail(ErrorKind::conflict, "exec in VM {}: the container is not running", impl.id);
  std::uint32_t exec_id = impl.next_exec_id++;
  Impl::HostProcess p;
  p.terminal = process.terminal;
  p.in = dup_fd(stdio.in);
  p.out = dup_fd(stdio.out);
  if (!p.terminal) p.err = dup_fd(stdio.err);
  p.copy = std::move(stdio.copy);
  Process spec = process;
  spec.open_stdin = p.in.valid();
  impl.processes[exec_id] = std::move(p);
  impl.queue_locked(MessageType::exec, exec_id, proto::encode_spec(spec));
  return exec_id;
}

int VmBox::wait_exec(std::uint32_t exec_id) {
  auto& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  auto it = impl.processes.find(exec_id);
  if (it == impl.processes.end()) fail(ErrorKind::not_found, "VM {}: no exec {}", impl.id, exec_id);
  impl.changed.wait(lock, [&] { return impl.finished || impl.processes[exec_id].exit.has_value(); });
  if (auto code = impl.processes[exec_id].exit) return *code;
  return 137;  // the VM went away under it
}

pid_t VmBox::qemu_pid() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->qemu_pid;
}

const GuestKernel& VmBox::kernel() const { return impl_->kernel; }
const AcceleratorChoice& VmBox::accelerator() const { return impl_->accel; }

std::string VmBox::errors() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->errors;
}

std::string VmBox::process_errors(std::uint32_t process) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->processes.find(process);
  return it == impl_->processes.end() ? std::string() : it->second.errors;
}

int run(const Root& root, const VmConfig& config, Stdio stdio) {
  VmBox box(root, "run", config);
  box.start(stdio);
  return box.wait();
}

}  // namespace skiff::vm
