// Terminals: the runtime side of a container's pty (the child side is in
// console.cpp too, declared in init.h).
#pragma once

#include <termios.h>

#include <filesystem>
#include <optional>

#include "core/fd.h"

namespace skiff::runtime {

// Sends the pty master to a console socket the way runc does (SCM_RIGHTS,
// the pty's name as payload), so podman/conmon can drive skiff.
void send_to_console_socket(const std::filesystem::path& socket, int pty_master);

// Puts a terminal in raw mode for the life of the object (the user's TTY
// while `run -t` relays the container's pty).
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return saved_.has_value(); }

 private:
  int fd_;
  std::optional<termios> saved_;
};

// Copies the window size of terminal `from` to `to` (no-op if `from` is not
// a terminal).
void copy_window_size(int from, int to);
void set_window_size(int fd, unsigned rows, unsigned columns);

}  // namespace skiff::runtime
