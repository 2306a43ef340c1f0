#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fs.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

void setup_terminal(int root_fd, bool bind_console, const ProcessPlan& plan, int sync_socket) noexcept {
  int master = open_in_root(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master == -ENOENT) master = open_in_root(root_fd, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) child_fail(-master, "terminal: open /dev/pts/ptmx in the container (is devpts mounted on /dev/pts?)");
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) child_fail(errno, "terminal: unlock the pty");
  // The slave through the master itself: no path lookup to trick.
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) child_fail(errno, "terminal: open the pty slave");
  if (::fchown(slave, plan.uid, static_cast<gid_t>(-1)) != 0 && errno != EPERM && errno != EINVAL)
    child_fail(errno, "terminal: hand the pty to uid %u", plan.uid);
  if (plan.console_size) {
    winsize size{};
    size.ws_row = static_cast<unsigned short>(plan.console_size->first);
    size.ws_col = static_cast<unsigned short>(plan.console_size->second);
    ::ioctl(slave, TIOCSWINSZ, &size);
  }
  if (bind_console) {
    int console = open_in_root(root_fd, "/dev/console", O_CREAT | O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
    if (console == -EEXIST || console == -ELOOP) console = open_in_root(root_fd, "/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (console < 0) child_fail(-console, "terminal: create /dev/console");
    char source[32], target[32];
    snprintf(source, sizeof source, "/proc/self/fd/%d", slave);
    snprintf(target, sizeof target, "/proc/self/fd/%d", console);
    if (::mount(source, target, nullptr, MS_BIND, nullptr) != 0) child_fail(errno, "terminal: bind the pty on /dev/console");
    ::close(console);
  }
  int rc = sync_send(sync_socket, SyncType::pty, 0, nullptr, 0, master);
  if (rc != 0) child_fail(rc, "terminal: pass the pty master to the runtime");
  ::close(master);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) child_fail(errno, "terminal: make the pty the controlling terminal");
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave, fd) < 0) child_fail(errno, "terminal: attach the pty to fd %d", fd);
  ::close(slave);
}

void send_to_console_socket(const fs::path& socket_path, int pty_master) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) fail_errno("console socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.string().size() >= sizeof address.sun_path)
    fail(ErrorKind::invalid_argument, "--console-socket {}: path too long for a unix socket", socket_path.string());
  strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    fail_errno("connect to the console socket " + socket_path.string());
  char name[64] = "/dev/ptmx";
  int number = 0;
  if (::ioctl(pty_master, TIOCGPTN, &number) == 0) snprintf(name, sizeof name, "/dev/pts/%d", number);
  iovec part{name, strlen(name)};
  msghdr msg{};
  msg.msg_iov = &part;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &pty_master, sizeof(int));
  if (::sendmsg(sock.get(), &msg, MSG_NOSIGNAL) < 0) fail_errno("send the pty to the console socket " + socket_path.string());
}

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios current;
  if (!::isatty(fd) || ::tcgetattr(fd, &current) != 0) return;
  saved_ = current;
  termios raw = current;
  ::cfmakeraw(&raw);
  ::tcsetattr(fd, TCSANOW, &raw);
}

RawTerminal::~RawTerminal() {
  if (saved_) ::tcsetattr(fd_, TCSANOW, &*saved_);
}

void copy_window_size(int from, int to) {
  winsize size{};
  if (::ioctl(from, TIOCGWINSZ, &size) == 0 && (size.ws_row || size.ws_col)) ::ioctl(to, TIOCSWINSZ, &size);
}

void set_window_size(int fd, unsigned rows, unsigned columns) {
  winsize size{};
  size.ws_row = static_cast<unsigned short>(rows);
  size.ws_col = static_cast<unsigned short>(columns);
  ::ioctl(fd, TIOCSWINSZ, &size);
}

}  // namespace skiff::runtime
