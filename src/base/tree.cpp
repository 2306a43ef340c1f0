#include "base/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "core/error.h"
#include "core/strings.h"

namespace skiff::base {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..")
      fail(ErrorKind::corrupt, "path {}: \"..\" is not allowed inside a root filesystem", std::string(path));
    parts.push_back(std::move(part));
  }
  return parts;
}

int openat2_in_root(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  const char* p = path.empty() ? "." : path.c_str();
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);  // EAGAIN: a rename raced; retry
  }
}

// Removes `name` in `dir_fd`, recursing into directories without following links.
void remove_at(int dir_fd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    fail_errno("stat " + shown);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail_errno("open " + shown);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      ::close(fd);
      fail_errno("read " + shown);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dir)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    for (const auto& n : names) remove_at(::dirfd(dir), n, shown + "/" + n);
    ::closedir(dir);
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) fail_errno("remove " + shown);
    return;
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) fail_errno("remove " + shown);
}

// Clears the way for a new non-directory entry: an existing file or link
// goes, an existing directory is a conflict.
void clear_leaf(int parent_fd, const std::string& name, const std::string& shown) {
  struct stat st;
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode))
    fail(ErrorKind::conflict, "{}: a directory is in the way of a file or link of the same name", shown);
  if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) fail_errno("replace " + shown);
}

void set_owner_mode(int fd, mode_t mode, uid_t uid, gid_t gid, const std::string& shown) {
  // chown first: it clears set-id bits that the chmod then sets.
  if (::fchown(fd, uid, gid) != 0) fail_errno("chown " + shown);
  if (::fchmod(fd, mode & 07777) != 0) fail_errno("chmod " + shown);
}

}  // namespace

RootTree::RootTree(const std::filesystem::path& root) : root_(root) {
  root_fd_.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_) fail_errno("open root filesystem " + root.string());
}

UniqueFd RootTree::resolve(const std::string& path, int flags) const {
  return UniqueFd(openat2_in_root(root_fd_.get(), path, flags));
}

RootTree::Parent RootTree::open_parent(std::string_view path, bool create) const {
  auto parts = split_path(path);
  if (parts.empty()) fail(ErrorKind::invalid_argument, "{}: the root itself has no parent", root_.string());
  Parent parent;
  parent.name = parts.back();
  parts.pop_back();
  std::string prefix = join(parts, "/");
  parent.fd = resolve(prefix, O_PATH | O_DIRECTORY);
  if (parent.fd) return parent;
  if (errno != ENOENT || !create) {
    if (errno == ENOENT) return parent;  // invalid fd: the caller treats it as absent
    fail_errno(fmt::format("open directory {} in {}", prefix.empty() ? "/" : "/" + prefix, root_.string()));
  }
  // Create the missing components one at a time, each resolved from the root.
  UniqueFd current = resolve("", O_PATH | O_DIRECTORY);
  std::string walked;
  for (const auto& part : parts) {
    std::string next = walked.empty() ? part : walked + "/" + part;
    UniqueFd fd = resolve(next, O_PATH | O_DIRECTORY);
    if (!fd && errno == ENOENT) {
      if (::mkdirat(current.get(), part.c_str(), 0700) != 0 && errno != EEXIST)
        fail_errno(fmt::format("create directory /{} in {}", next, root_.string()));
      UniqueFd made(::openat(current.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (made) set_owner_mode(made.get(), 0755, 0, 0, "/" + next);
      fd = resolve(next, O_PATH | O_DIRECTORY);
    }
    if (!fd) fail_errno(fmt::format("directory /{} in {}", next, root_.string()));
    current = std::move(fd);
    walked = next;
  }
  parent.fd = std::move(current);
  return parent;
}

void RootTree::make_directory(std::string_view path, mode_t mode, uid_t uid, gid_t gid) {
  std::string shown = "/" + join(split_path(path), "/");
  if (split_path(path).empty()) {
    UniqueFd fd = resolve("", O_RDONLY | O_DIRECTORY);
    if (!fd) fail_errno("open " + root_.string());
    set_owner_mode(fd.get(), mode, uid, gid, shown);
    return;
  }
  auto parent = open_parent(path, true);
  if (::mkdirat(parent.fd.get(), parent.name.c_str(), 0700) != 0 && errno != EEXIST)
    fail_errno("create directory " + shown);
  UniqueFd fd(::openat(parent.fd.get(), parent.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR || errno == ELOOP)
      fail(ErrorKind::conflict, "{}: exists and is not a directory", shown);
    fail_errno("open directory " + shown);
  }
  set_owner_mode(fd.get(), mode, uid, gid, shown);
}

UniqueFd RootTree::create_file(std::string_view path, mode_t mode, uid_t uid, gid_t gid) {
  std::string shown = "/" + join(split_path(path), "/");
  auto parent = open_parent(path, true);
  clear_leaf(parent.fd.get(), parent.name, shown);
  UniqueFd fd(::openat(parent.fd.get(), parent.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
  if (!fd) fail_errno("create " + shown);
  set_owner_mode(fd.get(), mode, uid, gid, shown);
  return fd;
}

void RootTree::write_file(std::string_view path, std::string_view data, mode_t mode, uid_t uid, gid_t gid) {
  UniqueFd fd = create_file(path, mode, uid, gid);
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write /" + std::string(path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void RootTree::symlink(std::string_view path, const std::string& target) {
  std::string shown = "/" + join(split_path(path), "/");
  if (target.empty()) fail(ErrorKind::corrupt, "{}: symlink with an empty target", shown);
  auto parent = open_parent(path, true);
  clear_leaf(parent.fd.get(), parent.name, shown);
  if (::symlinkat(target.c_str(), parent.fd.get(), parent.name.c_str()) != 0) fail_errno("symlink " + shown);
}

void RootTree::hardlink(std::string_view path, std::string_view existing) {
  std::string shown = "/" + join(split_path(path), "/");
  std::string existing_shown = "/" + join(split_path(existing), "/");
  auto from = open_parent(existing, false);
  struct stat st;
  if (!from.fd || ::fstatat(from.fd.get(), from.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    fail(ErrorKind::not_found, "{}: hard link to {}, which is not in the tree", shown, existing_shown);
  if (!S_ISREG(st.st_mode))
    fail(ErrorKind::corrupt, "{}: hard link to {}, which is not a regular file", shown, existing_shown);
  auto to = open_parent(path, true);
  clear_leaf(to.fd.get(), to.name, shown);
  if (::linkat(from.fd.get(), from.name.c_str(), to.fd.get(), to.name.c_str(), 0) != 0)
    fail_errno("link " + shown + " to " + existing_shown);
}

void RootTree::remove(std::string_view path) {
  std::string shown = "/" + join(split_path(path), "/");
  auto parent = open_parent(path, false);
  if (!parent.fd) return;
  remove_at(parent.fd.get(), parent.name, shown);
}

std::optional<struct stat> RootTree::status(std::string_view path) const {
  struct stat st;
  if (split_path(path).empty()) {
    if (::fstat(root_fd_.get(), &st) != 0) fail_errno("stat " + root_.string());
    return st;
  }
  auto parent = open_parent(path, false);
  if (!parent.fd) return std::nullopt;
  if (::fstatat(parent.fd.get(), parent.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    fail_errno("stat /" + std::string(path));
  }
  return st;
}

std::string RootTree::read_file(std::string_view path) const {
  std::string shown = "/" + join(split_path(path), "/");
  UniqueFd fd = resolve(join(split_path(path), "/"), O_RDONLY);
  if (!fd) fail_errno("read " + shown + " in " + root_.string());
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + shown);
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

void clamp_mtimes(const std::filesystem::path& root, std::int64_t epoch) {
  auto clamp = [epoch](const std::filesystem::path& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) fail_errno("stat " + path.string());
    std::int64_t seconds = std::min<std::int64_t>(st.st_mtim.tv_sec, epoch);
    timespec times[2] = {{static_cast<time_t>(seconds), 0}, {static_cast<time_t>(seconds), 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("set times of " + path.string());
  };
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    clamp(it->path());
  clamp(root);
}

}  // namespace skiff::base
