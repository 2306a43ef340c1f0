#include "snapshot/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "core/error.h"
#include "core/fd.h"
#include "core/fs.h"

namespace skiff::snapshot {

namespace {
void remove_children(int dir, dev_t device) {
  for (const auto& child : list_directory(dir)) {
    struct stat st;
    if (::fstatat(dir, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      fail_errno("stat " + child);
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != device || is_mount_point_at(dir, child.c_str())) fail(ErrorKind::conflict, "{} is a mount point; refusing to remove below it", child);
      UniqueFd sub(::openat(dir, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) fail_errno("open " + child);
      remove_children(sub.get(), device);
      if (::unlinkat(dir, child.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) fail_errno("remove " + child);
    } else if (::unlinkat(dir, child.c_str(), 0) != 0 && errno != ENOENT) {
      fail_errno("remove " + child);
    }
  }
}
}  // namespace

void remove_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) fail_errno("remove " + name);
  struct stat parent_st;
  if (::fstat(dir, &parent_st) != 0) fail_errno("stat");
  UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) fail_errno("open " + name);
  struct stat st;
  if (::fstat(sub.get(), &st) != 0) fail_errno("stat " + name);
  if (st.st_dev != parent_st.st_dev || is_mount_point_at(dir, name.c_str())) fail(ErrorKind::conflict, "{} is a mount point; refusing to remove it", name);
  remove_children(sub.get(), st.st_dev);
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) fail_errno("remove " + name);
}

std::vector<std::string> list_directory(int dir) {
  int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno("open directory");
  DIR* stream = ::fdopendir(fd);
  if (!stream) {
    ::close(fd);
    fail_errno("open directory");
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(stream)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int error = errno;
  ::closedir(stream);
  if (error != 0) fail_errno(error, "read directory");
  std::sort(names.begin(), names.end());
  return names;
}

void write_all(int fd, const void* data, size_t size) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void pwrite_all(int fd, const void* data, size_t size, off_t offset) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, p, size, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
}

namespace {
template <typename List, typename Get>
Xattrs read_xattrs(List list, Get get) {
  Xattrs result;
  std::string names(256, '\0');
  for (;;) {
    ssize_t n = list(names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return result;
    if (errno != ERANGE) fail_errno("list xattrs");
    ssize_t needed = list(nullptr, 0);
    if (needed < 0) fail_errno("list xattrs");
    names.assign(static_cast<size_t>(needed) + 1, '\0');
  }
  for (size_t start = 0; start < names.size();) {
    std::string name(names.c_str() + start);
    start += name.size() + 1;
    if (name.empty()) continue;
    std::string value(128, '\0');
    bool missing = false;
    for (;;) {
      ssize_t n = get(name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        break;
      }
      if (errno == ENODATA) {  // removed meanwhile
        missing = true;
        break;
      }
      if (errno != ERANGE) fail_errno("read xattr " + name);
      ssize_t needed = get(name.c_str(), nullptr, 0);
      if (needed < 0) fail_errno("read xattr " + name);
      value.assign(static_cast<size_t>(needed), '\0');
    }
    if (missing) continue;
    result.emplace_back(std::move(name), std::move(value));
  }
  std::sort(result.begin(), result.end());
  return result;
}
}  // namespace

Xattrs read_xattrs_fd(int fd) {
  return read_xattrs([fd](char* list, size_t size) { return ::flistxattr(fd, list, size); },
                     [fd](const char* name, void* value, size_t size) { return ::fgetxattr(fd, name, value, size); });
}

Xattrs read_xattrs_at(int dir, const std::string& entry) {
  std::string path = "/proc/self/fd/" + std::to_string(dir) + "/" + entry;
  return read_xattrs(
      [&](char* list, size_t size) { return ::llistxattr(path.c_str(), list, size); },
      [&](const char* name, void* value, size_t size) { return ::lgetxattr(path.c_str(), name, value, size); });
}

std::string read_link_at(int dir, const std::string& name) {
  std::string target(PATH_MAX, '\0');
  ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
  if (n < 0) fail_errno("read symlink " + name);
  target.resize(static_cast<size_t>(n));
  return target;
}

}  // namespace skiff::snapshot
