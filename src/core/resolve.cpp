#include "core/resolve.h"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace skiff {

UniqueFd open_in_root(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::string p(path);
  open_how how{};
  how.flags = static_cast<__u64>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EAGAIN && errno != EINTR) return UniqueFd();
  }
}

std::optional<std::string> read_file_in_root(int root_fd, std::string_view path, size_t max_size) {
  UniqueFd fd = open_in_root(root_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    fail_errno("open " + std::string(path) + " inside the root filesystem");
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) fail_errno("stat " + std::string(path));
  if (!S_ISREG(st.st_mode)) fail(ErrorKind::corrupt, "{} in the root filesystem is not a regular file", path);
  if (static_cast<size_t>(st.st_size) > max_size)
    fail(ErrorKind::corrupt, "{} in the root filesystem is larger than {} bytes", path, max_size);
  std::string data;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + std::string(path));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > max_size) fail(ErrorKind::corrupt, "{} in the root filesystem grew past {} bytes", path, max_size);
  }
  return data;
}

}  // namespace skiff
