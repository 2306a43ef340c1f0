// What a build shows while it runs, in BuildKit's shape: numbered vertices
// ("#4 [build 2/5] RUN make"), each CACHED or DONE with its elapsed time,
// RUN output under the vertex that produced it. The executor reports into
// a BuildReporter; ConsoleReporter prints docker's two styles — a redrawn
// block on a terminal, plain "#N …" lines otherwise — or nothing (-q).
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <condition_variable>
#include <vector>

namespace skiff::builder {

class BuildReporter {
 public:
  virtual ~BuildReporter() = default;
  // A new vertex ("[build 2/5] RUN make"); returns its number. Thread-safe,
  // as are the calls below (stages build in parallel).
  virtual int begin(const std::string& name) = 0;
  // Output of the vertex's process (any chunking).
  virtual void output(int vertex, std::string_view text) = 0;
  // A line about the vertex that stays shown after it is done ("writing
  // image sha256:…"), unlike output.
  virtual void detail(int vertex, const std::string& text) = 0;
  virtual void cached(int vertex) = 0;
  virtual void done(int vertex) = 0;
  virtual void failed(int vertex, const std::string& error) = 0;
  // A line that is not a vertex ("[Warning] …").
  virtual void message(const std::string& text) = 0;
};

// Reports nothing.
class SilentReporter final : public BuildReporter {
 public:
  int begin(const std::string&) override { return ++count_; }
  void output(int, std::string_view) override {}
  void detail(int, const std::string&) override {}
  void cached(int) override {}
  void done(int) override {}
  void failed(int, const std::string&) override {}
  void message(const std::string&) override {}

 private:
  int count_ = 0;
};

class ConsoleReporter final : public BuildReporter {
 public:
  enum class Mode { automatic, tty, plain, quiet };
  // `automatic`: tty when `stream` is a terminal, plain otherwise.
  explicit ConsoleReporter(Mode mode = Mode::automatic, std::FILE* stream = stderr);
  ~ConsoleReporter() override;
  ConsoleReporter(const ConsoleReporter&) = delete;
  ConsoleReporter& operator=(const ConsoleReporter&) = delete;

  int begin(const std::string& name) override;
  void output(int vertex, std::string_view text) override;
  void detail(int vertex, const std::string& text) override;
  void cached(int vertex) override;
  void done(int vertex) override;
  void failed(int vertex, const std::string& error) override;
  void message(const std::string& text) override;

  // Draws the final state (tty) and stops the clock.
  void finish();
  Mode mode() const { return mode_; }

 private:
  enum class State { running, cached, done, failed };
  struct Vertex {
    int number = 0;
    std::string name;
    State state = State::running;
    std::chrono::steady_clock::time_point started;
    double seconds = 0;
    std::string partial;              // output after the last newline (plain)
    std::vector<std::string> recent;  // the last lines of output (tty)
    std::vector<std::string> details;
  };
  Vertex& vertex(int number);
  void print_plain_lines(Vertex& v, std::string_view text);
  void redraw_locked();
  void ticker();

  Mode mode_;
  std::FILE* stream_;
  std::mutex mutex_;
  std::vector<Vertex> vertices_;
  std::vector<std::string> messages_;
  std::chrono::steady_clock::time_point started_;
  size_t drawn_lines_ = 0;
  bool finished_ = false;
  std::condition_variable wake_;
  std::thread ticker_;
};

}  // namespace skiff::builder
