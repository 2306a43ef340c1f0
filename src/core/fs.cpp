#include "core/fs.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "core/error.h"

namespace skiff {

std::optional<std::string> read_file_if_exists(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    fail_errno("read " + path.string());
  }
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + path.string());
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

std::string read_file(const fs::path& path) {
  auto data = read_file_if_exists(path);
  if (!data) fail(ErrorKind::not_found, "{}: no such file", path.string());
  return std::move(*data);
}

static void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write " + path.string());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode,
                       bool durable) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string temp = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) fail_errno("create temporary file in " + dir.string());
  try {
    write_all(fd.get(), data, temp);
    if (::fchmod(fd.get(), mode) != 0) fail_errno("chmod " + temp);
    if (durable && ::fdatasync(fd.get()) != 0) fail_errno("fsync " + temp);
    fd.reset();
    if (::rename(temp.c_str(), path.c_str()) != 0) fail_errno("rename to " + path.string());
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  if (durable) {
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd) ::fsync(dfd.get());
  }
}

void ensure_dir(const fs::path& path, mode_t mode) {
  if (path.empty()) return;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail(ErrorKind::conflict, "{} exists and is not a directory", path.string());
    return;
  }
  ensure_dir(path.parent_path() == path ? fs::path() : path.parent_path(), mode);
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail_errno("mkdir " + path.string());
}

bool is_mount_point_at(int dir, const char* name) {
  struct statx stx{};
  if (::statx(dir, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) return false;
  if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  struct stat parent;  // kernels before 5.8: only mounts of another device show
  if (::fstat(dir, &parent) != 0) return false;
  return makedev(stx.stx_dev_major, stx.stx_dev_minor) != parent.st_dev;
}

bool is_mount_point(const fs::path& path) {
  fs::path target = path.lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "dir/"
  fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return false;
  return is_mount_point_at(dir.get(), target.filename().c_str());
}

namespace {
thread_local dev_t remove_tree_device;
thread_local int remove_tree_error;
thread_local const std::vector<std::string>* remove_tree_mounts;

// Mount points strictly below `dir` (canonical), from the kernel's table:
// nftw's FTW_MOUNT sees only mounts of another device.
std::vector<std::string> mount_points_below(const std::string& dir) {
  std::vector<std::string> found;
  auto table = read_file_if_exists("/proc/self/mountinfo");
  if (!table) return found;
  std::string prefix = dir == "/" ? dir : dir + "/";
  size_t start = 0;
  while (start < table->size()) {
    size_t end = table->find('\n', start);
    if (end == std::string::npos) end = table->size();
    std::string_view line(table->data() + start, end - start);
    start = end + 1;
    // id parent major:minor root MOUNT_POINT …; blanks in it are \040.
    size_t field = 0, pos = 0;
    for (; field < 4 && pos != std::string_view::npos; ++field) {
      pos = line.find(' ', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    if (pos == std::string_view::npos) continue;
    auto escaped = line.substr(pos, line.find(' ', pos) - pos);
    std::string point;
    for (size_t i = 0; i < escaped.size(); ++i) {
      if (escaped[i] == '\\' && i + 3 < escaped.size()) {
        point += static_cast<char>(std::stoi(std::string(escaped.substr(i + 1, 3)), nullptr, 8));
        i += 3;
      } else {
        point += escaped[i];
      }
    }
    if (point.starts_with(prefix)) found.push_back(point);
  }
  return found;
}

bool inside_a_mount(std::string_view path) {
  for (const auto& point : *remove_tree_mounts)
    if (path == point || (path.starts_with(point) && path[point.size()] == '/')) return true;
  return false;
}

int remove_entry(const char* path, const struct stat* st, int type, struct FTW*) {
  if (st->st_dev != remove_tree_device && type == FTW_DP) return 0;  // a mount below: leave it
  if (!remove_tree_mounts->empty() && inside_a_mount(path)) return 0;
  int rc = (type == FTW_DP || type == FTW_D) ? ::rmdir(path) : ::unlink(path);
  if (rc != 0 && errno != ENOENT && remove_tree_error == 0) remove_tree_error = errno;
  return 0;
}
}  // namespace

void remove_tree(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail_errno("remove " + path.string());
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_errno("remove " + path.string());
    return;
  }
  std::error_code canonical_error;
  fs::path canonical = fs::canonical(path, canonical_error);
  if (canonical_error) canonical = fs::absolute(path);
  auto mounts = mount_points_below(canonical.string());
  remove_tree_mounts = &mounts;
  remove_tree_device = st.st_dev;
  remove_tree_error = 0;
  if (::nftw(canonical.c_str(), remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
    fail_errno("remove " + path.string());
  if (remove_tree_error != 0) fail_errno(remove_tree_error, "remove " + path.string());
}

namespace {
thread_local std::uint64_t usage_total;
thread_local std::set<std::pair<dev_t, ino_t>>* usage_seen;

int add_usage(const char*, const struct stat* st, int, struct FTW*) {
  if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
    if (!usage_seen->emplace(st->st_dev, st->st_ino).second) return 0;
  }
  usage_total += static_cast<std::uint64_t>(st->st_blocks) * 512;
  return 0;
}
}  // namespace

std::uint64_t disk_usage(const fs::path& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  usage_seen = &seen;
  usage_total = 0;
  ::nftw(path.c_str(), add_usage, 64, FTW_PHYS | FTW_MOUNT);
  usage_seen = nullptr;
  return usage_total;
}

UniqueFd open_directory(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) fail_errno("open " + path.string());
  return fd;
}

TempDir::TempDir(const fs::path& parent, std::string_view prefix) {
  ensure_dir(parent);
  std::string pattern = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) fail_errno("create temporary directory in " + parent.string());
  path_ = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir::~TempDir() {
  if (path_.empty()) return;
  try {
    remove_tree(path_);
  } catch (...) {
  }
}

fs::path TempDir::release() { return std::exchange(path_, {}); }

}  // namespace skiff
