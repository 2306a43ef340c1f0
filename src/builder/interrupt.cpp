#include "builder/interrupt.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "runtime/runtime.h"

namespace skiff::builder {

namespace {

sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  return set;
}

}  // namespace

InterruptWatch::InterruptWatch() {
  sigset_t set = watched();
  if (::pthread_sigmask(SIG_BLOCK, &set, &saved_) != 0) fail_errno("block signals");
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!signals_ || !stop_) {
    ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    fail_errno("watch signals");
  }
  thread_ = std::thread([this] { watch(); });
}

InterruptWatch::~InterruptWatch() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
  thread_.join();
  ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

void InterruptWatch::track(const std::string& id, bool running) {
  std::lock_guard lock(mutex_);
  if (running) running_.insert(id);
  else running_.erase(id);
  if (running && stopping_) {
    // Interrupted before this one could start: it does not start.
    running_.erase(id);
    fail(ErrorKind::unavailable, "build stopped before this step could start");
  }
}

void InterruptWatch::watch() {
  for (;;) {
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    // Once interrupted, keep killing: a container that was still being
    // created a moment ago may run now.
    int ready = ::poll(fds, 2, signal_ ? 100 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    signalfd_siginfo info;
    if (fds[0].revents && ::read(signals_.get(), &info, sizeof info) == sizeof info)
      signal_ = static_cast<int>(info.ssi_signo);
    if (!signal_) continue;
    kill_running();
  }
}

void InterruptWatch::kill_running() {
  std::set<std::string> victims;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    victims = running_;
  }
  runtime::Runtime runtime;
  for (const auto& id : victims) {
    try {
      runtime.kill(id, SIGKILL, true);
    } catch (const Error& e) {
      log::debug("kill build container {}: {}", id, e.what());
    }
  }
}

}  // namespace skiff::builder
