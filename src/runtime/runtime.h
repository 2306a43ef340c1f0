// The process-isolation runtime: an OCI bundle (config.json + rootfs) made
// into an isolated process, and the life cycle around it (create, start,
// state, kill, delete, run, exec), runc/crun semantics. Everything runs in
// the caller's process: no helper binaries, no re-exec of skiff.
//
//   Runtime runtime;                                  // state in /run/skiff-runtime
//   auto c = runtime.create({.id = "web", .bundle = dir});
//   runtime.start("web");
//   auto status = runtime.wait(c);                    // {exit_code, oom_killed}
//   runtime.remove("web");
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/json.h"
#include "runtime/spec.h"

namespace skiff::runtime {

std::filesystem::path default_state_root();  // /run/skiff-runtime

// The user's program could not be executed (not found: 127, not
// executable: 126): the exit status a shell would give.
class ExecError : public Error {
 public:
  ExecError(ErrorKind kind, const std::string& message, int exit_code) : Error(kind, message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

enum class Status { creating, created, running, stopped };
std::string to_string(Status status);

// The OCI state of a container plus what skiff keeps about it.
struct State {
  std::string id;
  Status status = Status::stopped;
  pid_t pid = 0;  // host pid of the container's init; 0 once stopped
  std::filesystem::path bundle;
  std::map<std::string, std::string> annotations;
  std::chrono::system_clock::time_point created;
  std::string owner;  // "" for root
  Json to_oci_json() const;  // {"ociVersion","id","status","pid","bundle","annotations"}
};

// How an exited process ended.
struct ExitStatus {
  int exit_code = 0;        // the code, or 128+N when killed by signal N
  int signal = 0;           // N when killed by a signal
  bool oom_killed = false;  // the container's cgroup saw an OOM kill
};

// A process the runtime started: the container's init or an exec'd process.
// The caller is its parent, so it can be waited for; the pidfd polls readable
// when it exits (a monitor's event loop can watch it).
struct Process {
  pid_t pid = 0;
  UniqueFd pidfd;
  UniqueFd pty_master;  // with a terminal and no console socket
};

// The container's standard streams when the process has no terminal. -1
// keeps the caller's own descriptor (0, 1, 2).
struct Stdio {
  int in = -1, out = -1, err = -1;
};

struct CreateOptions {
  std::string id;
  std::filesystem::path bundle;              // holds config.json and (usually) the rootfs
  std::optional<Json> config;                // instead of bundle/config.json
  Stdio stdio;
  std::filesystem::path console_socket;      // terminal: send the pty master there (runc protocol)
  std::filesystem::path pid_file;            // written with the init's pid once created
  int preserve_fds = 0;                      // pass fds 3 .. 3+N-1 to the container
  // A tiny reaper as pid 1 that forwards signals, reaps zombies and exits
  // with the main process's status (docker run --init).
  bool init_reaper = false;
};

struct RunOptions : CreateOptions {
  // Foreground: forward SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the
  // container, and with a terminal relay the pty to the caller's stdin and
  // stdout (raw mode, window size now and on SIGWINCH).
  bool forward_signals = true;
  bool relay_terminal = true;
  // Keep the state after exit instead of deleting the container.
  bool keep = false;
};

struct ExecOptions {
  ProcessSpec process;                  // args, env, cwd, user, caps, terminal…
  Stdio stdio;
  std::filesystem::path console_socket;
  std::filesystem::path pid_file;
  int preserve_fds = 0;
};

class Runtime {
 public:
  explicit Runtime(std::filesystem::path state_root = default_state_root());

  const std::filesystem::path& state_root() const { return state_root_; }

  // Sets up namespaces, cgroup, mounts, devices and pivot_root, and leaves
  // the init blocked until start(). The caller becomes the init's parent.
  Process create(const CreateOptions& options);
  // Lets a created container's init exec the user process.
  void start(const std::string& id);
  State state(const std::string& id) const;
  std::vector<State> list() const;
  // Signals the init, or every process of the container with `all`.
  void kill(const std::string& id, int signal, bool all = false);
  // Removes a stopped container (cgroup, state); `force` kills it first.
  void remove(const std::string& id, bool force = false);

  // create + start + wait + remove, in the foreground.
  ExitStatus run(const RunOptions& options);

  // Starts a process inside a running container: joins every namespace and
  // the cgroup, applies the process's user, capabilities, no_new_privs and
  // the container's seccomp profile. The caller becomes its parent.
  Process exec(const std::string& id, const ExecOptions& options);
  // exec in the foreground: relays signals and the terminal, returns the status.
  ExitStatus exec_and_wait(const std::string& id, const ExecOptions& options);

  // Waits for a process the caller started (create/exec) and, for a
  // container's init, reports whether the cgroup saw an OOM kill. Call it
  // before remove(): the cgroup holds the OOM record.
  ExitStatus wait(Process& process, const std::string& id = {});
  // Whether the container's cgroup has seen an OOM kill so far.
  bool oom_killed(const std::string& id) const;
  // Pids of every process in the container's cgroup.
  std::vector<pid_t> pids(const std::string& id) const;
  // The container's own process spec: what `exec` starts from (runc copies
  // its capabilities, no_new_privs, env and user before applying options).
  ProcessSpec process_of(const std::string& id) const;

 private:
  std::filesystem::path state_root_;
};

// Signal names ("TERM", "SIGKILL", "9") to numbers; invalid_argument otherwise.
int parse_signal(std::string_view text);

// The OCI "features" document (`skiff runtime features`).
Json features();

}  // namespace skiff::runtime
