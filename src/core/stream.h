// Byte streams between boxes: the pull writes a layer's bytes into a sink
// while they arrive, so the snapshotter can unpack it during the download,
// and the diff writes a layer into the content store the same way.
#pragma once

#include <cstddef>
#include <string_view>

namespace skiff {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const char* data, size_t size) = 0;
  void write(std::string_view data) { write(data.data(), data.size()); }
  // All bytes were delivered; the sink finishes its work (and may throw).
  virtual void close() = 0;
  // The stream failed upstream; the sink discards what it made. Never throws.
  virtual void abort() noexcept = 0;
};

}  // namespace skiff
