// Signal names as runc accepts them ("TERM", "SIGTERM", "15", "RTMIN+2").
#include <signal.h>
#include <string.h>

#include <cctype>
#include <charconv>

#include "core/error.h"
#include "runtime/runtime.h"

namespace skiff::runtime {

int parse_signal(std::string_view text) {
  std::string name(text);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.starts_with("SIG")) name = name.substr(3);
  int number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && end == name.data() + name.size()) {
    if (number > 0 && number < NSIG) return number;
  } else {
    for (int sig = 1; sig < SIGRTMIN; ++sig) {
      const char* abbrev = sigabbrev_np(sig);
      if (abbrev && name == abbrev) return sig;
    }
    if (name.starts_with("RTMIN") || name.starts_with("RTMAX")) {
      int base = name.starts_with("RTMIN") ? SIGRTMIN : SIGRTMAX;
      std::string_view offset = std::string_view(name).substr(5);
      int delta = 0;
      if (!offset.empty()) {
        bool minus = offset[0] == '-';
        if (offset[0] != '+' && offset[0] != '-') delta = -1000;
        else if (std::from_chars(offset.data() + 1, offset.data() + offset.size(), delta).ec != std::errc()) delta = -1000;
        else if (minus) delta = -delta;
      }
      int sig = base + delta;
      if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
    }
  }
  fail(ErrorKind::invalid_argument, "invalid signal \"{}\": use a name (TERM, SIGKILL) or a number", text);
}

}  // namespace skiff::runtime
