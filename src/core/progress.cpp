#include "core/progress.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "core/humanize.h"

namespace skiff {

Progress::Progress(Mode mode, std::FILE* stream) : mode_(mode), stream_(stream) {
  if (mode_ == Mode::automatic) mode_ = ::isatty(::fileno(stream)) ? Mode::tty : Mode::plain;
}

Progress::~Progress() {
  std::lock_guard lock(mutex_);
  if (mode_ == Mode::tty) redraw(true);
}

Progress::Row& Progress::row(const std::string& id) {
  auto it = std::find_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.id == id; });
  if (it != rows_.end()) return *it;
  rows_.push_back(Row{id, "", 0, 0, false});
  return rows_.back();
}

std::string Progress::render(const Row& r) const {
  std::string line = r.id.empty() ? r.status : r.id + ": " + r.status;
  if (!r.finished && r.total > 0) {
    constexpr int width = 40;
    int filled = static_cast<int>(std::min<std::uint64_t>(width, r.current * width / r.total));
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    line += fmt::format(" [{}] {}/{}", bar, human_size(r.current), human_size(r.total));
  } else if (!r.finished && r.current > 0) {
    line += " " + human_size(r.current);
  }
  return line;
}

void Progress::redraw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string out;
  if (drawn_ > 0) out += fmt::format("\x1b[{}A", drawn_);
  for (const auto& r : rows_) out += "\x1b[2K" + render(r) + "\n";
  drawn_ = rows_.size();
  std::fputs(out.c_str(), stream_);
  std::fflush(stream_);
}

void Progress::update(const std::string& id, const std::string& status, std::uint64_t current,
                      std::uint64_t total) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  Row& r = row(id);
  bool changed = r.status != status;
  r.status = status;
  r.current = current;
  r.total = total;
  if (mode_ == Mode::tty) redraw(changed);
  else if (changed) fmt::print(stream_, "{}\n", render(r)), std::fflush(stream_);
}

void Progress::finish(const std::string& id, const std::string& status) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  Row& r = row(id);
  r.status = status;
  r.finished = true;
  if (mode_ == Mode::tty) redraw(true);
  else fmt::print(stream_, "{}\n", render(r)), std::fflush(stream_);
}

void Progress::message(const std::string& text) {
  if (mode_ == Mode::quiet) return;
  std::lock_guard lock(mutex_);
  if (mode_ == Mode::tty) {
    // Messages go above nothing: print below the rows and forget the rows,
    // so they are not redrawn over the message.
    redraw(true);
    rows_.clear();
    drawn_ = 0;
  }
  fmt::print(stream_, "{}\n", text);
  std::fflush(stream_);
}

}  // namespace skiff
