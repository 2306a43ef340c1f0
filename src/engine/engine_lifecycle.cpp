// Stopping, signalling, waiting for, exec'ing into, cleaning up after and
// removing containers.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "engine/engine.h"
#include "engine/engine_parts.h"
#include "engine/isolation_vm.h"
#include "container/monitor.h"
#include "container/user.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/lock.h"
#include "core/log.h"

namespace skiff::engine {

using namespace container;  // the records, specs and logs the engine drives

void Engine::cleanup(const std::string& id, std::optional<int> exit_code) {
  ContainerPaths paths{container_dir(id)};
  FileLock lock(paths.lock());
  auto found = store_.find(id);
  if (!found) return;  // removed meanwhile
  Record record = *found;
  if (record.state != State::running) return;  // cleaned up already
  if (!exit_code) {
    if (auto exit = read_exit_file(paths.exit_file())) exit_code = exit->exit_code;
  }
  const Isolation& handler = isolation(record);
  bool oom = record.oom_killed;
  try {
    oom = oom || handler.oom_killed(ref(record));
  } catch (const Error&) {
  }
  try {
    handler.release(ref(record));
  } catch (const Error& e) {
    log::warn("release the runtime state of {}: {}", record.short_id(), e.what());
  }
  unmount_rootfs(id);
  record.state = State::exited;
  // Unknown (the owner died before it could record it): docker's 255.
  record.exit_code = exit_code.value_or(255);
  record.oom_killed = oom;
  record.pid = 0;
  record.finished_at = std::chrono::system_clock::now();
  store_.update(record);
  if (record.auto_remove) destroy(record);
}

bool Engine::wait_until_exited(const std::string& id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    auto record = store_.find(id);
    if (!record || reconcile(*record).state != State::running) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

void Engine::kill(const std::string& key, int signal) {
  Record record = get(key);
  if (record.state != State::running)
    fail(ErrorKind::conflict, "kill {}: container {} is not running", key, record.short_id());
  deliver_signal(record, signal, signal == SIGKILL);
}

void Engine::stop(const std::string& key, std::optional<std::chrono::seconds> timeout) {
  Record record = get(key);
  if (record.state != State::running) return;  // docker stop of a stopped container succeeds
  auto grace = timeout.value_or(std::chrono::seconds(record.config.value("StopTimeout", 10)));
  int signal = SIGTERM;
  try {
    signal = runtime::parse_signal(record.config.value("StopSignal", "SIGTERM"));
  } catch (const Error&) {
  }
  try {
    deliver_signal(record, signal, false);
  } catch (const Error& e) {
    log::debug("stop {}: {}", record.short_id(), e.what());
  }
  if (wait_until_exited(record.id, grace)) return;
  try {
    deliver_signal(record, SIGKILL, true);
  } catch (const Error& e) {
    log::debug("stop {}: {}", record.short_id(), e.what());
  }
  if (!wait_until_exited(record.id, std::chrono::seconds(30)))
    fail(ErrorKind::unavailable, "stop {}: the container did not exit after SIGKILL", key);
}

void Engine::remove(const std::string& key, bool force) {
  Record record = get(key);
  if (record.state == State::running) {
    if (!force)
      fail(ErrorKind::conflict, "rm {}: the container is running: stop it first (skiff stop {}) or use -f", key, key);
    try {
      deliver_signal(record, SIGKILL, true);
    } catch (const Error& e) {
      log::debug("rm -f {}: {}", record.short_id(), e.what());
    }
    if (!wait_until_exited(record.id, std::chrono::seconds(30)))
      fail(ErrorKind::unavailable, "rm {}: the container did not exit after SIGKILL", key);
    auto again = store_.find(record.id);
    if (!again) return;  // it was --rm: its cleanup removed it
    record = *again;
  }
  FileLock lock(ContainerPaths{container_dir(record.id)}.lock());
  destroy(record);
}

int Engine::wait(const std::string& key) {
  Record record = get(key);
  while (!wait_until_exited(record.id, std::chrono::hours(24))) {
  }
  auto final_record = store_.find(record.id);
  if (!final_record) return record.exit_code.value_or(0);  // removed (--rm) after exiting
  return final_record->exit_code.value_or(0);
}

int Engine::exec(const std::string& key, const ExecRequest& request) {
  Record record = get(key);
  if (record.state != State::running)
    fail(ErrorKind::conflict, "exec {}: container {} is not running", key, record.short_id());
  if (request.command.empty()) fail(ErrorKind::invalid_argument, "exec {}: no command given", key);
  ContainerPaths paths{container_dir(record.id)};
  Json spec = parse_json(read_file(paths.spec()), "config.json of " + record.short_id());
  Json process = spec["process"];
  process["args"] = request.command;
  process["terminal"] = request.tty;
  if (request.workdir) process["cwd"] = *request.workdir;
  std::vector<std::string> env = process.value("env", std::vector<std::string>{});
  for (const auto& e : request.env) {
    auto key_of = [](const std::string& s) { return s.substr(0, s.find('=')); };
    std::erase_if(env, [&](const std::string& existing) { return key_of(existing) == key_of(e); });
    env.push_back(e);
  }
  process["env"] = env;
  if (request.user) {
    UniqueFd rootfs = open_directory(paths.rootfs());
    User user = resolve_user(rootfs.get(), *request.user);
    process["user"] = {{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", user.additional_gids}};
  }
  Stdio stdio{request.interactive ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO};
  return isolation(record).exec(ref(record), process, stdio);
}

void Engine::deliver_signal(const Record& record, int signal, bool all) {
  isolation(record).signal(ref(record), signal, all);
}

int Engine::own_vm(const std::string& id) { return parts_->isolations.vm().own(store_, id); }

}  // namespace skiff::engine
