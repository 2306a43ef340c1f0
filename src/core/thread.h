// Helper threads that never take asynchronous signals: a process that
// turns its signals into work (a signalfd in one thread, e.g. forwarding
// Ctrl-C to a container) needs every other thread to block them, also the
// threads started before it began doing so.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace skiff {

template <typename Function>
std::thread start_thread_without_signals(Function&& function) {
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);  // inherited by the new thread
  struct Restore {
    sigset_t& mask;
    ~Restore() { ::pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};
  return std::thread(std::forward<Function>(function));
}

}  // namespace skiff
