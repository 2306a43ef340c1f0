// How other skiff commands reach a VM container: its VmBox lives in the
// process that owns the container (the foreground `skiff run`, or
// `skiff container vm-monitor` for a detached one), which serves
// containers/<id>/vm.sock while the VM runs. Only the owner's own uid may
// connect. The wire format is the agent's frames (vm/protocol.h):
//   signal (i32)          kill: to the main process; on an exec's connection: to it
//   exec (spec) + 3 fds   the caller's stdin, stdout, stderr (SCM_RIGHTS): the owner
//                         hands them to the VM box, so output reaches them directly
//   resize (rows, cols)   on an exec's connection
// and back: error (text) and exit (i32) for an exec; a kill is done when
// the owner closes the connection.
#pragma once

#include <filesystem>
#include <memory>

#include "vm/vm.h"

namespace skiff::engine {

class VmControlServer {
 public:
  // Listens at once; `box` must outlive the server (destroy the server
  // first, after the VM has ended, so exec waiters return).
  VmControlServer(const std::filesystem::path& container_dir, vm::VmBox& box);
  // Stops serving, waits for the connections' threads, removes the socket.
  ~VmControlServer();
  VmControlServer(const VmControlServer&) = delete;
  VmControlServer& operator=(const VmControlServer&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Sends `signal` to the main process of the VM container in `container_dir`
// (SIGKILL ends the VM). Throws `conflict` when no owner listens.
void vm_control_kill(const std::filesystem::path& container_dir, int signal);

// Runs `process` in the VM with `stdio`'s descriptors (stdin only when
// process.open_stdin; -1: /dev/null), forwarding the caller's signals and,
// with a terminal, the caller's window size; returns the exit code. Errors
// the agent reported about the process (e.g. not found: 127) are printed
// to stderr.
int vm_control_exec(const std::filesystem::path& container_dir, vm::Process process, const vm::Stdio& stdio);

}  // namespace skiff::engine
