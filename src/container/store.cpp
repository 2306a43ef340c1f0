#include "container/store.h"

#include <sys/random.h>

#include "container/names.h"
#include "core/error.h"

namespace skiff::container {

namespace {

constexpr std::string_view schema = R"(
CREATE TABLE containers (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  image_id    TEXT NOT NULL,
  image_name  TEXT NOT NULL,
  created     INTEGER NOT NULL,
  state       TEXT NOT NULL,
  pid         INTEGER NOT NULL DEFAULT 0,
  exit_code   INTEGER,
  oom_killed  INTEGER NOT NULL DEFAULT 0,
  started_at  INTEGER,
  finished_at INTEGER,
  isolation   TEXT NOT NULL,
  auto_remove INTEGER NOT NULL DEFAULT 0,
  config      TEXT NOT NULL
);
)";

using Clock = std::chrono::system_clock;

std::int64_t to_nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
Clock::time_point from_nanos(std::int64_t n) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(n)));
}

constexpr std::string_view columns =
    "id, name, image_id, image_name, created, state, pid, exit_code, oom_killed, started_at, finished_at, "
    "isolation, auto_remove, config";

Record read_row(const Statement& row) {
  Record r;
  r.id = row.text(0);
  r.name = row.text(1);
  r.image_id = row.text(2);
  r.image_name = row.text(3);
  r.created = from_nanos(row.integer(4));
  r.state = parse_state(row.text(5));
  r.pid = row.integer(6);
  if (!row.is_null(7)) r.exit_code = static_cast<int>(row.integer(7));
  r.oom_killed = row.integer(8) != 0;
  if (!row.is_null(9)) r.started_at = from_nanos(row.integer(9));
  if (!row.is_null(10)) r.finished_at = from_nanos(row.integer(10));
  r.isolation = row.text(11);
  r.auto_remove = row.integer(12) != 0;
  r.config = parse_json(row.text(13), "container " + r.id + " config");
  return r;
}

void bind_optional_time(Statement& s, int index, const std::optional<Clock::time_point>& t) {
  if (t) s.bind(index, to_nanos(*t));
  else s.bind_null(index);
}

}  // namespace

std::string to_string(State state) {
  switch (state) {
    case State::created: return "created";
    case State::running: return "running";
    case State::exited: return "exited";
    case State::removing: return "removing";
  }
  return "exited";
}

State parse_state(std::string_view text) {
  if (text == "created") return State::created;
  if (text == "running") return State::running;
  if (text == "removing") return State::removing;
  return State::exited;
}

std::string random_id() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) fail_errno("getrandom");
    got += static_cast<size_t>(n);
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(digits[b >> 4]);
    id.push_back(digits[b & 15]);
  }
  return id;
}

Store::Store(Root& root) : root_(root) { root_.db().ensure_schema("container", 1, schema); }

bool Store::valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

std::string Store::unique_name() {
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string name = random_name(attempt >= 8);
    if (!find(name)) return name;
  }
  return "skiff_" + random_id().substr(0, 12);
}

void Store::add(Record& record) {
  if (record.id.empty()) record.id = random_id();
  if (record.name.empty()) record.name = unique_name();
  if (!valid_name(record.name))
    fail(ErrorKind::invalid_argument,
         "invalid container name \"{}\": use letters, digits, '_', '.' and '-', starting with a letter or digit",
         record.name);
  Transaction transaction(root_.db());
  auto existing = root_.db().prepare("SELECT id FROM containers WHERE name = ?");
  existing.bind(1, record.name);
  if (existing.step())
    fail(ErrorKind::conflict,
         "container name \"{}\" is already in use by container {}: remove it (skiff rm {}) or choose another --name",
         record.name, existing.text(0).substr(0, 12), record.name);
  auto insert = root_.db().prepare(fmt::format("INSERT INTO containers ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", columns));
  insert.bind_all(record.id, record.name, record.image_id, record.image_name, to_nanos(record.created),
                  to_string(record.state), record.pid);
  if (record.exit_code) insert.bind(8, static_cast<std::int64_t>(*record.exit_code));
  else insert.bind_null(8);
  insert.bind(9, static_cast<std::int64_t>(record.oom_killed));
  bind_optional_time(insert, 10, record.started_at);
  bind_optional_time(insert, 11, record.finished_at);
  insert.bind(12, record.isolation);
  insert.bind(13, static_cast<std::int64_t>(record.auto_remove));
  insert.bind(14, record.config.dump());
  insert.run();
  transaction.commit();
}

std::optional<Record> Store::find(const std::string& key) {
  if (key.empty()) return std::nullopt;
  auto by_name = root_.db().prepare(fmt::format("SELECT {} FROM containers WHERE name = ? OR id = ?", columns));
  by_name.bind_all(key, key);
  if (by_name.step()) return read_row(by_name);
  if (key.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  auto by_prefix = root_.db().prepare(fmt::format("SELECT {} FROM containers WHERE id >= ? AND id < ? LIMIT 2", columns));
  by_prefix.bind_all(key, key + "g");
  if (!by_prefix.step()) return std::nullopt;
  Record first = read_row(by_prefix);
  if (by_prefix.step())
    fail(ErrorKind::invalid_argument, "container ID prefix \"{}\" is ambiguous: give more characters", key);
  return first;
}

Record Store::get(const std::string& key) {
  auto record = find(key);
  if (!record) fail(ErrorKind::not_found, "no such container: {} (see skiff ps -a)", key);
  return std::move(*record);
}

std::vector<Record> Store::list() {
  std::vector<Record> records;
  auto rows = root_.db().prepare(fmt::format("SELECT {} FROM containers ORDER BY created DESC", columns));
  while (rows.step()) records.push_back(read_row(rows));
  return records;
}

void Store::update(const Record& r) {
  auto s = root_.db().prepare(
      "UPDATE containers SET state = ?, pid = ?, exit_code = ?, oom_killed = ?, started_at = ?, finished_at = ?, "
      "config = ? WHERE id = ?");
  s.bind(1, to_string(r.state));
  s.bind(2, r.pid);
  if (r.exit_code) s.bind(3, static_cast<std::int64_t>(*r.exit_code));
  else s.bind_null(3);
  s.bind(4, static_cast<std::int64_t>(r.oom_killed));
  bind_optional_time(s, 5, r.started_at);
  bind_optional_time(s, 6, r.finished_at);
  s.bind(7, r.config.dump());
  s.bind(8, r.id);
  s.run();
}

void Store::set_pid_if_running(const std::string& id, std::int64_t pid) {
  root_.db().prepare("UPDATE containers SET pid = ? WHERE id = ? AND state = 'running'").bind_all(pid, id).run();
}

void Store::remove(const std::string& id) {
  root_.db().prepare("DELETE FROM containers WHERE id = ?").bind_all(id).run();
}

}  // namespace skiff::container
