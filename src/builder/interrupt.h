// Internal to the executor: Ctrl-C (SIGINT), SIGTERM and SIGHUP during a
// build. Instead of dying with containers running and overlays mounted,
// the build kills its RUN containers and fails its current steps, so every
// root is unmounted and every unfinished snapshot removed on the way out.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <signal.h>
#include <string>
#include <thread>

#include "core/fd.h"

namespace skiff::builder {

class InterruptWatch {
 public:
  // Blocks the signals in the calling thread (threads started later
  // inherit the mask) and watches them on a thread of its own.
  InterruptWatch();
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // A RUN container started (true) or ended (false).
  void track(const std::string& id, bool running);
  // Kills the running containers now (a parallel stage failed: the build
  // is lost, do not wait for the others' steps to end).
  void kill_running();
  bool interrupted() const { return signal_ != 0; }
  int signal() const { return signal_; }

 private:
  void watch();

  sigset_t saved_;
  UniqueFd signals_;
  UniqueFd stop_;
  std::mutex mutex_;
  std::set<std::string> running_;
  std::atomic<int> signal_{0};
  std::atomic<bool> stopping_{false};  // no new container may start
  std::thread thread_;
};

}  // namespace skiff::builder
