#include "container/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/json.h"

namespace skiff::container {

LogWriter::LogWriter(std::filesystem::path path, std::uint64_t max_size)
    : path_(std::move(path)), max_size_(max_size) {
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) fail_errno("open log " + path_.string());
  struct stat st;
  if (::fstat(fd_.get(), &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
}

void LogWriter::write(std::string_view stream, std::string_view data) {
  std::string& pending = stream == "stderr" ? pending_err_ : pending_out_;
  pending.append(data);
  size_t start = 0;
  for (;;) {
    size_t newline = pending.find('\n', start);
    if (newline == std::string::npos) break;
    emit(stream, std::string_view(pending).substr(start, newline - start + 1));
    start = newline + 1;
  }
  pending.erase(0, start);
  // docker splits lines longer than 16 KiB
  if (pending.size() >= 16384) {
    emit(stream, pending);
    pending.clear();
  }
}

void LogWriter::flush() {
  if (!pending_out_.empty()) emit("stdout", pending_out_);
  if (!pending_err_.empty()) emit("stderr", pending_err_);
  pending_out_.clear();
  pending_err_.clear();
}

void LogWriter::rotate_if_needed() {
  if (max_size_ == 0 || size_ < max_size_) return;
  std::filesystem::path old = path_;
  old += ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0) return;  // keep writing to the big file rather than lose lines
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  size_ = 0;
}

void LogWriter::emit(std::string_view stream, std::string_view line) {
  rotate_if_needed();
  Json entry = {{"log", std::string(line)}, {"stream", std::string(stream)},
                {"time", format_rfc3339(std::chrono::system_clock::now())}};
  std::string text = entry.dump(-1, ' ', false, Json::error_handler_t::replace);
  text.push_back('\n');
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a full disk must not kill the container's output relay
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  size_ += text.size();
}

namespace {

bool parse_entry(std::string_view line, LogEntry& entry) {
  try {
    Json j = Json::parse(line);
    entry.stream = j.value("stream", "stdout");
    entry.text = j.value("log", "");
    entry.time = j.value("time", "");
    return true;
  } catch (const Json::exception&) {
    return false;  // a torn last line after a crash: skip it
  }
}

// Reads complete lines from `fd`, keeping a partial last line in `carry`.
void read_lines(int fd, std::string& carry, const std::function<void(std::string_view)>& on_line) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    carry.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      size_t newline = carry.find('\n', start);
      if (newline == std::string::npos) break;
      on_line(std::string_view(carry).substr(start, newline - start));
      start = newline + 1;
    }
    carry.erase(0, start);
  }
}

}  // namespace

void read_logs(const std::filesystem::path& path, const LogReadOptions& options,
               const std::function<void(const LogEntry&)>& sink) {
  std::deque<LogEntry> tail;
  auto deliver = [&](std::string_view line) {
    LogEntry entry;
    if (!parse_entry(line, entry)) return;
    if (options.tail) {
      if (*options.tail == 0) return;
      tail.push_back(std::move(entry));
      if (tail.size() > *options.tail) tail.pop_front();
    } else {
      sink(entry);
    }
  };
  std::filesystem::path rotated = path;
  rotated += ".1";
  std::string carry;
  if (UniqueFd old(::open(rotated.c_str(), O_RDONLY | O_CLOEXEC)); old) {
    read_lines(old.get(), carry, deliver);
    carry.clear();
  }
  UniqueFd current(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!current) {
    if (errno != ENOENT) fail_errno("read log " + path.string());
  } else {
    read_lines(current.get(), carry, deliver);
  }
  for (const auto& entry : tail) sink(entry);
  if (!options.follow) return;

  // Follow: after the tail, deliver everything new as it arrives.
  auto deliver_now = [&](std::string_view line) {
    LogEntry entry;
    if (parse_entry(line, entry)) sink(entry);
  };
  ino_t inode = 0;
  if (current) {
    struct stat st;
    if (::fstat(current.get(), &st) == 0) inode = st.st_ino;
  }
  for (;;) {
    bool keep = !options.keep_following || options.keep_following();
    if (current) read_lines(current.get(), carry, deliver_now);
    struct stat st;
    // The writer rotated: finish the old file, then switch to the new one.
    if (::stat(path.c_str(), &st) == 0 && st.st_ino != inode) {
      if (current) read_lines(current.get(), carry, deliver_now);
      current.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      inode = st.st_ino;
      carry.clear();
      continue;
    }
    if (!keep) {
      if (current) read_lines(current.get(), carry, deliver_now);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace skiff::container
