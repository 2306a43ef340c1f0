// Internal: starting a container's init or an exec'd process, shared by
// create/run (container.cpp, run.cpp) and exec (exec.cpp).
#pragma once

#include <memory>

#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "runtime/state.h"

namespace skiff::runtime {

// A container whose init waits for start.
struct Launched {
  Process process;
  UniqueFd sync;  // the runtime's end of the init's socket (run mode: start, exec failures)
  std::unique_ptr<Cgroup> cgroup;
  Spec spec;
  std::string state_json;  // OCI state, for hooks
};

// `use_fifo`: the init waits on <state>/exec.fifo for `start` from any
// process (create); otherwise on SyncType::start over `sync` (run).
Launched launch(const std::filesystem::path& state_root, const CreateOptions& options, bool use_fifo);

// Sends SyncType::start and runs poststart hooks (run mode).
void start_launched(Launched& container);

// The OCI state JSON ({"ociVersion","id","status","pid","bundle","annotations"}).
std::string oci_state_json(const std::string& id, Status status, pid_t pid, const std::filesystem::path& bundle,
                           const std::map<std::string, std::string>& annotations);

// Stops what is left of a container and removes its cgroup and state;
// runs poststop hooks. Used by remove() and at the end of run().
void destroy_container(const ContainerDir& dir, const Json& saved, bool kill_first);

// Waits for a process started by this runtime (its pidfd).
ExitStatus wait_pidfd(int pidfd);

// A foreground session: forwards signals to `target`, relays a pty, and
// collects an exec failure reported on `sync`. Returns when it exits.
struct Foreground {
  int pidfd = -1;
  int pty_master = -1;
  int sync = -1;
  int signal_fd = -1;
  bool relay_terminal = true;
};
ExitStatus drive_foreground(Foreground& session, std::string& exec_failure, int& exec_failure_code);

// Blocks the signals a foreground session forwards, for the life of the
// object, and offers them on a signalfd.
class ForwardedSignals {
 public:
  ForwardedSignals();
  ~ForwardedSignals();
  ForwardedSignals(const ForwardedSignals&) = delete;
  ForwardedSignals& operator=(const ForwardedSignals&) = delete;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  sigset_t saved_;
};

}  // namespace skiff::runtime
