#include "core/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

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

bool FileLock::still_linked(const std::filesystem::path& path) const {
  struct stat held, named;
  if (!fd_ || ::fstat(fd_.get(), &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace skiff
