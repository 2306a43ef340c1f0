// Container logs in docker's json-file format: one JSON object per line,
// {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}, rotated to
// `<file>.1` when the size cap is reached (one generation kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/fd.h"

namespace skiff::container {

constexpr std::uint64_t default_log_max_size = 10ull << 20;

class LogWriter {
 public:
  LogWriter(std::filesystem::path path, std::uint64_t max_size = default_log_max_size);
  // Appends `data` from `stream` ("stdout"/"stderr"); complete lines are
  // written at once, a trailing partial line waits for its newline (or
  // flush()), as docker does, so interleaved streams stay line-whole.
  void write(std::string_view stream, std::string_view data);
  void flush();

 private:
  void emit(std::string_view stream, std::string_view line);
  void rotate_if_needed();

  std::filesystem::path path_;
  std::uint64_t max_size_;
  std::uint64_t size_ = 0;
  UniqueFd fd_;
  std::string pending_out_, pending_err_;
};

struct LogEntry {
  std::string stream;  // stdout | stderr
  std::string text;    // with its trailing newline, if it had one
  std::string time;    // RFC 3339 as written
};

struct LogReadOptions {
  std::optional<size_t> tail;  // last N entries
  bool follow = false;
  // With follow: polled between reads; return false to stop once the file
  // has been read to its end (the container exited).
  std::function<bool()> keep_following;
};

// Calls `sink` for each entry of the rotated file and the current one.
void read_logs(const std::filesystem::path& path, const LogReadOptions& options,
               const std::function<void(const LogEntry&)>& sink);

}  // namespace skiff::container
