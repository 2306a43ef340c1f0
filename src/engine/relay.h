// A foreground container's output when it is also logged: the handler
// writes into pipes, and a thread copies every chunk to our stdout/stderr
// and into the json-file log. The same for every isolation handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <thread>

#include "container/log.h"
#include "core/pipe.h"

namespace skiff::engine {

class OutputRelay {
 public:
  OutputRelay(const std::filesystem::path& log_file, std::uint64_t log_max_size);
  // finish()es (errors writing the log are dropped on this path).
  ~OutputRelay();
  OutputRelay(const OutputRelay&) = delete;
  OutputRelay& operator=(const OutputRelay&) = delete;

  // The write ends to hand to the container.
  int out() const { return out_.write.get(); }
  int err() const { return err_.write.get(); }
  // Once the main process has exited: closes our write ends, copies what is
  // still buffered (without waiting for orphans that keep a pipe open) and
  // flushes the log. Idempotent.
  void finish();

 private:
  Pipe out_, err_;
  container::LogWriter log_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace skiff::engine
