// Isolation handlers: who runs a container's process. The engine's life
// cycle (create, run, start, stop, kill, exec, cleanup, rm) is one piece of
// code over the records, snapshots, OCI specs, logs and the owner lock; at
// each step where the isolation matters it calls the container's handler,
// picked once from Record::isolation through Isolations (crun's custom
// handlers are the model: `krun` is a plug-in of the same run path). Two
// handlers exist:
//
//   ProcessIsolation  isolation_process.h  namespaces, cgroups, seccomp (runtime::Runtime)
//   VmIsolation       isolation_vm.h       a qemu microvm per container (vm::VmBox), reached
//                                          by other commands through its control socket
//
// The life cycle and the calls it makes:
//
//   create        prepare()         handler-specific option checks; what the handler needs
//                                   later goes into record.config; an optional HeadStart
//   run           run_foreground()  attached to the caller's stdio; blocks until the exit
//   run -d, start start_detached()  the container under its skiff-monitor (detach.h)
//   stop, kill,   signal()
//     rm -f
//   exec          exec()            a process in the running container, in the foreground
//   ps, inspect   running()         is a container whose owner lock is free still running?
//   cleanup, rm   oom_killed(), release()
//   commit        changes_outside_snapshot()
//
// What stays in the engine, the same for every handler: the records and
// their states, the owner lock, the foreground relay of output to the
// terminal and the json-file log (relay.h), the cleanup path, and the
// monitor hand-off (detach.h), which handlers call from start_detached().
//
// Threads: a handler holds no state between calls (one object per Engine,
// its methods const); everything a call needs is in its arguments, so front
// ends calling the engine from several threads (the Docker API, CRI) need
// no lock here. Calls about one container still serialise through its
// owner lock, which the engine takes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "container/monitor.h"
#include "container/options.h"
#include "container/record.h"
#include "core/json.h"
#include "engine/paths.h"

namespace skiff {
class Root;
struct Config;
}  // namespace skiff

namespace skiff::runtime {
class Runtime;
}

namespace skiff::engine {

// The container a call is about.
struct ContainerRef {
  const container::Record& record;
  ContainerPaths paths;  // containers/<id>/: config.json, rootfs, log, exit file, sockets
};

// What create knows when it asks the handler to prepare.
struct PrepareInputs {
  const container::RunOptions& options;
  std::string min_kernel;  // the image's os.version (Linux: the minimum kernel; empty: any)
  std::string top_chain;   // chain ID of the image's top layer; empty for an image without layers
  // A foreground run of this container follows at once (`skiff run`
  // without -d): worth a head start.
  bool foreground_run_follows = false;
};

// Work prepare() began for the foreground run that follows (VM: the guest
// boots while create writes the snapshot, spec and records). The caller
// holds it from create to run_foreground(), on one thread (a VM booted
// ahead dies with the thread that booted it); dropping it undoes the work.
class HeadStart {
 public:
  virtual ~HeadStart() = default;
};

// What the engine prepared for the process right before it starts; built
// afresh at every start (run, start, a restart by the monitor), so handlers
// never cache it.
struct StartInputs {
  // A network namespace the engine created and configured for this
  // container (issue 13): the path of its nsfs file, e.g. a bind mount
  // under /run. Process isolation runs the container in it (the spec's
  // linux.namespaces network entry gets this path); VM isolation is to run
  // qemu in it with a tap (refused until then). Empty: what the spec says
  // (a new, empty namespace, or the host's with --network host).
  std::filesystem::path network_namespace;
};

// The process's standard streams: descriptors of the calling process,
// -1 for none (stdin then reads EOF). With a terminal (the record's Tty,
// or an exec's "terminal") the handler attaches the caller's own terminal
// instead (raw mode, window size) and forwards its signals.
struct Stdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct Exit {
  int code = 0;  // 128+N for signal N; 126/127 when the command could not run
  bool oom_killed = false;
};

class Isolation {
 public:
  virtual ~Isolation() = default;
  // As recorded in Record::isolation: "process", "vm".
  virtual std::string_view name() const = 0;

  // At create, before the record is stored: refuses the options this
  // isolation cannot honour (one line naming the option and what to do
  // instead), and records in `record.config` what later calls need.
  virtual std::unique_ptr<HeadStart> prepare(container::Record& record, const PrepareInputs& inputs) const = 0;

  // Runs the container attached to the caller until its main process
  // exits: relays signals (and the terminal), reports the host pid that
  // stands for the container through `started` once it runs (0 or no call:
  // none worth recording), and returns how it ended. A command that could
  // not run is an Exit (126/127, its error printed to stderr), not a throw.
  virtual Exit run_foreground(const ContainerRef& c, const StartInputs& inputs, const Stdio& stdio,
                              std::unique_ptr<HeadStart> head_start,
                              const std::function<void(pid_t)>& started) const = 0;

  // Starts the container detached, watched by a skiff-monitor that writes
  // `monitor`'s log and exit file and runs its cleanup command: handlers
  // call start_under_monitor() (detach.h) with their part of it. Returns
  // the pid to record once the container runs; throws, with the owner lock
  // released, when it did not start (the caller cleans up).
  virtual pid_t start_detached(const ContainerRef& c, const StartInputs& inputs,
                               const container::MonitorArgs& monitor) const = 0;

  // To the container's main process, or with `all` to every process in it
  // (where the isolation can tell them apart; SIGKILL ends a VM whole).
  virtual void signal(const ContainerRef& c, int signal, bool all) const = 0;

  // Runs `process` (an OCI process section: args, env, cwd, user with
  // numeric ids, terminal) in the running container, in the foreground;
  // returns its exit code (126/127 printed as for run_foreground).
  virtual int exec(const ContainerRef& c, const Json& process, const Stdio& stdio) const = 0;

  // For a container whose owner lock is free (its owner died): whether the
  // process still runs anyway.
  virtual bool running(const ContainerRef& c) const = 0;
  // Whether the container saw an OOM kill; ask before release().
  virtual bool oom_killed(const ContainerRef& c) const = 0;
  // After the exit, and at rm: frees what the handler holds on the host
  // (runtime state, cgroup). Idempotent; nothing held is no error.
  virtual void release(const ContainerRef& c) const = 0;

  // Why the container's file changes are not in its snapshot's upper
  // directory (what commit reads), in words for the user; nullopt when
  // they are.
  virtual std::optional<std::string> changes_outside_snapshot() const = 0;
};

class ProcessIsolation;
class VmIsolation;

// The handlers of one engine, by the names records carry.
class Isolations {
 public:
  Isolations(const Root& root, const Config& config, runtime::Runtime& runtime);
  ~Isolations();
  Isolations(const Isolations&) = delete;
  Isolations& operator=(const Isolations&) = delete;

  // A user's --isolation (or the config's default) as the recorded name:
  // "process", "vm", or docker's alias "hyperv" for vm; nullopt otherwise.
  static std::optional<std::string> canonical_name(std::string_view requested);
  // The handler of a recorded name; `internal` error for an unknown one.
  const Isolation& get(std::string_view name) const;
  const Isolation& of(const container::Record& record) const { return get(record.isolation); }
  const VmIsolation& vm() const { return *vm_; }

 private:
  std::unique_ptr<ProcessIsolation> process_;
  std::unique_ptr<VmIsolation> vm_;
};

}  // namespace skiff::engine
