#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "core/error.h"

namespace skiff::log {

namespace {
std::atomic<Level> current{Level::warn};
}

void set_level(Level l) { current = l; }
Level level() { return current; }

Level parse_level(std::string_view text) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn" || text == "warning") return Level::warn;
  if (text == "error") return Level::error;
  fail(ErrorKind::invalid_argument, "invalid log level \"{}\": use debug, info, warn or error", text);
}

void write(Level l, std::string_view message) {
  static constexpr const char* names[] = {"debug", "info", "warning", "error"};
  std::string line = fmt::format("skiff: {}: {}\n", names[static_cast<int>(l)], message);
  // One write() per line keeps lines from concurrent threads whole.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace skiff::log
