#include "runtime/state.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::runtime {

void validate_id(const std::string& id) {
  bool ok = !id.empty() && id != "." && id != ".." && id.size() <= 1024;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '-' && c != '.') ok = false;
  if (!ok)
    fail(ErrorKind::invalid_argument,
         "invalid container id \"{}\": use letters, digits, '_', '+', '-' and '.' (not \".\" or \"..\")", id);
}

ContainerDir::ContainerDir(const fs::path& root, const std::string& id) : id_(id), path_(root / id) { validate_id(id); }

void ContainerDir::create_exclusive() {
  ensure_dir(path_.parent_path(), 0700);
  if (::mkdir(path_.c_str(), 0700) != 0) {
    if (errno == EEXIST) fail(ErrorKind::conflict, "container \"{}\" already exists (in {})", id_, path_.parent_path().string());
    fail_errno("create " + path_.string());
  }
}

bool ContainerDir::exists() const { return ::access(path_.c_str(), F_OK) == 0; }

Json ContainerDir::load() const {
  auto text = read_file_if_exists(state_file());
  if (!text) {
    if (exists()) fail(ErrorKind::conflict, "container \"{}\" is still being created", id_);
    fail(ErrorKind::not_found, "container \"{}\" does not exist", id_);
  }
  return parse_json(*text, "state of container " + id_);
}

void ContainerDir::save(const Json& state) const {
  // tmpfs, recreated on boot: atomic is enough, no fsync.
  write_file_atomic(state_file(), state.dump(), 0600, false);
}

void ContainerDir::remove() const { remove_tree(path_); }

std::optional<std::uint64_t> process_start_time(pid_t pid) {
  std::optional<std::string> stat;
  try {
    stat = read_file_if_exists(fmt::format("/proc/{}/stat", pid));
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!stat) return std::nullopt;
  // "pid (comm) S ..." — comm may hold spaces and parentheses: skip to the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  char state = (*stat)[close + 2];
  if (state == 'Z' || state == 'X') return std::nullopt;
  // Fields after comm: state is field 3; starttime is field 22.
  std::size_t pos = close + 2;
  for (int field = 3; field < 22; ++field) {
    pos = stat->find(' ', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
  }
  return std::strtoull(stat->c_str() + pos, nullptr, 10);
}

bool process_matches(pid_t pid, std::uint64_t start_time) {
  if (pid <= 0) return false;
  auto actual = process_start_time(pid);
  return actual && *actual == start_time;
}

State state_from_saved(const Json& saved, const ContainerDir& dir) {
  State state;
  state.id = saved.value("id", std::string());
  state.bundle = saved.value("bundle", std::string());
  state.owner = saved.value("owner", std::string());
  if (auto a = saved.find("annotations"); a != saved.end() && a->is_object())
    for (const auto& [k, v] : a->items())
      if (v.is_string()) state.annotations[k] = v.get<std::string>();
  state.created = std::chrono::system_clock::time_point(std::chrono::nanoseconds(saved.value("created_ns", std::int64_t{0})));
  pid_t pid = saved.value("pid", 0);
  if (process_matches(pid, saved.value("pid_start", std::uint64_t{0}))) {
    state.pid = pid;
    state.status = ::access(dir.fifo().c_str(), F_OK) == 0 ? Status::created : Status::running;
  } else {
    state.status = Status::stopped;
  }
  return state;
}

}  // namespace skiff::runtime
