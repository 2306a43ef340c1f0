// Advisory whole-file locks (flock) that coordinate skiff processes sharing
// a store: held for the life of the object.
#pragma once

#include <filesystem>

#include "core/fd.h"

namespace skiff {

class FileLock {
 public:
  enum class Mode { shared, exclusive };
  // Blocks until the lock is granted; creates the lock file if needed.
  FileLock(const std::filesystem::path& path, Mode mode = Mode::exclusive);
  // Returns an unlocked object (valid() false) instead of blocking.
  static FileLock try_lock(const std::filesystem::path& path, Mode mode = Mode::exclusive);
  bool valid() const { return fd_.valid(); }
  // True while `path` still names the locked file: a holder that deletes its
  // lock file on the way out leaves waiters holding an orphan, which they
  // detect here and retry.
  bool still_linked(const std::filesystem::path& path) const;
  // The locked descriptor: a child that inherits it (fork, exec without
  // O_CLOEXEC) keeps the lock alive after this object is gone, which is how
  // a container's monitor holds "owned by a live process" for its lifetime.
  int fd() const { return fd_.get(); }

 private:
  FileLock() = default;
  UniqueFd fd_;
};

}  // namespace skiff
