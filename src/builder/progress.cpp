#include "builder/progress.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace skiff::builder {

namespace {

constexpr size_t recent_lines = 6;  // output lines shown under a running step (tty)

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::pair<size_t, size_t> terminal_size(std::FILE* stream) {
  struct winsize size {};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 20 && size.ws_row > 4)
    return {size.ws_row, size.ws_col};
  return {24, 80};
}

// Cuts `text` to `width` columns (bytes: names are mostly ASCII) with "…".
std::string fit(std::string text, size_t width) {
  for (auto& c : text)
    if (c == '\t' || c == '\r') c = ' ';
  if (text.size() <= width) return text;
  if (width < 4) return text.substr(0, width);
  return text.substr(0, width - 3) + "...";
}

}  // namespace

ConsoleReporter::ConsoleReporter(Mode mode, std::FILE* stream)
    : mode_(mode), stream_(stream), started_(std::chrono::steady_clock::now()) {
  if (mode_ == Mode::automatic) mode_ = ::isatty(::fileno(stream)) ? Mode::tty : Mode::plain;
  if (mode_ == Mode::tty) ticker_ = std::thread([this] { ticker(); });
}

ConsoleReporter::~ConsoleReporter() { finish(); }

void ConsoleReporter::finish() {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (mode_ == Mode::tty) redraw_locked();
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void ConsoleReporter::ticker() {
  // Signals are for the build's own threads (interrupt.h), never this one.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mutex_);
  while (!finished_) {
    wake_.wait_for(lock, std::chrono::milliseconds(200));
    if (!finished_) redraw_locked();
  }
}

ConsoleReporter::Vertex& ConsoleReporter::vertex(int number) {
  return vertices_.at(static_cast<size_t>(number - 1));
}

int ConsoleReporter::begin(const std::string& name) {
  std::lock_guard lock(mutex_);
  Vertex v;
  v.number = static_cast<int>(vertices_.size()) + 1;
  v.name = name;
  v.started = std::chrono::steady_clock::now();
  vertices_.push_back(v);
  if (mode_ == Mode::plain) {
    fmt::print(stream_, "#{} {}\n", v.number, name);
    std::fflush(stream_);
  } else if (mode_ == Mode::tty) {
    redraw_locked();
  }
  return v.number;
}

void ConsoleReporter::print_plain_lines(Vertex& v, std::string_view text) {
  v.partial.append(text);
  size_t start = 0;
  for (size_t nl; (nl = v.partial.find('\n', start)) != std::string::npos; start = nl + 1)
    fmt::print(stream_, "#{} {:.3f} {}\n", v.number, seconds_since(v.started), v.partial.substr(start, nl - start));
  v.partial.erase(0, start);
  std::fflush(stream_);
}

void ConsoleReporter::output(int number, std::string_view text) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  Vertex& v = vertex(number);
  if (mode_ == Mode::plain) {
    print_plain_lines(v, text);
    return;
  }
  // tty: keep the last few complete lines (and the line being written).
  v.partial.append(text);
  size_t start = 0;
  for (size_t nl; (nl = v.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    v.recent.push_back(v.partial.substr(start, nl - start));
    if (v.recent.size() > recent_lines) v.recent.erase(v.recent.begin());
  }
  v.partial.erase(0, start);
}

void ConsoleReporter::detail(int number, const std::string& text) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  Vertex& v = vertex(number);
  if (mode_ == Mode::plain) {
    fmt::print(stream_, "#{} {}\n", v.number, text);
    std::fflush(stream_);
    return;
  }
  v.details.push_back(text);
}

void ConsoleReporter::cached(int number) {
  std::lock_guard lock(mutex_);
  Vertex& v = vertex(number);
  v.state = State::cached;
  v.seconds = 0;
  if (mode_ == Mode::plain) {
    fmt::print(stream_, "#{} CACHED\n", v.number);
    std::fflush(stream_);
  }
}

void ConsoleReporter::done(int number) {
  std::lock_guard lock(mutex_);
  Vertex& v = vertex(number);
  v.state = State::done;
  v.seconds = seconds_since(v.started);
  v.recent.clear();
  if (mode_ == Mode::plain) {
    if (!v.partial.empty()) print_plain_lines(v, "\n");
    fmt::print(stream_, "#{} DONE {:.1f}s\n", v.number, v.seconds);
    std::fflush(stream_);
  }
}

void ConsoleReporter::failed(int number, const std::string& error) {
  std::lock_guard lock(mutex_);
  Vertex& v = vertex(number);
  v.state = State::failed;
  v.seconds = seconds_since(v.started);
  if (mode_ == Mode::plain) {
    if (!v.partial.empty()) print_plain_lines(v, "\n");
    fmt::print(stream_, "#{} ERROR: {}\n", v.number, error);
    std::fflush(stream_);
  } else if (mode_ == Mode::tty) {
    if (!v.partial.empty()) v.recent.push_back(v.partial);
    v.partial.clear();
    redraw_locked();
  }
}

void ConsoleReporter::message(const std::string& text) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  if (mode_ == Mode::plain) {
    fmt::print(stream_, "{}\n", text);
    std::fflush(stream_);
    return;
  }
  messages_.push_back(text);
  redraw_locked();
}

void ConsoleReporter::redraw_locked() {
  if (mode_ != Mode::tty) return;
  auto [rows, columns] = terminal_size(stream_);
  size_t done_count = 0;
  for (const auto& v : vertices_) done_count += v.state == State::running ? 0 : 1;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("[+] Building {:.1f}s ({}/{}){}", seconds_since(started_), done_count,
                              vertices_.size(), finished_ ? " FINISHED" : ""));
  for (const auto& v : vertices_) {
    bool running = v.state == State::running;
    double seconds = running ? seconds_since(v.started) : v.seconds;
    std::string prefix = v.state == State::cached ? " => CACHED " : v.state == State::failed ? " => ERROR " : " => ";
    std::string time = fmt::format("{:.1f}s", seconds);
    size_t room = columns > prefix.size() + time.size() + 2 ? columns - prefix.size() - time.size() - 2 : 10;
    std::string name = fit(v.name, room);
    std::string gap(std::max<size_t>(1, columns - 1 - prefix.size() - name.size() - time.size()), ' ');
    lines.push_back(prefix + name + gap + time);
    for (const auto& line : v.details) lines.push_back(fit(" => => " + line, columns - 1));
    if (running || v.state == State::failed) {
      std::vector<std::string> shown = v.recent;
      if (running && !v.partial.empty()) shown.push_back(v.partial);
      for (const auto& line : shown) lines.push_back(fit(" => => # " + line, columns - 1));
    }
  }
  for (const auto& m : messages_) lines.push_back(fit(m, columns - 1));
  // While it runs, the block must fit the screen to be redrawn in place:
  // keep the header and the newest lines.
  if (!finished_ && lines.size() > rows - 1) lines.erase(lines.begin() + 1, lines.end() - static_cast<long>(rows - 2));
  std::string out;
  if (drawn_lines_ > 0) out += fmt::format("\x1b[{}A", drawn_lines_);
  for (const auto& line : lines) out += "\x1b[2K" + line + "\n";
  out += "\x1b[J";
  drawn_lines_ = lines.size();
  std::fputs(out.c_str(), stream_);
  std::fflush(stream_);
}

}  // namespace skiff::builder
