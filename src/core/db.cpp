#include "core/db.h"

#include <sqlite3.h>

#include <utility>

#include "core/error.h"

namespace skiff {

namespace {
[[noreturn]] void fail_sqlite(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  ErrorKind kind = (code & 0xff) == SQLITE_CONSTRAINT ? ErrorKind::conflict : ErrorKind::internal;
  fail(kind, "metadata database: {}: {}", what, sqlite3_errmsg(db));
}
}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &statement_, nullptr) != SQLITE_OK)
    fail_sqlite(db, "prepare \"" + std::string(sql) + "\"");
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), statement_(std::exchange(other.statement_, nullptr)) {}

Statement::~Statement() { sqlite3_finalize(statement_); }

Statement& Statement::bind(int index, std::string_view value) {
  if (sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail_sqlite(db_, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(statement_, index, value) != SQLITE_OK) fail_sqlite(db_, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(statement_, index) != SQLITE_OK) fail_sqlite(db_, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail_sqlite(db_, sqlite3_sql(statement_));
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::string Statement::text(int column) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(statement_, column))) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(statement_, column); }

bool Statement::is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

Database::Database(const std::filesystem::path& path) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    fail(ErrorKind::unavailable, "cannot open metadata database {}: {}", path.string(), message);
  }
  sqlite3_busy_timeout(db_, 30000);
  // Every skiff command is a short process: checkpointing the WAL as its
  // last connection closes cost two fsyncs (~30 ms) per `skiff run`. The
  // automatic checkpoint at 1000 WAL pages still bounds the log.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  exec("CREATE TABLE IF NOT EXISTS schema_versions (box TEXT PRIMARY KEY, version INTEGER NOT NULL)");
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = message ? message : "unknown error";
    sqlite3_free(message);
    fail(ErrorKind::internal, "metadata database: {}", error);
  }
}

std::int64_t Database::changes() const { return sqlite3_changes(db_); }

void Database::ensure_schema(std::string_view box, int version, std::string_view ddl) {
  auto current = prepare("SELECT version FROM schema_versions WHERE box = ?");
  current.bind(1, box);
  if (current.step() && current.integer(0) >= version) return;
  Transaction transaction(*this);
  current.reset();
  current.bind(1, box);
  if (current.step() && current.integer(0) >= version) return;  // another process won
  exec(ddl);
  prepare("INSERT INTO schema_versions (box, version) VALUES (?, ?) "
          "ON CONFLICT(box) DO UPDATE SET version = excluded.version")
      .bind_all(box, version)
      .run();
  transaction.commit();
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace skiff
