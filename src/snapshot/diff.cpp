#include "snapshot/diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "snapshot/fs_util.h"
#include "snapshot/tar_writer.h"
#include "snapshot/whiteout.h"

namespace skiff::snapshot {

namespace fs = std::filesystem;

namespace {

enum class TreeKind { upper, plain };

bool is_opaque(int dir_fd) {
  char value[4];
  ssize_t n = ::fgetxattr(dir_fd, overlay_opaque_xattr, value, sizeof value);
  return n == 1 && value[0] == 'y';
}

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

struct Child {
  std::string name;
  struct stat st;
};

// Depth first, children sorted by name; in an upper directory the
// whiteouts of a directory come before its other entries (image-spec:
// "whiteout files SHOULD appear before sibling directory entries").
void walk(int dir_fd, const std::string& relative, TreeKind kind, TarWriter& writer) {
  std::vector<Child> children;
  for (auto& name : list_directory(dir_fd)) {
    Child child{std::move(name), {}};
    if (::fstatat(dir_fd, child.name.c_str(), &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      fail_errno("stat " + join_path(relative, child.name));
    }
    children.push_back(std::move(child));
  }
  auto whiteout = [&](const Child& c) {
    return kind == TreeKind::upper && S_ISCHR(c.st.st_mode) && c.st.st_rdev == makedev(0, 0);
  };
  for (const auto& c : children)
    if (whiteout(c)) writer.add_whiteout(join_path(relative, whiteout_name_for(c.name)), c.st);
  for (const auto& c : children) {
    if (whiteout(c)) continue;
    std::string path = join_path(relative, c.name);
    if (S_ISDIR(c.st.st_mode)) {
      UniqueFd sub(::openat(dir_fd, c.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) fail_errno("open " + path);
      writer.add(path, c.st, -1, "", read_xattrs_fd(sub.get()));
      if (kind == TreeKind::upper && is_opaque(sub.get()))
        writer.add_whiteout(join_path(path, std::string(opaque_whiteout_name)), c.st);
      walk(sub.get(), path, kind, writer);
    } else if (S_ISREG(c.st.st_mode)) {
      UniqueFd file(::openat(dir_fd, c.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!file) fail_errno("open " + path);
      writer.add(path, c.st, file.get(), "", read_xattrs_fd(file.get()));
    } else if (S_ISLNK(c.st.st_mode)) {
      writer.add(path, c.st, -1, read_link_at(dir_fd, c.name), read_xattrs_at(dir_fd, c.name));
    } else {
      writer.add(path, c.st, -1, "", read_xattrs_at(dir_fd, c.name));
    }
  }
}

LayerInfo write_tree(const fs::path& root, TreeKind kind, ByteSink& out, const DiffOptions& options) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) fail_errno("open " + root.string());
  TarWriter writer(out, options);
  walk(dir.get(), "", kind, writer);
  return writer.finish();
}

}  // namespace

LayerInfo write_upper_diff(const fs::path& upper, ByteSink& out, const DiffOptions& options) {
  return write_tree(upper, TreeKind::upper, out, options);
}

LayerInfo write_directory_layer(const fs::path& directory, ByteSink& out, const DiffOptions& options) {
  return write_tree(directory, TreeKind::plain, out, options);
}

// ---- FileSink ----------------------------------------------------------------

FileSink::FileSink(fs::path path) : path_(std::move(path)) {
  std::string pattern = (path_.parent_path() / ("." + path_.filename().string() + ".tmpXXXXXX")).string();
  fd_.reset(::mkostemp(pattern.data(), O_CLOEXEC));
  if (!fd_) fail_errno("create temporary file beside " + path_.string());
  temp_ = pattern;
  buffer_.reserve(1u << 20);
}

FileSink::~FileSink() {
  if (fd_) abort();
}

void FileSink::write(const char* data, size_t size) {
  if (!fd_) fail(ErrorKind::internal, "write to {} after close", path_.string());
  if (buffer_.size() + size > buffer_.capacity()) {
    write_all(fd_.get(), buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  if (size >= buffer_.capacity()) write_all(fd_.get(), data, size);
  else buffer_.append(data, size);
}

void FileSink::close() {
  if (!fd_) return;
  try {
    write_all(fd_.get(), buffer_.data(), buffer_.size());
    buffer_.clear();
    if (::fchmod(fd_.get(), 0644) != 0) fail_errno("chmod " + temp_.string());
    fd_.reset();
    if (::rename(temp_.c_str(), path_.c_str()) != 0) fail_errno("rename to " + path_.string());
  } catch (...) {
    abort();
    throw;
  }
}

void FileSink::abort() noexcept {
  fd_.reset();
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

}  // namespace skiff::snapshot
