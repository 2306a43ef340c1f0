#include "snapshot/tree_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "snapshot/fs_util.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452  // the same number on every architecture (Linux 6.6)
#endif

namespace skiff::snapshot {

namespace {

constexpr size_t cache_capacity = 16;
constexpr std::uint64_t resolve_flags = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

bool is_overlay_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

std::string child_path(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string path;
  path.reserve(parent.size() + 1 + name.size());
  path.append(parent).append("/").append(name);
  return path;
}

bool is_below_or_same(std::string_view candidate, std::string_view path) {
  if (path.empty()) return true;
  return candidate == path || (candidate.size() > path.size() && candidate.starts_with(path) && candidate[path.size()] == '/');
}

void fchmod_nofollow(int dir, const std::string& name, mode_t mode) {
  if (::syscall(SYS_fchmodat2, dir, name.c_str(), mode, AT_SYMLINK_NOFOLLOW) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) fail_errno("chmod");
  // Before Linux 6.6: the entry was created by us a moment ago in a tree no
  // one else writes to, and it is checked not to be a symlink.
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("stat");
  if (S_ISLNK(st.st_mode)) fail(ErrorKind::internal, "refusing to chmod a symlink");
  if (::fchmodat(dir, name.c_str(), mode, 0) != 0) fail_errno("chmod");
}

}  // namespace

// The process umask, read once without changing it (umask(2) would race
// with other threads); nullopt when /proc does not say.
std::optional<mode_t> process_umask() {
  static const std::optional<mode_t> mask = []() -> std::optional<mode_t> {
    auto status = read_file_if_exists("/proc/self/status");
    if (!status) return std::nullopt;
    auto at = status->find("\nUmask:");
    if (at == std::string::npos) return std::nullopt;
    return static_cast<mode_t>(std::strtoul(status->c_str() + at + 7, nullptr, 8));
  }();
  return mask;
}

TreeWriter::TreeWriter(int root_fd, WhiteoutMode whiteouts)
    : root_fd_(root_fd), whiteouts_(whiteouts), restore_owners_(::geteuid() == 0), owner_(::geteuid()),
      group_(::getegid()) {
  root_dir_ = describe(root_fd);
}

TreeWriter::Dir TreeWriter::describe(int fd) {
  Dir dir{fd, false, 0};
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    dir.setgid = (st.st_mode & S_ISGID) != 0;
    dir.gid = st.st_gid;
  } else {
    dir.setgid = true;  // unknown: never skip the chown
  }
  return dir;
}

// ---- directory resolution -------------------------------------------------

int TreeWriter::open_dir(std::string_view relative, bool follow_symlinks) {
  std::string path(relative);
  if (use_openat2_) {
    struct open_how how {};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = resolve_flags | (follow_symlinks ? 0 : RESOLVE_NO_SYMLINKS);
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd_, path.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != ENOSYS) return fd;
    use_openat2_ = false;  // Linux < 5.6: walk component by component, no symlinks at all
  }
  UniqueFd current(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 3));
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string component = path.substr(start, end - start);
    start = end + 1;
    int next = ::openat(current.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -1;
    current.reset(next);
  }
  return current.release();
}

TreeWriter::Dir TreeWriter::cached(std::string_view relative) {
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (it->path == relative) {
      if (it != cache_.begin()) cache_.splice(cache_.begin(), cache_, it);
      return cache_.front().dir;
    }
  }
  return {};
}

int TreeWriter::cache_lookup(std::string_view relative) { return cached(relative).fd; }

int TreeWriter::cache_insert(std::string relative, UniqueFd fd) {
  cache_.remove_if([&](const CachedDir& d) { return d.path == relative; });
  Dir dir = describe(fd.get());
  cache_.push_front(CachedDir{std::move(relative), std::move(fd), dir});
  if (cache_.size() > cache_capacity) cache_.pop_back();
  return cache_.front().fd.get();
}

void TreeWriter::forget(std::string_view relative) {
  cache_.remove_if([&](const CachedDir& d) { return is_below_or_same(d.path, relative); });
}

TreeWriter::Dir TreeWriter::parent_dir(const EntryPath& path, bool create) {
  std::string_view parent = path.parent();
  if (parent.empty()) return root_dir_;
  if (Dir dir = cached(parent); dir.fd >= 0) return dir;
  UniqueFd fd(open_dir(parent));
  if (fd) {
    cache_insert(std::string(parent), std::move(fd));
    return cache_.front().dir;
  }
  int error = errno;
  if (error == ELOOP) fail(ErrorKind::corrupt, "its parent path loops through symlinks");
  if (error == EXDEV) fail(ErrorKind::corrupt, "its parent path leaves the layer's filesystem");
  if (error == ENOTDIR && !create) fail(ErrorKind::corrupt, "a parent of this entry is not a directory");
  if ((error != ENOENT && error != ENOTDIR) || !create) fail_errno(error, "open parent directory");

  // Create the missing parents one component at a time, from the root down.
  const auto& components = path.components();
  int current = root_fd_;
  std::string prefix;
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    prefix = child_path(prefix, components[i]);
    if (int cached = cache_lookup(prefix); cached >= 0) {
      current = cached;
      continue;
    }
    UniqueFd next(open_dir(prefix));
    if (!next) {
      int open_error = errno;
      if (open_error != ENOENT && open_error != ENOTDIR) fail_errno(open_error, "open parent " + prefix);
      struct stat st;
      bool exists = ::fstatat(current, components[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && S_ISLNK(st.st_mode))
        fail(ErrorKind::corrupt, "parent \"{}\" is a symlink that leads nowhere inside the layer", prefix);
      bool replaces_whiteout = exists && whiteouts_ == WhiteoutMode::overlay && is_overlay_whiteout(st);
      if (exists && !replaces_whiteout) fail(ErrorKind::corrupt, "parent \"{}\" is not a directory", prefix);
      if (replaces_whiteout && ::unlinkat(current, components[i].c_str(), 0) != 0) fail_errno("remove whiteout " + prefix);
      if (::mkdirat(current, components[i].c_str(), 0755) != 0) fail_errno("create directory " + prefix);
      next.reset(::openat(current, components[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) fail_errno("open directory " + prefix);
      // A directory that replaces a whiteout hides what lower layers had.
      if (replaces_whiteout) set_xattr_fd(next.get(), overlay_opaque_xattr, "y");
      if (implied_.insert(prefix).second) implied_order_.push_back(prefix);
      note_created(prefix);
    }
    current = cache_insert(prefix, std::move(next));
  }
  return cache_.front().dir;
}

// ---- removal ---------------------------------------------------------------

void TreeWriter::remove_entry(int dir, const std::string& name, const std::string& relative) {
  forget(relative);
  remove_at(dir, name);
}

void TreeWriter::clear_name(int dir, const std::string& name, const std::string& relative) {
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    fail_errno("stat existing entry");
  }
  remove_entry(dir, name, relative);
}

void TreeWriter::clear_lower_entries(int dir, const std::string& relative) {
  for (const auto& child : list_directory(dir)) {
    std::string child_relative = child_path(relative, child);
    if (!created_here(child_relative)) {
      remove_entry(dir, child, child_relative);
      continue;
    }
    UniqueFd sub(::openat(dir, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub) clear_lower_entries(sub.get(), child_relative);
  }
}

void TreeWriter::note_created(const std::string& relative) {
  if (whiteouts_ != WhiteoutMode::flatten) return;
  // Ancestors count as this layer's too: a whiteout or opaque marker must
  // not remove the directory that holds this entry, only what lower layers
  // put beside it.
  std::string path = relative;
  while (created_.insert(path).second) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) break;
    path.resize(slash);
  }
}

// ---- metadata --------------------------------------------------------------

bool TreeWriter::xattr_failure_is_soft(int error, const std::string& name) {
  if (error != ENOTSUP && error != EOPNOTSUPP) return false;
  if (skipped_xattrs_.size() < 8) {
    log::warn("the snapshot filesystem does not support xattr {}; it was not restored", name);
    skipped_xattrs_.push_back(name);
  }
  return true;
}

void TreeWriter::set_xattr_fd(int fd, const std::string& name, const std::string& value) {
  if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) return;
  int error = errno;
  if (!xattr_failure_is_soft(error, name)) fail_errno(error, "set xattr " + name);
}

void TreeWriter::set_xattr_at(int dir, const std::string& entry, const std::string& name, const std::string& value) {
  // lsetxattr never follows the last component; the directory is reached
  // through our own descriptor.
  std::string path = "/proc/self/fd/" + std::to_string(dir) + "/" + entry;
  if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0) return;
  int error = errno;
  if (!xattr_failure_is_soft(error, name)) fail_errno(error, "set xattr " + name);
}

namespace {
bool restorable_xattr(const std::string& name) {
  // overlayfs internals from a tar would steer the kernel (redirects,
  // metacopy); the opaque flag is set from ".wh..wh..opq" only.
  return !name.starts_with(overlay_xattr_prefix) && !name.starts_with("user.overlay.");
}

struct timespec times_pair(const EntryMetadata& meta, int index) {
  if (index == 0 && meta.atime.tv_nsec != UTIME_OMIT) return meta.atime;
  return meta.mtime;
}
}  // namespace

void TreeWriter::apply_metadata_fd(int fd, const EntryMetadata& meta, bool set_times) {
  // chown clears setuid/setgid and security.capability: it goes first.
  if (restore_owners_ && ::fchown(fd, meta.uid, meta.gid) != 0) fail_errno("chown");
  if (::fchmod(fd, meta.mode & 07777) != 0) fail_errno("chmod");
  for (const auto& [name, value] : meta.xattrs)
    if (restorable_xattr(name)) set_xattr_fd(fd, name, value);
  if (set_times) {
    struct timespec times[2] = {times_pair(meta, 0), times_pair(meta, 1)};
    if (::futimens(fd, times) != 0) fail_errno("set times");
  }
}

void TreeWriter::apply_metadata_at(int dir, const std::string& name, const EntryMetadata& meta, bool chmod) {
  if (restore_owners_ && ::fchownat(dir, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0)
    fail_errno("chown");
  if (chmod) fchmod_nofollow(dir, name, meta.mode & 07777);
  for (const auto& [xname, value] : meta.xattrs)
    if (restorable_xattr(xname)) set_xattr_at(dir, name, xname, value);
  struct timespec times[2] = {times_pair(meta, 0), times_pair(meta, 1)};
  if (::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("set times");
}

// ---- entries ---------------------------------------------------------------

void TreeWriter::directory(const EntryPath& path, const EntryMetadata& meta) {
  if (path.is_root()) {
    apply_metadata_fd(root_fd_, meta, false);
    directory_times_[""] = {times_pair(meta, 0), times_pair(meta, 1)};
    return;
  }
  int parent = parent_dir(path, true).fd;
  const std::string& name = path.name();
  bool replaced_whiteout = false;
  if (::mkdirat(parent, name.c_str(), 0700) != 0) {
    if (errno != EEXIST) fail_errno("create directory");
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("stat existing entry");
    if (!S_ISDIR(st.st_mode)) {
      // A later entry replaces an earlier one, as tar does; a symlink in the
      // way is removed, never followed.
      replaced_whiteout = whiteouts_ == WhiteoutMode::overlay && is_overlay_whiteout(st);
      remove_entry(parent, name, path.str());
      if (::mkdirat(parent, name.c_str(), 0700) != 0) fail_errno("create directory");
    }
  }
  UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno("open directory");
  apply_metadata_fd(fd.get(), meta, false);
  if (replaced_whiteout) set_xattr_fd(fd.get(), overlay_opaque_xattr, "y");
  directory_times_[path.str()] = {times_pair(meta, 0), times_pair(meta, 1)};
  if (implied_.erase(path.str())) std::erase(implied_order_, path.str());
  note_created(path.str());
  // Its children usually follow: keep the descriptor at hand.
  cache_insert(path.str(), std::move(fd));
}

void TreeWriter::regular_file(const EntryPath& path, const EntryMetadata& meta, std::uint64_t size,
                              const std::function<std::uint64_t(int fd)>& fill) {
  if (path.is_root()) fail(ErrorKind::corrupt, "the layer root must be a directory");
  Dir parent = parent_dir(path, true);
  const std::string& name = path.name();
  // Most files need neither chown nor chmod once created with their final
  // permission bits: three syscalls fewer per file on the hot path.
  mode_t permissions = meta.mode & 0777;
  auto mask = process_umask();
  bool mode_exact = mask && (meta.mode & 07000) == 0 && (permissions & *mask) == 0;
  bool owner_exact = meta.uid == owner_ && meta.gid == (parent.setgid ? parent.gid : group_);
  constexpr int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  mode_t create_mode = mode_exact ? permissions : 0600;
  UniqueFd fd(::openat(parent.fd, name.c_str(), flags, create_mode));
  if (!fd && errno == EEXIST) {
    remove_entry(parent.fd, name, path.str());
    fd.reset(::openat(parent.fd, name.c_str(), flags, create_mode));
  }
  if (!fd) fail_errno("create file");
  std::uint64_t end = fill(fd.get());
  if (end < size && ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) fail_errno("extend sparse file");
  if (mode_exact && owner_exact && meta.xattrs.empty()) {
    struct timespec times[2] = {times_pair(meta, 0), times_pair(meta, 1)};
    if (::futimens(fd.get(), times) != 0) fail_errno("set times");
  } else {
    apply_metadata_fd(fd.get(), meta, true);
  }
  note_created(path.str());
}

void TreeWriter::symlink(const EntryPath& path, std::string_view target, const EntryMetadata& meta) {
  if (path.is_root()) fail(ErrorKind::corrupt, "the layer root must be a directory");
  if (target.empty()) fail(ErrorKind::corrupt, "symlink has an empty target");
  if (target.size() >= PATH_MAX) fail(ErrorKind::corrupt, "symlink target is {} bytes long", target.size());
  if (target.find('\0') != std::string_view::npos) fail(ErrorKind::corrupt, "symlink target contains a NUL byte");
  int parent = parent_dir(path, true).fd;
  const std::string& name = path.name();
  std::string target_text(target);
  if (::symlinkat(target_text.c_str(), parent, name.c_str()) != 0) {
    if (errno != EEXIST) fail_errno("create symlink");
    remove_entry(parent, name, path.str());
    if (::symlinkat(target_text.c_str(), parent, name.c_str()) != 0) fail_errno("create symlink");
  }
  apply_metadata_at(parent, name, meta, false);
  note_created(path.str());
}

void TreeWriter::hardlink(const EntryPath& path, const EntryPath& target) {
  if (path.is_root() || target.is_root()) fail(ErrorKind::corrupt, "hard link to or from the layer root");
  if (is_whiteout_name(target.name())) fail(ErrorKind::corrupt, "hard link to a whiteout");
  if (path.str() == target.str()) return;  // a link to itself changes nothing
  int target_parent = [&] {
    try {
      return parent_dir(target, false).fd;
    } catch (const Error& e) {
      fail(ErrorKind::corrupt, "hard link target \"{}\" is not inside this layer ({})", target.str(), e.what());
    }
  }();
  // Keep the target's directory alive: resolving the link's own parent may
  // push it out of the cache.
  UniqueFd target_dir(::fcntl(target_parent, F_DUPFD_CLOEXEC, 3));
  if (!target_dir) fail_errno("dup");
  struct stat st;
  if (::fstatat(target_dir.get(), target.name().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    fail(ErrorKind::corrupt, "hard link target \"{}\" is not inside this layer", target.str());
  if (S_ISDIR(st.st_mode)) fail(ErrorKind::corrupt, "hard link target \"{}\" is a directory", target.str());
  if (whiteouts_ == WhiteoutMode::overlay && is_overlay_whiteout(st))
    fail(ErrorKind::corrupt, "hard link target \"{}\" is a whiteout", target.str());
  int parent = parent_dir(path, true).fd;
  const std::string& name = path.name();
  // flags 0: a symlink target is linked itself, never followed.
  if (::linkat(target_dir.get(), target.name().c_str(), parent, name.c_str(), 0) != 0) {
    if (errno != EEXIST) fail_errno("create hard link to " + target.str());
    remove_entry(parent, name, path.str());
    if (::linkat(target_dir.get(), target.name().c_str(), parent, name.c_str(), 0) != 0)
      fail_errno("create hard link to " + target.str());
  }
  note_created(path.str());
}

void TreeWriter::special(const EntryPath& path, mode_t type, dev_t device, const EntryMetadata& meta) {
  if (path.is_root()) fail(ErrorKind::corrupt, "the layer root must be a directory");
  int parent = parent_dir(path, true).fd;
  const std::string& name = path.name();
  mode_t mode = type | (meta.mode & 0777);
  if (::mknodat(parent, name.c_str(), mode, device) != 0) {
    if (errno != EEXIST) fail_errno(type == S_IFIFO ? "create fifo" : "create device node");
    remove_entry(parent, name, path.str());
    if (::mknodat(parent, name.c_str(), mode, device) != 0)
      fail_errno(type == S_IFIFO ? "create fifo" : "create device node");
  }
  apply_metadata_at(parent, name, meta, true);
  note_created(path.str());
}

void TreeWriter::whiteout(const EntryPath& path, const Whiteout& whiteout) {
  bool overlay = whiteouts_ == WhiteoutMode::overlay;
  std::string parent_relative(path.parent());
  if (whiteout.kind == WhiteoutKind::opaque) {
    if (overlay && parent_relative.empty())
      fail(ErrorKind::unsupported,
           "an opaque whiteout at the layer root cannot be expressed in an overlay (overlayfs ignores it on the root)");
    int dir;
    if (overlay) {
      dir = parent_dir(path, true).fd;
    } else {
      dir = parent_relative.empty() ? root_fd_ : cache_lookup(parent_relative);
      if (dir < 0) {
        UniqueFd fd(open_dir(parent_relative));
        if (!fd) return;  // nothing below to hide
        dir = cache_insert(parent_relative, std::move(fd));
      }
    }
    if (overlay) set_xattr_fd(dir, overlay_opaque_xattr, "y");
    else clear_lower_entries(dir, parent_relative);
    return;
  }

  std::string target_relative = child_path(parent_relative, whiteout.target);
  if (overlay) {
    int dir = parent_dir(path, true).fd;
    struct stat st;
    if (::fstatat(dir, whiteout.target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      // This layer already made the entry: it stays (OCI: whiteouts apply
      // to lower layers only), and a directory hides what was below it.
      if (S_ISDIR(st.st_mode)) {
        UniqueFd fd(::openat(dir, whiteout.target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) fail_errno("open directory");
        set_xattr_fd(fd.get(), overlay_opaque_xattr, "y");
      }
      return;
    }
    if (errno != ENOENT) fail_errno("stat whiteout target");
    if (::mknodat(dir, whiteout.target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) fail_errno("create whiteout");
    return;
  }

  int dir = parent_relative.empty() ? root_fd_ : cache_lookup(parent_relative);
  if (dir < 0) {
    UniqueFd fd(open_dir(parent_relative));
    if (!fd) return;  // the parent is gone, and with it the target
    dir = cache_insert(parent_relative, std::move(fd));
  }
  struct stat st;
  if (::fstatat(dir, whiteout.target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (!created_here(target_relative)) {
    remove_entry(dir, whiteout.target, target_relative);
  } else if (S_ISDIR(st.st_mode)) {
    UniqueFd sub(::openat(dir, whiteout.target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub) clear_lower_entries(sub.get(), target_relative);
  }
}

void TreeWriter::finish() {
  cache_.clear();
  for (const auto& [relative, times] : directory_times_) {
    UniqueFd fd(relative.empty() ? ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 3) : open_dir(relative, false));
    if (!fd) continue;  // replaced by a later entry
    struct timespec pair[2] = {times.first, times.second};
    if (::futimens(fd.get(), pair) != 0) fail_errno("set directory times on " + relative);
  }
  directory_times_.clear();
}

std::vector<std::string> TreeWriter::implied_directories() const { return implied_order_; }

}  // namespace skiff::snapshot
