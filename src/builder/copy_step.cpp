#include "builder/copy_step.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "builder/dockerignore.h"
#include "container/user.h"
#include "core/error.h"
#include "core/resolve.h"
#include "snapshot/fs_util.h"
#include "snapshot/tree_writer.h"
#include "snapshot/unpack.h"

namespace skiff::builder {

namespace {

using snapshot::EntryMetadata;
using snapshot::EntryPath;
using snapshot::TreeWriter;

struct Owner {
  bool set = false;  // --chown given, or root for context files
  std::uint32_t uid = 0, gid = 0;
};

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string join_relative(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return std::string(dir) + "/" + std::string(name);
}

std::string parent_of(const std::string& relative) {
  auto slash = relative.rfind('/');
  return slash == std::string::npos ? std::string() : relative.substr(0, slash);
}

std::string read_link_in_tree(const SourceTree& tree, const std::string& path) {
  UniqueFd fd = open_in_root(tree.fd(), path, O_PATH | O_NOFOLLOW);
  if (!fd) fail_errno("open " + path);
  std::string target(4096, '\0');
  ssize_t n = ::readlinkat(fd.get(), "", target.data(), target.size());
  if (n < 0) fail_errno("readlink " + path);
  target.resize(static_cast<size_t>(n));
  return target;
}

// "/app/" -> "app"; "/" -> "".
std::string root_relative(std::string_view destination) {
  std::string cleaned = clean_path("/" + std::string(destination));
  return cleaned == "/" ? std::string() : cleaned.substr(1);
}

struct stat stat_in_tree(const SourceTree& tree, const std::string& path) {
  UniqueFd fd = path.empty() ? UniqueFd(::fcntl(tree.fd(), F_DUPFD_CLOEXEC, 3))
                             : open_in_root(tree.fd(), path, O_PATH | O_NOFOLLOW);
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0) fail_errno("stat " + path + " in " + tree.root().string());
  return st;
}

// --chown as docker reads it: names from the destination's /etc/passwd and
// /etc/group; a user without a group gets the same number as its gid.
Owner parse_chown(int root_fd, const std::string& chown) {
  if (chown.empty()) return {};
  container::User user;
  try {
    user = container::resolve_user(root_fd, chown);
  } catch (const Error& e) {
    fail(e.kind(), "--chown={}: {}", chown, e.what());
  }
  Owner owner{true, user.uid, user.gid};
  if (chown.find(':') == std::string::npos) owner.gid = owner.uid;
  return owner;
}

std::optional<mode_t> parse_chmod(const std::string& chmod) {
  if (chmod.empty()) return std::nullopt;
  return static_cast<mode_t>(std::stoul(chmod, nullptr, 8));
}

class Copier {
 public:
  Copier(int root_fd, const CopyStep& step)
      : root_fd_(root_fd), step_(step), writer_(root_fd, snapshot::WhiteoutMode::flatten) {
    chmod_ = parse_chmod(step.chmod);
    owner_ = parse_chown(root_fd, step.chown);
    if (!owner_.set && !step.keep_ownership) owner_.set = true;  // context files belong to root
  }
  Copier(int root_fd, const CopyStep& step, Owner owner)
      : root_fd_(root_fd), step_(step), writer_(root_fd, snapshot::WhiteoutMode::flatten), owner_(owner) {}

  void finish() { writer_.finish(); }

  // Whether `relative` is a directory in the root, symlinks followed inside it.
  bool is_directory(const std::string& relative) {
    if (relative.empty()) return true;
    UniqueFd fd = open_in_root(root_fd_, relative, O_PATH);
    struct stat st;
    return fd && ::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  // mkdir -p of `relative`, new directories 0755 with the --chown owner.
  void make_directories(const std::string& relative) {
    std::string prefix;
    size_t start = 0;
    while (start < relative.size()) {
      size_t end = relative.find('/', start);
      if (end == std::string::npos) end = relative.size();
      prefix = join_relative(prefix, relative.substr(start, end - start));
      start = end + 1;
      if (is_directory(prefix)) continue;
      EntryMetadata meta;
      meta.mode = 0755;
      meta.uid = owner_.uid;
      meta.gid = owner_.gid;
      meta.mtime = now();
      meta.atime.tv_nsec = UTIME_OMIT;
      write(prefix, [&](const EntryPath& path) { writer_.directory(path, meta); });
    }
  }

  // One source entry (file, directory, symlink or special file) of `tree`
  // at `source`, written as `target`.
  void copy_entry(const SourceTree& tree, const std::string& source, const std::string& target) {
    struct stat st = stat_in_tree(tree, source);
    EntryMetadata meta = metadata(st);
    if (S_ISDIR(st.st_mode)) {
      bool existed = is_directory(target);
      if (!existed) write(target, [&](const EntryPath& path) { writer_.directory(path, meta); });
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd in = open_in_root(tree.fd(), source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
      if (!in) fail_errno("open " + source);
      write(target, [&](const EntryPath& path) {
        writer_.regular_file(path, meta, static_cast<std::uint64_t>(st.st_size), [&](int out) {
          return copy_content(in.get(), out, static_cast<std::uint64_t>(st.st_size), source);
        });
      });
    } else if (S_ISLNK(st.st_mode)) {
      std::string link = read_link_in_tree(tree, source);
      write(target, [&](const EntryPath& path) { writer_.symlink(path, link, meta); });
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      write(target, [&](const EntryPath& path) {
        writer_.special(path, st.st_mode & S_IFMT, st.st_rdev, meta);
      });
    }
    // sockets are not copied (docker skips them too)
  }

  // A directory's contents below `source` into `target`, without --exclude'd ones.
  void copy_directory(const SourceTree& tree, const std::string& source, const std::string& target) {
    make_directories(target);
    IgnoreMatcher excludes(step_.excludes);
    for (const auto& entry : tree.walk(source)) {
      std::string name = source.empty() ? entry.path : entry.path.substr(source.size() + 1);
      if (excludes.excluded(name)) continue;
      copy_entry(tree, entry.path, join_relative(target, name));
    }
  }

  void write_inline(const Heredoc& heredoc, const std::string& target, std::int64_t epoch) {
    EntryMetadata meta;
    meta.mode = chmod_.value_or(0644);
    meta.uid = owner_.uid;
    meta.gid = owner_.gid;
    meta.mtime = {epoch, 0};
    meta.atime.tv_nsec = UTIME_OMIT;
    write(target, [&](const EntryPath& path) {
      writer_.regular_file(path, meta, heredoc.content.size(), [&](int out) {
        snapshot::write_all(out, heredoc.content.data(), heredoc.content.size());
        return static_cast<std::uint64_t>(heredoc.content.size());
      });
    });
  }

  // ADD of a local archive: its entries below `target`.
  void extract(const SourceTree& tree, const std::string& source, const std::string& target) {
    make_directories(target);
    UniqueFd in = open_in_root(tree.fd(), source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (!in) fail_errno("open " + source);
    UniqueFd dir = target.empty() ? UniqueFd(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 3))
                                  : open_in_root(root_fd_, target, O_RDONLY | O_DIRECTORY);
    if (!dir) fail_errno("open " + target);
    snapshot::UnpackOptions options;
    options.whiteouts = snapshot::WhiteoutMode::flatten;
    options.name = "archive " + source;
    snapshot::apply_layer(in.get(), dir.get(), options);
  }

 private:
  static struct timespec now() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
  }

  EntryMetadata metadata(const struct stat& st) const {
    EntryMetadata meta;
    meta.mode = st.st_mode & 07777;
    if (chmod_ && !S_ISLNK(st.st_mode)) meta.mode = *chmod_;
    meta.uid = owner_.set ? owner_.uid : st.st_uid;
    meta.gid = owner_.set ? owner_.gid : st.st_gid;
    meta.mtime = st.st_mtim;
    meta.atime.tv_nsec = UTIME_OMIT;
    return meta;
  }

  template <typename Action>
  void write(const std::string& target, const Action& action) {
    if (target.empty()) return;  // the root itself is never replaced
    EntryPath path;
    try {
      path = EntryPath::parse(target);
      action(path);
    } catch (const Error& e) {
      fail(e.kind(), "copy to /{}: {}", target, e.what());
    }
  }

  static std::uint64_t copy_content(int in, int out, std::uint64_t size, const std::string& what) {
    std::uint64_t done = 0;
    while (done < size) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(size - done), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) break;
      if (n < 0) fail_errno("copy " + what);
      if (n == 0) return done;  // the file shrank while we copied it
      done += static_cast<std::uint64_t>(n);
    }
    char buffer[1 << 16];
    while (done < size) {
      ssize_t n = ::read(in, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("read " + what);
      if (n == 0) break;
      snapshot::write_all(out, buffer, static_cast<size_t>(n));
      done += static_cast<std::uint64_t>(n);
    }
    return done;
  }

  int root_fd_;
  const CopyStep& step_;
  TreeWriter writer_;
  std::optional<mode_t> chmod_;
  Owner owner_;
};

std::vector<std::string> matched_sources(const SourceTree& tree, const CopyStep& step) {
  std::vector<std::string> paths;
  for (const auto& pattern : step.sources) {
    for (auto& path : tree.match(pattern)) paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace

std::optional<Digest> copy_sources_hash(const SourceTree& tree, const CopyStep& step) {
  if (step.sources.empty()) return std::nullopt;
  HashOptions options;
  options.ownership = step.keep_ownership && step.chown.empty();
  options.excludes = step.excludes;
  return tree.content_hash(matched_sources(tree, step), options);
}

void copy_step(int root_fd, const SourceTree* tree, const CopyStep& step, std::int64_t epoch) {
  std::vector<std::string> sources;
  if (!step.sources.empty()) {
    if (!tree) fail(ErrorKind::internal, "copy_step: sources without a tree");
    sources = matched_sources(*tree, step);
  }
  Copier copier(root_fd, step);
  std::string destination = root_relative(step.destination);
  bool into_directory = step.destination.ends_with("/") || copier.is_directory(destination);
  size_t count = sources.size() + step.inline_sources.size();
  if (count > 1 && !into_directory && !step.parents)
    fail(ErrorKind::invalid_argument, "when using {} with more than one source file, the destination must be a "
         "directory and end with a /", step.add ? "ADD" : "COPY");

  for (const auto& heredoc : step.inline_sources) {
    std::string target = into_directory ? join_relative(destination, heredoc.name) : destination;
    copier.make_directories(parent_of(target));
    copier.write_inline(heredoc, target, epoch);
  }
  for (const auto& source : sources) {
    std::string real = tree->resolve(source);  // a source that is a symlink is followed
    auto entry = tree->stat(real);
    if (!entry) fail(ErrorKind::not_found, "\"/{}\": not found", source);
    // --parents keeps the source's path below the destination.
    std::string below = step.parents ? join_relative(destination, source) : destination;
    if (entry->type == TreeEntry::Type::directory) {
      copier.copy_directory(*tree, real, below);
      continue;
    }
    bool unpack = step.add && step.from == CopyStep::From::context && step.unpack.value_or(tree->is_archive(real));
    if (unpack) {
      copier.extract(*tree, real, destination);
      continue;
    }
    std::string target = step.parents         ? below
                         : into_directory     ? join_relative(destination, base_name(source))
                                              : destination;
    copier.make_directories(parent_of(target));
    copier.copy_entry(*tree, real, target);
  }
  copier.finish();
}

void make_workdir(int root_fd, const std::string& path, const std::string& user) {
  container::User resolved = container::resolve_user(root_fd, user);
  CopyStep none;
  Copier copier(root_fd, none, Owner{true, resolved.uid, resolved.gid});
  copier.make_directories(root_relative(path));
  copier.finish();
}

}  // namespace skiff::builder
