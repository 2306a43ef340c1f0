// A container's state directory under the state root (tmpfs, /run):
//   <root>/<id>/state.json   what `state`, `kill`, `exec`, `delete` need
//   <root>/<id>/config.json  the spec as created (hooks, seccomp, process defaults)
//   <root>/<id>/exec.fifo    exists while the container is created, not started
// Status follows from the init process itself (alive, same start time, not a
// zombie) and the fifo, so a crashed runtime never leaves a lie behind.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "core/json.h"
#include "runtime/runtime.h"

namespace skiff::runtime {

// runc's rule: letters, digits, _ + - . ; not "." or "..".
void validate_id(const std::string& id);

class ContainerDir {
 public:
  ContainerDir(const std::filesystem::path& root, const std::string& id);

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path state_file() const { return path_ / "state.json"; }
  std::filesystem::path config_file() const { return path_ / "config.json"; }
  std::filesystem::path fifo() const { return path_ / "exec.fifo"; }

  // mkdir; a conflict error if the id is taken.
  void create_exclusive();
  bool exists() const;
  // The saved state; not_found if the container does not exist.
  Json load() const;
  void save(const Json& state) const;
  void remove() const;

 private:
  std::string id_;
  std::filesystem::path path_;
};

// /proc/<pid>/stat start time (clock ticks since boot), to tell a reused pid apart.
std::optional<std::uint64_t> process_start_time(pid_t pid);
// Alive, not a zombie, and started when we recorded.
bool process_matches(pid_t pid, std::uint64_t start_time);

// The OCI view of a saved state.
State state_from_saved(const Json& saved, const ContainerDir& dir);

}  // namespace skiff::runtime
