#include "core/lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "core/error.h"

namespace skiff {

namespace {
UniqueFd open_lock_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) fail_errno("open lock " + path.string());
  return fd;
}
}  // namespace

FileLock::FileLock(const std::filesystem::path& path, Mode mode) : fd_(open_lock_file(path)) {
  int operation = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
  while (::flock(fd_.get(), operation) != 0) {
    if (errno != EINTR) fail_errno("lock " + path.string());
  }
}

FileLock FileLock::try_lock(const std::filesystem::path& path, Mode mode) {
  FileLock lock;
  UniqueFd fd = open_lock_file(path);
  int operation = (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  if (::flock(fd.get(), operation) == 0) lock.fd_ = std::move(fd);
  else if (errno != EWOULDBLOCK) fail_errno("lock " + path.string());
  return lock;
}

}  // namespace skiff
