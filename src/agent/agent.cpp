// skiff-agent: pid 1 of a skiff utility VM. Linked statically and packed
// into the initramfs next to the kernel modules it needs.
//
// It loads the modules listed in /modules/order (the disk driver only once
// the host said the root image is complete), opens the virtio-serial
// port to the host, says hello, and waits for the container's process spec.
// Then it mounts the root filesystem (the erofs image on /dev/vda under a
// tmpfs-backed overlay, so writes never reach the image), switches into it,
// runs the process, relays its stdio, signals and window size, runs exec'd
// processes on request, and reports exit codes. When the main process exits
// it powers the VM off. See src/vm/protocol.h for the wire format and
// src/vm/README.md for the design.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "vm/protocol.h"

namespace {

namespace proto = skiff::vm::protocol;
using proto::MessageType;

int channel_fd = -1;

void console(const std::string& message) {
  std::string line = "skiff-agent: " + message + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

[[noreturn]] void power_off() {
  ::sync();
  // With reboot=t and qemu's -no-reboot this ends qemu at once.
  ::reboot(RB_AUTOBOOT);
  for (;;) ::pause();
}

void send(MessageType type, std::uint32_t process, std::string_view payload) {
  std::string frame = proto::encode_frame(type, process, payload);
  std::string_view rest = frame;
  while (!rest.empty()) {
    ssize_t n = ::write(channel_fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        pollfd p{channel_fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      console(std::string("write to host: ") + std::strerror(errno));
      power_off();
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

void send_output(MessageType type, std::uint32_t process, const char* data, size_t size) {
  while (size > 0) {
    size_t chunk = std::min<size_t>(size, proto::kMaxPayload);
    send(type, process, std::string_view(data, chunk));
    data += chunk;
    size -= chunk;
  }
}

[[noreturn]] void fatal(const std::string& message) {
  console(message);
  if (channel_fd >= 0) send(MessageType::error, 0, message);
  power_off();
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

void mount_or_die(const char* source, const char* target, const char* type, unsigned long flags,
                  const char* data = nullptr) {
  ::mkdir(target, 0755);
  if (::mount(source, target, type, flags, data) != 0)
    fatal(errno_text(std::string("mount ") + type + " on " + target));
}

long finit_module(int fd) { return ::syscall(SYS_finit_module, fd, "", 0); }

long uptime_ms();

// The disk's driver is loaded only once the host said the root image is
// complete: the kernel reads the disk when the driver binds (partition
// scan), and blocks it cached while the host was still writing the image
// (it boots in parallel) could be stale, which BLKFLSBUF does not always undo.
bool deferred_module(const std::string& name) { return name.starts_with("virtio_blk."); }

void load_module(const std::string& name, std::string& timings) {
  std::string path = "/modules/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fatal(errno_text("open " + path));
  long before = uptime_ms();
  if (finit_module(fd) != 0 && errno != EEXIST) fatal(errno_text("load module " + name));
  ::close(fd);
  timings += ", " + name + " " + std::to_string(uptime_ms() - before) + " ms";
}

// Loads the modules in /modules/order, but for those deferred_module()
// names, which it returns.
std::vector<std::string> load_modules(std::string& timings) {
  std::vector<std::string> deferred;
  FILE* order = std::fopen("/modules/order", "re");
  if (!order) return deferred;  // everything needed is built in
  char line[512];
  while (std::fgets(line, sizeof line, order)) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    if (name.empty()) continue;
    if (deferred_module(name)) deferred.push_back(name);
    else load_module(name, timings);
  }
  std::fclose(order);
  return deferred;
}

// Milliseconds since the guest kernel started: the agent reports its
// phases in the hello frame so the host can log where boot time goes.
long uptime_ms() {
  timespec t;
  ::clock_gettime(CLOCK_BOOTTIME, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void sleep_ms(long ms) {
  timespec t{ms / 1000, (ms % 1000) * 1000000};
  ::nanosleep(&t, nullptr);
}

// Device nodes appear in devtmpfs once the driver has probed; virtio-serial
// ports arrive asynchronously over the control queue.
std::string wait_for_device(const char* prefix, const char* suffix, long timeout_ms) {
  long deadline = uptime_ms() + timeout_ms;
  for (;;) {
    if (DIR* dir = ::opendir("/dev")) {
      std::string found;
      while (dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name.starts_with(prefix) && name.ends_with(suffix)) {
          found = "/dev/" + name;
          break;
        }
      }
      ::closedir(dir);
      if (!found.empty()) return found;
    }
    if (uptime_ms() > deadline) return {};
    sleep_ms(1);
  }
}

// The host asks for phase traces (skiff_trace=1 on the kernel command line,
// which the kernel hands to init as an environment variable) only when it
// logs them: each frame is a round of device emulation.
const bool tracing = [] {
  const char* value = std::getenv("skiff_trace");
  return value && *value == '1';
}();

void trace(const std::string& what) {
  if (tracing) send(MessageType::trace, 0, what + " at " + std::to_string(uptime_ms()) + " ms");
}

std::vector<std::string> deferred_modules;

void setup_root(const proto::ProcessSpec& spec) {
  trace("start received");
  if (!deferred_modules.empty()) {
    std::string timings = "disk driver";
    for (const auto& name : deferred_modules) load_module(name, timings);
    trace(timings + " loaded");
  }
  std::string disk = wait_for_device("vda", "", 10000);
  if (disk.empty()) fatal("no root disk /dev/vda: is virtio_blk built in or in the initramfs?");
  // With a built-in disk driver the kernel read the disk at boot, maybe
  // before the host finished the image (it boots while mkfs.erofs runs):
  // drop any stale cached blocks before mounting, and once more if the
  // mount still saw stale ones.
  ::mkdir("/mnt/lower", 0755);
  for (int attempt = 1;; ++attempt) {
    int disk_fd = ::open(disk.c_str(), O_RDONLY | O_CLOEXEC);
    if (disk_fd >= 0) {
      ::ioctl(disk_fd, BLKFLSBUF, 0);
      ::close(disk_fd);
    }
    if (::mount(disk.c_str(), "/mnt/lower", "erofs", MS_RDONLY | MS_NODEV, nullptr) == 0) break;
    if (errno != EINVAL || attempt == 20) fatal(errno_text("mount erofs on /mnt/lower"));
    trace("erofs mount saw a stale superblock, retrying");
    sleep_ms(10);
  }
  trace("erofs mounted");
  mount_or_die("rw", "/mnt/rw", "tmpfs", MS_NODEV, "mode=0755");
  ::mkdir("/mnt/rw/upper", 0755);
  ::mkdir("/mnt/rw/work", 0755);
  mount_or_die("overlay", "/mnt/root", "overlay", 0,
               "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
  trace("overlay mounted");
  if (::chdir("/mnt/root") != 0) fatal(errno_text("chdir /mnt/root"));
  mount_or_die("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  mount_or_die("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
  mount_or_die("dev", "dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_die("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mount_or_die("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  // cgroup2 is cheap to offer and lets tools inside read their limits.
  ::mount("cgroup2", "sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  ::unlink("dev/ptmx");
  (void)!::symlink("pts/ptmx", "dev/ptmx");
  (void)!::symlink("/proc/self/fd", "dev/fd");
  (void)!::symlink("/proc/self/fd/0", "dev/stdin");
  (void)!::symlink("/proc/self/fd/1", "dev/stdout");
  (void)!::symlink("/proc/self/fd/2", "dev/stderr");
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
    fatal(errno_text("sethostname " + spec.hostname));
  // switch_root: the container's root becomes the VM's root.
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) fatal(errno_text("move root"));
  if (::chroot(".") != 0) fatal(errno_text("chroot"));
  if (::chdir("/") != 0) fatal(errno_text("chdir /"));
  trace("root ready");
}

struct Process {
  pid_t pid = -1;
  int in = -1;       // stdin pipe or the pty master (terminal)
  int out = -1;      // stdout pipe or the pty master
  int err = -1;      // stderr pipe (not with a terminal)
  bool terminal = false;
  std::string pending_in;
  bool close_in_when_drained = false;
};

std::map<std::uint32_t, Process> processes;

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string find_program(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (e.starts_with("PATH=")) path = e.substr(5);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

[[noreturn]] void child_failed(int report, const std::string& message, int code) {
  std::string text = static_cast<char>(code) + message;
  (void)!::write(report, text.data(), text.size());
  ::_exit(code);
}

// Runs in the forked child: never returns. Failures go through `report`
// (a close-on-exec pipe) so the parent can tell the host what went wrong.
[[noreturn]] void exec_child(const proto::ProcessSpec& spec, int report, int stdin_fd, int stdout_fd,
                             int stderr_fd, const std::string& pty_slave) {
  auto die = [report](const std::string& message, int code) { child_failed(report, message, code); };
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_UNBLOCK, &all, nullptr);
  ::signal(SIGPIPE, SIG_DFL);  // ignored dispositions survive execve
  ::setsid();
  if (spec.terminal) {
    int slave = ::open(pty_slave.c_str(), O_RDWR);
    if (slave < 0) die(errno_text("open " + pty_slave), 126);
    ::ioctl(slave, TIOCSCTTY, 0);
    stdin_fd = stdout_fd = stderr_fd = slave;
  }
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0)
    die(errno_text("dup2"), 126);
  // One syscall, not a thousand: each costs a trap into the emulator under TCG.
  if (report > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(report - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(report + 1), ~0u, 0u);
  // Like runc: a missing working directory is created (as root, before
  // the process drops to its user).
  for (size_t slash = spec.cwd.find('/', 1);; slash = spec.cwd.find('/', slash + 1)) {
    ::mkdir(spec.cwd.substr(0, slash).c_str(), 0755);
    if (slash == std::string::npos) break;
  }
  std::vector<gid_t> groups(spec.additional_gids.begin(), spec.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) die(errno_text("setgroups"), 126);
  if (::setgid(spec.gid) != 0) die(errno_text("setgid " + std::to_string(spec.gid)), 126);
  if (::setuid(spec.uid) != 0) die(errno_text("setuid " + std::to_string(spec.uid)), 126);
  if (::chdir(spec.cwd.c_str()) != 0) die(errno_text("chdir to cwd " + spec.cwd), 126);
  std::string program = find_program(spec.args[0], spec.env);
  if (program.empty()) die("exec: \"" + spec.args[0] + "\": executable file not found in $PATH", 127);
  std::vector<char*> argv, envp;
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(program.c_str(), argv.data(), envp.data());
  child_failed(report, errno_text("exec " + program), errno == ENOENT ? 127 : 126);
}

// Starts a process; on failure reports an error and an exit status for it.
void spawn(std::uint32_t id, const proto::ProcessSpec& spec) {
  Process proc;
  proc.terminal = spec.terminal;
  int child_in = -1, child_out = -1, child_err = -1;
  std::string slave_name;
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  if (spec.terminal) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
      send(MessageType::error, id, errno_text("open a pty"));
      send(MessageType::exit, id, proto::encode_i32(126));
      return;
    }
    slave_name = ::ptsname(master);
    winsize size{spec.rows, spec.cols, 0, 0};
    if (spec.rows && spec.cols) ::ioctl(master, TIOCSWINSZ, &size);
    proc.in = proc.out = master;
  } else {
    for (auto& p : pipes)
      if (::pipe2(p, O_CLOEXEC) != 0) fatal(errno_text("pipe"));
    if (spec.open_stdin) {
      child_in = pipes[0][0];
      proc.in = pipes[0][1];
    } else {
      ::close(pipes[0][1]);
      ::close(pipes[0][0]);
      child_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    child_out = pipes[1][1];
    proc.out = pipes[1][0];
    child_err = pipes[2][1];
    proc.err = pipes[2][0];
  }
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) fatal(errno_text("pipe"));
  pid_t pid = ::fork();
  if (pid < 0) fatal(errno_text("fork"));
  if (pid == 0) {
    ::close(report[0]);
    exec_child(spec, report[1], child_in, child_out, child_err, slave_name);
  }
  ::close(report[1]);
  for (int fd : {child_in, child_out, child_err})
    if (fd >= 0) ::close(fd);
  char buffer[1024];
  ssize_t n;
  std::string failure;
  while ((n = ::read(report[0], buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    failure.append(buffer, static_cast<size_t>(n));
  }
  ::close(report[0]);
  proc.pid = pid;
  for (int fd : {proc.in, proc.out, proc.err})
    if (fd >= 0) set_nonblocking(fd);
  if (!failure.empty()) send(MessageType::error, id, failure.substr(1));
  processes[id] = std::move(proc);
  trace("process " + std::to_string(id) + " started");
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void close_process_fds(Process& p) {
  if (p.terminal) {
    close_fd(p.out);
    p.in = -1;
  } else {
    close_fd(p.in);
    close_fd(p.out);
    close_fd(p.err);
  }
}

// Reads what `fd` has now; false once it reached EOF or an error (a pty
// master reports EIO when its last slave closed).
bool pump_output(int fd, MessageType type, std::uint32_t id) {
  char buffer[32768];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      send_output(type, id, buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;
  }
}

void flush_stdin(Process& p) {
  while (!p.pending_in.empty() && p.in >= 0) {
    ssize_t n = ::write(p.in, p.pending_in.data(), p.pending_in.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      p.pending_in.clear();  // the process closed its stdin
      break;
    }
    p.pending_in.erase(0, static_cast<size_t>(n));
  }
  if (p.pending_in.empty() && p.close_in_when_drained && !p.terminal) close_fd(p.in);
}

void finish(std::uint32_t id, int status) {
  auto it = processes.find(id);
  if (it == processes.end()) return;
  Process& p = it->second;
  if (p.out >= 0) pump_output(p.out, MessageType::stdout_data, id);
  if (p.err >= 0) pump_output(p.err, MessageType::stderr_data, id);
  close_process_fds(p);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  trace("process " + std::to_string(id) + " exited");
  send(MessageType::exit, id, proto::encode_i32(code));
  processes.erase(it);
  if (id == 0) {
    // The exit frame may still sit in the virtqueue: a reset now could lose
    // it. The host ends the VM once it has read it; power off only if it
    // does not (it went away).
    for (int waited = 0; waited < 100; ++waited) {
      pollfd p{channel_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char discard[4096];
        if (::read(channel_fd, discard, sizeof discard) <= 0 && (p.revents & POLLHUP)) sleep_ms(100);
      }
    }
    power_off();
  }
}

void reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& [id, p] : processes) {
      if (p.pid == pid) {
        finish(id, status);
        break;
      }
    }
  }
}

void handle_frame(const proto::Frame& frame, bool& started) {
  auto it = processes.find(frame.process);
  Process* p = it == processes.end() ? nullptr : &it->second;
  switch (frame.type) {
    case MessageType::start:
    case MessageType::exec: {
      auto spec = proto::decode_spec(frame.payload);
      if (!spec) {
        send(MessageType::error, frame.process, "malformed process spec");
        send(MessageType::exit, frame.process, proto::encode_i32(126));
        return;
      }
      if (frame.type == MessageType::start) {
        if (started) return;
        setup_root(*spec);
        started = true;
        spawn(0, *spec);
      } else {
        if (!started || p) {
          send(MessageType::error, frame.process, "exec before start or with an id in use");
          send(MessageType::exit, frame.process, proto::encode_i32(126));
          return;
        }
        spawn(frame.process, *spec);
      }
      return;
    }
    case MessageType::stdin_data:
      if (p && p->in >= 0) {
        p->pending_in += frame.payload;
        flush_stdin(*p);
      }
      return;
    case MessageType::stdin_eof:
      if (p) {
        p->close_in_when_drained = true;
        flush_stdin(*p);
      }
      return;
    case MessageType::signal:
      if (p && frame.payload.size() == 4) ::kill(p->pid, static_cast<int>(proto::get_u32(frame.payload.data())));
      return;
    case MessageType::resize:
      if (p && p->terminal && frame.payload.size() == 8) {
        winsize size{static_cast<unsigned short>(proto::get_u32(frame.payload.data())),
                     static_cast<unsigned short>(proto::get_u32(frame.payload.data() + 4)), 0, 0};
        ::ioctl(p->out, TIOCSWINSZ, &size);
      }
      return;
    default:
      return;
  }
}

void event_loop(int signal_fd) {
  proto::FrameReader reader;
  bool started = false;
  std::vector<pollfd> fds;
  std::vector<std::pair<std::uint32_t, MessageType>> owners;
  for (;;) {
    fds.clear();
    owners.clear();
    fds.push_back({channel_fd, POLLIN, 0});
    owners.push_back({0, MessageType::hello});
    fds.push_back({signal_fd, POLLIN, 0});
    owners.push_back({0, MessageType::hello});
    for (auto& [id, p] : processes) {
      if (p.out >= 0) {
        fds.push_back({p.out, static_cast<short>(POLLIN | (p.terminal && !p.pending_in.empty() ? POLLOUT : 0)), 0});
        owners.push_back({id, MessageType::stdout_data});
      }
      if (p.err >= 0) {
        fds.push_back({p.err, POLLIN, 0});
        owners.push_back({id, MessageType::stderr_data});
      }
      if (!p.terminal && p.in >= 0 && !p.pending_in.empty()) {
        fds.push_back({p.in, POLLOUT, 0});
        owners.push_back({id, MessageType::stdin_data});
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      fatal(errno_text("poll"));
    }
    if (fds[1].revents) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) > 0) {
      }
      reap();
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      auto [id, kind] = owners[i];
      auto it = processes.find(id);
      if (it == processes.end()) continue;
      Process& p = it->second;
      if (kind == MessageType::stdin_data || (fds[i].revents & POLLOUT)) flush_stdin(p);
      if (kind == MessageType::stdin_data) continue;
      int& fd = kind == MessageType::stderr_data ? p.err : p.out;
      if (fd != fds[i].fd) continue;
      if (!pump_output(fd, kind, id)) {
        if (p.terminal) {
          close_fd(p.out);
          p.in = -1;
        } else {
          close_fd(fd);
        }
      }
    }
    if (fds[0].revents & POLLIN) {
      char buffer[65536];
      ssize_t n = ::read(channel_fd, buffer, sizeof buffer);
      if (n > 0) {
        reader.feed(buffer, static_cast<size_t>(n));
        bool corrupt = false;
        while (auto frame = reader.next(corrupt)) handle_frame(*frame, started);
        if (corrupt) fatal("corrupt frame from the host");
      }
    } else if (fds[0].revents & (POLLHUP | POLLERR)) {
      // No host listening (the port is not open yet): wait a little.
      sleep_ms(1);
    }
  }
}

}  // namespace

int main() {
  if (::getpid() != 1) {
    std::fprintf(stderr, "skiff-agent runs as pid 1 of a skiff VM; it is not meant to be started by hand\n");
    return 2;
  }
  std::string timings = "init " + std::to_string(uptime_ms()) + " ms";
  ::mkdir("/dev", 0755);
  ::mount("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  deferred_modules = load_modules(timings);
  timings += ", modules loaded " + std::to_string(uptime_ms()) + " ms";
  std::string port = wait_for_device("vport", "p1", 10000);
  timings += ", channel " + std::to_string(uptime_ms()) + " ms";
  if (port.empty()) fatal("no virtio-serial port: is virtio_console built in or in the initramfs?");
  // The node appears in devtmpfs a moment before the port is registered;
  // until then open() says ENXIO.
  long deadline = uptime_ms() + 10000;
  while ((channel_fd = ::open(port.c_str(), O_RDWR | O_CLOEXEC)) < 0 && errno == ENXIO && uptime_ms() < deadline)
    sleep_ms(1);
  if (channel_fd < 0) fatal(errno_text("open " + port));

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  int signal_fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) fatal(errno_text("signalfd"));
  ::signal(SIGPIPE, SIG_IGN);

  send(MessageType::hello, 0, timings);
  event_loop(signal_fd);
}
