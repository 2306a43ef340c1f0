#include "content/io.h"

#include <unistd.h>

#include <cerrno>
#include <limits>
#include <vector>

#include "core/error.h"

namespace skiff::content {

void write_all(int fd, const char* data, size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write " + path.string());
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void read_range(int fd, std::uint64_t offset, std::uint64_t length, const std::filesystem::path& path,
                const std::function<void(const char*, size_t)>& consume) {
  std::vector<char> buffer(1 << 20);
  bool to_end = length == std::numeric_limits<std::uint64_t>::max();
  while (to_end || length > 0) {
    size_t want = to_end ? buffer.size() : static_cast<size_t>(std::min<std::uint64_t>(buffer.size(), length));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + path.string());
    }
    if (n == 0) {
      if (to_end) return;
      fail(ErrorKind::corrupt, "{}: ended {} bytes early", path.string(), length);
    }
    consume(buffer.data(), static_cast<size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    if (!to_end) length -= static_cast<std::uint64_t>(n);
  }
}

}  // namespace skiff::content
