#include "vm/attach.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "core/error.h"
#include "core/fd.h"

namespace skiff::vm {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

}  // namespace

int user_terminal() {
  if (::isatty(STDIN_FILENO)) return STDIN_FILENO;
  return ::isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
}

std::pair<std::uint16_t, std::uint16_t> terminal_size(int fd) {
  winsize size{};
  if (fd < 0 || ::ioctl(fd, TIOCGWINSZ, &size) != 0) return {0, 0};
  return {size.ws_row, size.ws_col};
}

struct Attachment::State {
  int terminal = -1;
  std::optional<termios> saved;
  sigset_t forwarded{}, previous{};
  UniqueFd signals, stop;
  std::thread thread;
};

Attachment::Attachment(int terminal_fd, AttachHandlers handlers) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  sigemptyset(&s.forwarded);
  for (int signal : kForwarded) sigaddset(&s.forwarded, signal);
  ::pthread_sigmask(SIG_BLOCK, &s.forwarded, &s.previous);
  s.signals.reset(::signalfd(-1, &s.forwarded, SFD_CLOEXEC));
  s.stop.reset(::eventfd(0, EFD_CLOEXEC));
  if (!s.signals || !s.stop) {
    ::pthread_sigmask(SIG_SETMASK, &s.previous, nullptr);
    fail_errno("signalfd for the attached process");
  }
  if (terminal_fd >= 0 && ::isatty(terminal_fd)) {
    termios current;
    if (::tcgetattr(terminal_fd, &current) == 0) {
      termios raw = current;
      ::cfmakeraw(&raw);
      if (::tcsetattr(terminal_fd, TCSANOW, &raw) == 0) {
        s.saved = current;
        s.terminal = terminal_fd;
      }
    }
  }
  s.thread = std::thread([&s, handlers = std::move(handlers), terminal_fd] {
    for (;;) {
      pollfd fds[2] = {{s.signals.get(), POLLIN, 0}, {s.stop.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      signalfd_siginfo info;
      if (::read(s.signals.get(), &info, sizeof info) != sizeof info) continue;
      int signal = static_cast<int>(info.ssi_signo);
      if (signal == SIGWINCH) {
        auto [rows, cols] = terminal_size(terminal_fd);
        if (handlers.resize && rows && cols) handlers.resize(rows, cols);
      } else if (handlers.signal) {
        handlers.signal(signal);
      }
    }
  });
}

Attachment::~Attachment() {
  auto& s = *state_;
  std::uint64_t one = 1;
  (void)!::write(s.stop.get(), &one, sizeof one);
  s.thread.join();
  if (s.saved) ::tcsetattr(s.terminal, TCSANOW, &*s.saved);
  timespec now{0, 0};
  while (::sigtimedwait(&s.forwarded, nullptr, &now) > 0) {
  }
  ::pthread_sigmask(SIG_SETMASK, &s.previous, nullptr);
}

}  // namespace skiff::vm
