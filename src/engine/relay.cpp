#include "engine/relay.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "engine/fd_io.h"

namespace skiff::engine {

namespace {

// Copies the container's stdout/stderr to ours and into the log until both
// pipes close or `stop` is set and nothing more is buffered.
void relay_output(int out, int err, container::LogWriter& log, const std::atomic<bool>& stop) {
  int fds[2] = {out, err};
  const char* names[2] = {"stdout", "stderr"};
  char buffer[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2];
    int n = 0, owner[2];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) p[n] = {fds[i], POLLIN, 0}, owner[n++] = i;
    int ready = ::poll(p, static_cast<nfds_t>(n), stop ? 0 : 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (stop) return;
      continue;
    }
    for (int i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      int s = owner[i];
      ssize_t got = ::read(fds[s], buffer, sizeof buffer);
      if (got > 0) {
        write_all(s == 0 ? STDOUT_FILENO : STDERR_FILENO, std::string_view(buffer, static_cast<size_t>(got)));
        log.write(names[s], std::string_view(buffer, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[s] = -1;
      }
    }
  }
}

}  // namespace

OutputRelay::OutputRelay(const std::filesystem::path& log_file, std::uint64_t log_max_size)
    : log_(log_file, log_max_size) {
  thread_ = std::thread([this] { relay_output(out_.read.get(), err_.read.get(), log_, stop_); });
}

OutputRelay::~OutputRelay() {
  try {
    finish();
  } catch (const std::exception&) {  // the log's disk is gone: nothing more to do on the way out
  }
}

void OutputRelay::finish() {
  if (!thread_.joinable()) return;
  out_.write.reset();
  err_.write.reset();
  stop_ = true;
  thread_.join();
  log_.flush();
}

}  // namespace skiff::engine
