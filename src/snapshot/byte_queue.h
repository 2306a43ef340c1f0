// A bounded queue of byte chunks between a producer (the download thread
// writing into a sink) and a consumer (the unpack thread reading through
// libarchive's read callback). The producer blocks when the queue holds
// `capacity` bytes, so a slow disk slows the download instead of filling
// memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace skiff::snapshot {

class ByteQueue {
 public:
  explicit ByteQueue(size_t capacity = 8u << 20) : capacity_(capacity) {}

  // Blocks while full. Returns false if the consumer cancelled.
  bool push(const char* data, size_t size);
  // No more bytes will come.
  void finish();
  // Wakes both sides for good; pop() then reports the end, push() false.
  void cancel();
  bool cancelled() const;

  // The next chunk, valid until the next pop(); empty at the end of the
  // stream (after finish()) or when cancelled.
  std::string_view pop();

 private:
  static constexpr size_t coalesce_limit = 256u << 10;
  mutable std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::string> chunks_;
  std::string current_;  // the chunk the consumer holds
  size_t queued_ = 0;
  size_t capacity_;
  bool finished_ = false;
  bool cancelled_ = false;
};

}  // namespace skiff::snapshot
