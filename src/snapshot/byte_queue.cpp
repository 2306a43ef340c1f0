#include "snapshot/byte_queue.h"

namespace skiff::snapshot {

bool ByteQueue::push(const char* data, size_t size) {
  std::unique_lock lock(mutex_);
  while (size > 0) {
    not_full_.wait(lock, [&] { return cancelled_ || queued_ < capacity_; });
    if (cancelled_) return false;
    size_t room = capacity_ - queued_;
    size_t take = size < room ? size : room;
    // Small writes (a download's 16 KiB callbacks) are merged into larger
    // chunks: fewer wake-ups, bigger reads for the decompressor.
    if (!chunks_.empty() && chunks_.back().size() + take <= coalesce_limit) chunks_.back().append(data, take);
    else chunks_.emplace_back(data, take);
    queued_ += take;
    data += take;
    size -= take;
    not_empty_.notify_one();
  }
  return true;
}

void ByteQueue::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  not_empty_.notify_all();
}

void ByteQueue::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  not_empty_.notify_all();
  not_full_.notify_all();
}

bool ByteQueue::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

std::string_view ByteQueue::pop() {
  std::unique_lock lock(mutex_);
  queued_ -= current_.size();
  current_.clear();
  not_full_.notify_one();
  not_empty_.wait(lock, [&] { return cancelled_ || finished_ || !chunks_.empty(); });
  if (cancelled_ || chunks_.empty()) return {};
  current_ = std::move(chunks_.front());
  chunks_.pop_front();
  return current_;
}

}  // namespace skiff::snapshot
