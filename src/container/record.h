// A container is a record, not a process (containerd's split): what was
// asked for, which image and snapshot it uses, and what became of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/json.h"

namespace skiff::container {

enum class State { created, running, exited, removing };
std::string to_string(State state);
State parse_state(std::string_view text);

struct Record {
  std::string id;          // 64 hex digits
  std::string name;        // unique, docker's [a-zA-Z0-9][a-zA-Z0-9_.-]*
  std::string image_id;    // config digest of the image
  std::string image_name;  // as the user typed it
  std::chrono::system_clock::time_point created;
  State state = State::created;
  std::int64_t pid = 0;
  std::optional<int> exit_code;
  bool oom_killed = false;
  std::optional<std::chrono::system_clock::time_point> started_at;
  std::optional<std::chrono::system_clock::time_point> finished_at;
  std::string isolation = "process";  // process | vm
  bool auto_remove = false;           // --rm
  // What run was asked for, resolved: command, env, user, mounts, limits.
  // The OCI spec the runtime gets is derived from it (spec.h).
  Json config = Json::object();

  std::string short_id() const { return id.substr(0, 12); }
};

}  // namespace skiff::container
