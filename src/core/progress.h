// Per-item progress as docker prints it: redrawn bars on a terminal, one
// plain line per state change otherwise, nothing when quiet. Thread-safe:
// parallel layer downloads report into one Progress.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace skiff {

class Progress {
 public:
  enum class Mode { automatic, tty, plain, quiet };

  // `automatic` picks tty when `stream` is a terminal, plain otherwise.
  explicit Progress(Mode mode = Mode::automatic, std::FILE* stream = stdout);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // A row per item (e.g. a layer's short digest). `total` 0 means unknown.
  void update(const std::string& id, const std::string& status, std::uint64_t current = 0,
              std::uint64_t total = 0);
  // The row's final state ("Pull complete", "Already exists").
  void finish(const std::string& id, const std::string& status);
  // A message that is not a row ("Digest: sha256:…", "Status: …").
  void message(const std::string& text);

  Mode mode() const { return mode_; }

 private:
  struct Row {
    std::string id, status;
    std::uint64_t current = 0, total = 0;
    bool finished = false;
  };
  Row& row(const std::string& id);
  void redraw(bool force);
  std::string render(const Row& row) const;

  Mode mode_;
  std::FILE* stream_;
  std::mutex mutex_;
  std::vector<Row> rows_;
  size_t drawn_ = 0;  // rows currently on screen (tty)
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace skiff
