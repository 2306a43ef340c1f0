// Starting containers: in the foreground (this process owns the container,
// relays its output and records the exit) or detached (handed over to a
// skiff-monitor, detach.h). The isolation handler runs the process.
#include <unistd.h>

#include <fmt/format.h>

#include "container/monitor.h"
#include "core/error.h"
#include "core/lock.h"
#include "engine/engine.h"
#include "engine/engine_parts.h"
#include "engine/relay.h"

namespace skiff::engine {

using namespace container;  // the records, specs and logs the engine drives

int Engine::run(const RunOptions& options, std::string& id, Progress* pull_progress) {
  std::unique_ptr<HeadStart> head_start;
  Record record = create(options, pull_progress, !options.detach, head_start);
  id = record.id;
  if (!options.detach) return run_foreground(record, std::move(head_start));
  start_detached(record);
  return 0;
}

void Engine::start(const std::string& key) {
  Record record = get(key);
  if (record.state == State::running) return;  // docker start of a running container is a no-op
  mount_rootfs(record);
  ::unlink(ContainerPaths{container_dir(record.id)}.exit_file().c_str());
  start_detached(record);
}

// The engine's part of a start that the handler needs: nothing yet; the
// container's network namespace (issue 13) is prepared here.
StartInputs Engine::start_inputs(const Record&) { return {}; }

int Engine::run_foreground(Record& record, std::unique_ptr<HeadStart> head_start) {
  const Isolation& handler = isolation(record);
  ContainerRef c = ref(record);
  bool tty = record.config.value("Tty", false);
  bool interactive = record.config.value("OpenStdin", false);
  std::optional<FileLock> owner(std::in_place, c.paths.lock());
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  store_.update(record);

  Exit exit;
  try {
    StartInputs inputs = start_inputs(record);
    // --rm output goes straight to our stdout/stderr: nobody can read a log
    // after the container is gone; nor does a terminal's. Otherwise it is
    // also logged, as docker does.
    std::optional<OutputRelay> relay;
    if (!record.auto_remove && !tty)
      relay.emplace(c.paths.log(), record.config.value("LogMaxSize", default_log_max_size));
    Stdio stdio{interactive ? STDIN_FILENO : -1, relay ? relay->out() : STDOUT_FILENO,
                relay ? relay->err() : STDERR_FILENO};
    exit = handler.run_foreground(c, inputs, stdio, std::move(head_start),
                                  [&](pid_t pid) { store_.set_pid_if_running(record.id, pid); });
    if (relay) relay->finish();  // the init is gone: drain, but do not wait for its orphans
  } catch (...) {
    owner.reset();
    cleanup(record.id, 125);
    throw;
  }
  owner.reset();
  if (exit.oom_killed) {
    record = store_.get(record.id);
    record.oom_killed = true;
    store_.update(record);
  }
  cleanup(record.id, exit.code);
  return exit.code;
}

void Engine::start_detached(Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  MonitorArgs monitor;
  monitor.monitor_binary = monitor_binary_path();
  monitor.log_file = paths.log();
  monitor.log_max_size = record.config.value("LogMaxSize", default_log_max_size);
  monitor.exit_file = paths.exit_file();
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  monitor.cleanup_command = {self, "--root", root_.path().string(), "container", "cleanup", record.id};
  record.state = State::running;
  record.started_at = std::chrono::system_clock::now();
  record.pid = 0;
  record.exit_code.reset();
  record.finished_at.reset();
  store_.update(record);

  pid_t pid;
  try {
    pid = isolation(record).start_detached(ref(record), start_inputs(record), monitor);
  } catch (...) {
    cleanup(record.id, 125);
    throw;
  }
  // Only if the container is still running: a fast container may already
  // have been cleaned up by its monitor.
  store_.set_pid_if_running(record.id, pid);
}

}  // namespace skiff::engine
