#include "builder/context.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "core/fs.h"
#include "core/resolve.h"

namespace skiff::builder {

namespace {

// Orders paths component by component ("a/b" before "a-b"), which is the
// order a sorted depth-first walk produces.
bool path_less(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
    unsigned char y = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty() || dir == ".") return std::string(name);
  return std::string(dir) + "/" + std::string(name);
}

// A path relative to the tree root, with "/" and ".." unable to leave it:
// "/a/../../b" is "b", "" and "/" are "".
std::string tree_relative(std::string_view path) {
  std::string cleaned = clean_path("/" + std::string(path));
  return cleaned == "/" ? std::string() : cleaned.substr(1);
}

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    size_t end = path.find('/', start);
    parts.emplace_back(path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

TreeEntry::Type type_of(mode_t mode) {
  if (S_ISREG(mode)) return TreeEntry::Type::file;
  if (S_ISDIR(mode)) return TreeEntry::Type::directory;
  if (S_ISLNK(mode)) return TreeEntry::Type::symlink;
  return TreeEntry::Type::other;
}

std::string read_link_at(int dir_fd, const char* name, const std::string& what) {
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
    if (n < 0) fail_errno("readlink " + what);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

TreeEntry make_entry(std::string path, const struct stat& st, int dir_fd, const char* name) {
  TreeEntry entry;
  entry.path = std::move(path);
  entry.type = type_of(st.st_mode);
  entry.mode = st.st_mode & 07777;
  entry.uid = st.st_uid;
  entry.gid = st.st_gid;
  entry.size = entry.type == TreeEntry::Type::file ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (entry.type == TreeEntry::Type::symlink) entry.link_target = read_link_at(dir_fd, name, entry.path);
  return entry;
}

std::vector<std::string> list_directory(int dir_fd, const std::string& what) {
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) fail_errno("list " + what);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(copy), ::closedir);
  if (!dir) {
    ::close(copy);
    fail_errno("list " + what);
  }
  // The copy shares its position with `dir_fd`: an earlier walk of the
  // same descriptor left it at the end.
  ::rewinddir(dir.get());
  std::vector<std::string> names;
  while (struct dirent* d = ::readdir(dir.get())) {
    std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Walker {
 public:
  Walker(const IgnoreMatcher& ignore, std::vector<TreeEntry>& out) : ignore_(ignore), out_(out) {}

  void walk(int dir_fd, const std::string& dir) {
    for (const auto& name : list_directory(dir_fd, dir.empty() ? "." : dir)) {
      std::string path = join_path(dir, name);
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed while we walk
        fail_errno("stat " + path);
      }
      TreeEntry entry = make_entry(path, st, dir_fd, name.c_str());
      bool excluded = ignore_.excluded(path);
      if (!excluded) emit(entry);
      if (!S_ISDIR(st.st_mode) || (excluded && !ignore_.may_include_below(path))) continue;
      UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) fail_errno("open directory " + path);
      // An excluded directory is listed only if something below it is not.
      if (excluded) pending_.push_back({std::move(entry), false});
      walk(child.get(), path);
      if (excluded) pending_.pop_back();
    }
  }

 private:
  void emit(const TreeEntry& entry) {
    for (auto& [ancestor, emitted] : pending_) {
      if (!emitted) out_.push_back(ancestor);
      emitted = true;
    }
    out_.push_back(entry);
  }

  const IgnoreMatcher& ignore_;
  std::vector<TreeEntry>& out_;
  std::vector<std::pair<TreeEntry, bool>> pending_;
};

void hash_field(Hasher& hasher, std::string_view value) {
  hasher.update(value);
  hasher.update(std::string_view("\0", 1));
}

}  // namespace

SourceTree::SourceTree(const std::filesystem::path& root, IgnoreMatcher ignore)
    : root_(root), ignore_(std::move(ignore)) {
  root_fd_ = UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_) fail_errno("open build context " + root.string());
}

SourceTree SourceTree::context(const std::filesystem::path& root, const std::filesystem::path& dockerfile) {
  std::optional<std::string> ignore_text;
  std::filesystem::path ignore_path;
  if (!dockerfile.empty()) {
    std::filesystem::path beside = dockerfile;
    if (beside.is_relative()) beside = root / beside;
    beside += ".dockerignore";
    ignore_text = read_file_if_exists(beside);
    ignore_path = beside;
  }
  if (!ignore_text) {
    ignore_path = root / ".dockerignore";
    ignore_text = read_file_if_exists(ignore_path);
  }
  IgnoreMatcher matcher;
  if (ignore_text) {
    try {
      matcher = IgnoreMatcher::parse(*ignore_text);
    } catch (const Error& e) {
      rethrow_with_context(e, ignore_path.string());
    }
  }
  return SourceTree(root, std::move(matcher));
}

std::vector<TreeEntry> SourceTree::walk(std::string_view dir) const {
  std::string start = tree_relative(dir);
  std::vector<TreeEntry> out;
  UniqueFd fd = start.empty() ? UniqueFd(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0))
                              : open_in_root(root_fd_.get(), start, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) fail_errno("open " + (start.empty() ? root_.string() : start) + " in " + root_.string());
  Walker(ignore_, out).walk(fd.get(), start);
  return out;
}

std::vector<TreeEntry> SourceTree::files_to_send(const std::filesystem::path& dockerfile) const {
  std::vector<TreeEntry> entries = walk();
  std::vector<std::string> always = {".dockerignore"};
  if (!dockerfile.empty()) {
    std::filesystem::path relative = dockerfile.is_absolute() ? dockerfile.lexically_relative(root_) : dockerfile;
    std::string text = relative.generic_string();
    if (!text.empty() && text.rfind("..", 0) != 0) {
      always.push_back(tree_relative(text));
      always.push_back(tree_relative(text) + ".dockerignore");
    }
  }
  for (const auto& path : always) {
    if (!excluded(path)) continue;
    UniqueFd fd = open_in_root(root_fd_.get(), path, O_PATH | O_NOFOLLOW);
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entries.push_back(make_entry(path, st, fd.get(), ""));
  }
  std::sort(entries.begin(), entries.end(), [](const TreeEntry& a, const TreeEntry& b) { return path_less(a.path, b.path); });
  return entries;
}

std::optional<TreeEntry> SourceTree::stat(std::string_view path) const {
  std::string relative = tree_relative(path);
  if (!relative.empty() && excluded(relative)) return std::nullopt;
  UniqueFd fd = relative.empty() ? UniqueFd(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0))
                                 : open_in_root(root_fd_.get(), relative, O_PATH | O_NOFOLLOW);
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    fail_errno("open " + relative + " in " + root_.string());
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) fail_errno("stat " + relative);
  return make_entry(relative, st, fd.get(), "");
}

std::string SourceTree::resolve(std::string_view path) const {
  // Components still to walk, the next one last.
  std::vector<std::string> todo = split_components(tree_relative(path));
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> resolved;
  int hops = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    std::string candidate;
    for (const auto& r : resolved) candidate += r + "/";
    candidate += part;
    UniqueFd fd = open_in_root(root_fd_.get(), candidate, O_PATH | O_NOFOLLOW);
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      resolved.push_back(std::move(part));  // absent paths resolve to themselves
      continue;
    }
    if (++hops > 40) fail(ErrorKind::invalid_argument, "{}: too many levels of symbolic links", path);
    std::string target = read_link_at(fd.get(), "", candidate);
    if (!target.empty() && target[0] == '/') resolved.clear();
    auto target_parts = split_components(target);
    for (auto it = target_parts.rbegin(); it != target_parts.rend(); ++it) todo.push_back(*it);
  }
  std::string out;
  for (size_t i = 0; i < resolved.size(); ++i) out += (i ? "/" : "") + resolved[i];
  return out;
}

std::vector<std::string> SourceTree::match(std::string_view pattern) const {
  std::string relative = tree_relative(pattern);
  auto missing = [&](std::string_view path) {
    bool is_excluded = !path.empty() && excluded(path);
    fail(ErrorKind::not_found, "\"/{}\": not found{}", path,
         is_excluded ? " (excluded by .dockerignore)" : "");
  };
  if (!has_wildcards(relative)) {
    std::string real = resolve(relative);
    if (!stat(relative) || (real != relative && !stat(real))) missing(relative);
    return {relative};
  }
  std::vector<std::string> candidates = {""};
  size_t start = 0;
  for (;;) {
    size_t end = relative.find('/', start);
    std::string part = relative.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::vector<std::string> next;
    for (const auto& dir : candidates) {
      if (!has_wildcards(part)) {
        next.push_back(join_path(dir, part));
        continue;
      }
      std::string real = resolve(dir);
      UniqueFd fd = real.empty() ? UniqueFd(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0))
                                 : open_in_root(root_fd_.get(), real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!fd) continue;
      for (const auto& name : list_directory(fd.get(), real)) {
        std::string path = join_path(dir, name);
        if (glob_match(part, name) && !excluded(path)) next.push_back(path);
      }
    }
    candidates = std::move(next);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::vector<std::string> out;
  for (auto& path : candidates) {
    if (stat(path) && stat(resolve(path))) out.push_back(std::move(path));
  }
  if (out.empty()) {
    fail(ErrorKind::not_found, "no source files were found matching \"{}\"", pattern);
  }
  std::sort(out.begin(), out.end(), path_less);
  return out;
}

Digest SourceTree::file_digest(std::string_view path) const {
  UniqueFd fd = open_in_root(root_fd_.get(), tree_relative(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!fd) fail_errno("open " + std::string(path) + " in " + root_.string());
  Hasher hasher;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + std::string(path) + " in " + root_.string());
    }
    if (n == 0) break;
    hasher.update(buffer.data(), static_cast<size_t>(n));
  }
  return hasher.digest();
}

Digest SourceTree::content_hash(const std::vector<std::string>& paths, const HashOptions& options) const {
  Hasher hasher;
  hasher.update("skiff.copy-content.v1\n");
  auto record = [&](std::string_view name, const TreeEntry& entry) {
    const char* type = entry.type == TreeEntry::Type::file        ? "file"
                       : entry.type == TreeEntry::Type::directory ? "dir"
                       : entry.type == TreeEntry::Type::symlink   ? "symlink"
                                                                   : "other";
    hash_field(hasher, type);
    hash_field(hasher, name);
    hash_field(hasher, fmt::format("{:o}", entry.mode));
    if (options.ownership) hash_field(hasher, fmt::format("{}:{}", entry.uid, entry.gid));
    if (entry.type == TreeEntry::Type::file) {
      hash_field(hasher, std::to_string(entry.size));
      hash_field(hasher, file_digest(entry.path).str());
    } else if (entry.type == TreeEntry::Type::symlink) {
      hash_field(hasher, entry.link_target);
    }
    hasher.update("\n");
  };
  IgnoreMatcher excludes(options.excludes);
  for (const auto& path : paths) {
    std::string relative = tree_relative(path);
    std::string real = resolve(relative);  // a source that is a symlink is followed
    auto entry = stat(real);
    if (!entry) fail(ErrorKind::not_found, "\"/{}\": not found", relative);
    hasher.update("source\n");
    if (entry->type != TreeEntry::Type::directory) {
      if (!excludes.excluded(base_name(relative))) record(base_name(relative), *entry);
      continue;
    }
    record(".", *entry);
    for (const auto& child : walk(real)) {
      std::string_view name = real.empty() ? std::string_view(child.path) : std::string_view(child.path).substr(real.size() + 1);
      if (!excludes.excluded(name)) record(name, child);
    }
  }
  return hasher.digest();
}

bool SourceTree::is_archive(std::string_view path) const {
  std::string real = resolve(path);
  UniqueFd fd = open_in_root(root_fd_.get(), real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::unique_ptr<struct archive, int (*)(struct archive*)> reader(archive_read_new(), archive_read_free);
  if (!reader) fail(ErrorKind::internal, "libarchive: out of memory");
  archive_read_support_filter_none(reader.get());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_bzip2(reader.get());
  archive_read_support_filter_xz(reader.get());
  archive_read_support_filter_zstd(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_fd(reader.get(), fd.get(), 1 << 16) != ARCHIVE_OK) return false;
  struct archive_entry* entry = nullptr;
  return archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK;
}

}  // namespace skiff::builder
