// The detached start, the same for every isolation handler: a forked
// process in its own session launches the container as its child (the
// handler's part, `Launcher`), reports the pid to record on a sync pipe and
// execs skiff-monitor, which from then on holds the owner lock (fd 5),
// reads the container's output (fds 3 and 4) into the json-file log,
// records the exit and runs the cleanup command. The caller waits for the
// report, so when start returns the container runs (or start failed).
//
// This is the one entry point of a detached start: `skiff run -d`, `skiff
// start`, and (issue 14) a restart the monitor asks for all come here
// through Isolation::start_detached().
#pragma once

#include <sys/types.h>

#include <functional>
#include <string_view>

#include "container/monitor.h"
#include "core/fd.h"
#include "engine/paths.h"

namespace skiff::engine {

// Write ends the container (or the process that owns it) gets. The
// monitor reads the other ends.
struct DetachedStdio {
  int out = -1;
  int err = -1;
  // The sync pipe: a launcher whose child reports for itself (a VM owner,
  // once the VM runs) hands this on and sets Launched::reports_itself.
  int report = -1;
};

struct Launched {
  pid_t pid = 0;  // the monitor's child: what it waits for
  // With a terminal: the pty master, which the monitor reads instead of
  // the stdout pipe (the stderr pipe is then unused).
  UniqueFd terminal;
  // The child writes "P<pid to record>" (or "E<error>") on `report`
  // itself; otherwise the monitor-to-be reports P<pid> after the launch.
  bool reports_itself = false;
};

// Runs in the forked monitor-to-be; throws on failure (reported as the
// start's error). It must not return before `pid` is its child.
using Launcher = std::function<Launched(const DetachedStdio& stdio)>;

// Takes the owner lock, forks, launches and hands over to skiff-monitor
// (`monitor.pid` and `tty` are filled here). Returns the reported pid.
// Throws `unavailable` with the launch's error once the lock is released
// and the forked process is gone; the caller records the failure.
pid_t start_under_monitor(const ContainerPaths& paths, std::string_view short_id, container::MonitorArgs monitor,
                          const Launcher& launch);

}  // namespace skiff::engine
