// A foreground command attached to the user: what a shell delivers to the
// foreground job (Ctrl-C, kill, terminal resizes) turned into calls that
// reach a process in a VM, and the terminal in raw mode while a pty in the
// guest does the line editing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace skiff::vm {

struct AttachHandlers {
  std::function<void(int signal)> signal;                            // SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2
  std::function<void(std::uint16_t rows, std::uint16_t cols)> resize;  // SIGWINCH, with the new size
};

class Attachment {
 public:
  // Blocks the forwarded signals in the calling thread (and so in threads
  // it starts afterwards: construct this before the VM's threads) and
  // handles them on a thread of its own. `terminal_fd` >= 0: raw mode on
  // that terminal, and its size changes reported.
  Attachment(int terminal_fd, AttachHandlers handlers);
  // Stops the thread, restores the terminal and the signal mask (signals
  // still pending are dropped: they were meant for the finished process).
  ~Attachment();
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The user's terminal: stdin if it is one, else stdout if it is, else -1.
int user_terminal();

// The window size of a terminal; {0, 0} when `fd` is none.
std::pair<std::uint16_t, std::uint16_t> terminal_size(int fd);

}  // namespace skiff::vm
