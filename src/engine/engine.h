// The container engine: what `skiff run/create/start/stop/kill/rm/wait/
// exec/ps/logs` do, on top of the image store (which image), the
// snapshotter (its root filesystem) and an isolation handler (who runs the
// process: isolation.h). The life cycle here is the same for every
// isolation: records and states, the owner lock, the relay of foreground
// output to the terminal and the log, the detached hand-off to
// skiff-monitor, cleanup and removal; each step where the isolation
// matters is one call on the handler the record names (ProcessIsolation
// over the runtime, VmIsolation over a VM box), picked once per call.
// Daemonless: every call works on the store directly; a detached container
// is watched by its own skiff-monitor, which records the exit and calls
// `skiff container cleanup` when the container ends. An Engine keeps no
// state between calls beyond its open stores.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "container/log.h"
#include "container/options.h"
#include "container/record.h"
#include "container/store.h"
#include "core/config.h"
#include "core/progress.h"
#include "core/root.h"
#include "engine/isolation.h"
#include "engine/system_usage.h"
#include "image/store.h"
#include "reference/reference.h"

namespace skiff::engine {

using container::Record;
using container::RunOptions;
using container::Store;


struct ExecRequest {
  std::vector<std::string> command;
  std::vector<std::string> env;  // K=V added to the container's
  std::optional<std::string> user;
  std::optional<std::string> workdir;
  bool interactive = false;
  bool tty = false;
};

class Engine {
 public:
  Engine(Root& root, const Config& config);
  ~Engine();

  // docker create: resolves (and, as asked, pulls) the image, prepares the
  // root filesystem and the OCI spec, and records the container.
  // `pull_progress` receives the pull's progress when the image is missing.
  Record create(const RunOptions& options, Progress* pull_progress = nullptr);

  // docker run: create + start. In the foreground it returns the exit code
  // (128+N for signal N); detached (-d) it returns 0 once the container
  // runs, and `id` is set either way.
  int run(const RunOptions& options, std::string& id, Progress* pull_progress = nullptr);

  // Starts a created or exited container, detached.
  void start(const std::string& key);
  // StopSignal (or SIGTERM), then SIGKILL after `timeout`.
  void stop(const std::string& key, std::optional<std::chrono::seconds> timeout = {});
  void kill(const std::string& key, int signal);
  // Removes a container; a running one only with `force` (killed first).
  void remove(const std::string& key, bool force);
  // Blocks until the container has exited; returns its exit code.
  int wait(const std::string& key);
  // Runs a process in a running container; returns its exit code.
  int exec(const std::string& key, const ExecRequest& request);

  // Records, with states reconciled against reality (a monitor killed, a
  // foreground skiff gone): what ps and inspect show.
  std::vector<Record> list();
  Record get(const std::string& key);
  Json inspect(const Record& record);
  std::filesystem::path log_path(const Record& record) const;

  // After the container's init exited: record the status, release the
  // runtime state, cgroup and mounts; remove the container if it was --rm.
  // Idempotent; the monitor runs it through `skiff container cleanup`.
  void cleanup(const std::string& id, std::optional<int> exit_code = {});

  Store& store() { return store_; }

  // docker system df (engine_usage.cpp).
  DiskUsage disk_usage();
  // docker system prune (engine_prune.cpp): stopped containers, untagged
  // images (`all`: every image no container uses), the build cache no image
  // uses (`all`: all of it), then the snapshots and blobs nothing needs.
  PruneReport prune(bool all);
  // docker rmi: a name removes that name (and the image with its last
  // name), an ID the image; see ImageStore::remove. Call collect_garbage()
  // after the last one.
  ImageRemoval remove_image(std::string_view name, bool force);
  // The snapshots no image, container or build cache entry needs and the
  // blobs nothing references. Skipped while a pull, load or build holds
  // the store's lease (it would take what they have not recorded yet).
  Reclaimed collect_garbage();
  // docker commit (engine_commit.cpp): the container's changes as a layer
  // on top of its image, with a history entry; returns the new image.
  ImageRecord commit(const CommitRequest& request);

  // `skiff container vm-monitor ID`: the long-lived owner of a detached VM
  // container (VmIsolation::own), started by start(); returns the exit code.
  int own_vm(const std::string& id);

  struct Parts;  // the boxes the engine drives (engine_parts.h)

 private:
  std::unique_ptr<Parts> parts_;
  Root& root_;
  const Config& config_;
  Store store_;

  std::filesystem::path container_dir(const std::string& id) const;
  ContainerRef ref(const Record& record) const { return {record, ContainerPaths{container_dir(record.id)}}; }
  const Isolation& isolation(const Record& record) const;
  void mount_rootfs(const Record& record);
  void unmount_rootfs(const std::string& id);
  // create, plus what its handler began for the foreground run that
  // follows (`head_start`: see Isolation::prepare).
  Record create(const RunOptions& options, Progress* pull_progress, bool foreground_run_follows,
                std::unique_ptr<HeadStart>& head_start);
  int run_foreground(Record& record, std::unique_ptr<HeadStart> head_start);
  // The one way a container starts detached (run -d, start).
  void start_detached(Record& record);
  StartInputs start_inputs(const Record& record);
  Record reconcile(Record record);
  void destroy(const Record& record);
  bool wait_until_exited(const std::string& id, std::chrono::milliseconds timeout);
  // To the container's init (all: every process).
  void deliver_signal(const Record& record, int signal, bool all);
};

}  // namespace skiff::engine
