// Internal to the engine: whole reads and writes on pipes between the
// processes of a container's start (sync reports, relayed output).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/fd.h"

namespace skiff::engine {

// Best effort: stops when the reader is gone.
inline void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

inline std::string read_to_end(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

inline UniqueFd open_devnull() {
  UniqueFd fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!fd) fail_errno("open /dev/null");
  return fd;
}

}  // namespace skiff::engine
