// A thin RAII layer over SQLite: one Database per process, prepared
// statements, and transactions that roll back unless committed. Each box
// owns its tables and creates them with ensure_schema().
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace skiff {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds parameters 1..N in order; returns *this for chaining.
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_null(int index);
  template <typename... Values>
  Statement& bind_all(const Values&... values) {
    int index = 0;
    (bind_one(++index, values), ...);
    return *this;
  }

  // Advances to the next row; false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run() { while (step()) {} }
  void reset();

  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  void bind_one(int index, std::string_view v) { bind(index, v); }
  void bind_one(int index, const std::string& v) { bind(index, std::string_view(v)); }
  void bind_one(int index, const char* v) { bind(index, std::string_view(v)); }
  void bind_one(int index, std::int64_t v) { bind(index, v); }
  void bind_one(int index, int v) { bind(index, static_cast<std::int64_t>(v)); }
  void bind_one(int index, std::uint64_t v) { bind(index, static_cast<std::int64_t>(v)); }
  void bind_one(int index, const std::optional<std::string>& v) { v ? bind(index, *v) : bind_null(index); }
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

class Database {
 public:
  // Opens (creating) the database in WAL mode with a busy timeout, so that
  // concurrent skiff processes wait for each other instead of failing.
  explicit Database(const std::filesystem::path& path);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  std::int64_t changes() const;

  // Runs `ddl` once per database for (`box`, `version`): boxes call this
  // at construction; later versions add ALTERs under a new version number.
  void ensure_schema(std::string_view box, int version, std::string_view ddl);

  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE takes the write lock up front: two writers queue instead
// of deadlocking on an upgrade.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace skiff
