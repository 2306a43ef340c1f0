// MergedView::copy_into: a chain of snapshots flattened into one tree.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "core/error.h"
#include "snapshot/fs_util.h"
#include "snapshot/merged_view.h"
#include "snapshot/tree_writer.h"

namespace skiff::snapshot {

namespace {

void copy_range(int from, int to, off_t offset, off_t length) {
  loff_t in = offset, out = offset;
  while (length > 0) {
    ssize_t n = ::copy_file_range(from, &in, to, &out, static_cast<size_t>(length), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) fail_errno("copy file data");
      // Fall back to read/write for filesystems that cannot.
      char buffer[1 << 16];
      while (length > 0) {
        ssize_t r = ::pread(from, buffer, std::min<off_t>(length, sizeof buffer), in);
        if (r < 0) fail_errno("read");
        if (r == 0) return;
        pwrite_all(to, buffer, static_cast<size_t>(r), out);
        in += r;
        out += r;
        length -= r;
      }
      return;
    }
    if (n == 0) return;
    length -= n;
  }
}

// Copies data region by region so holes stay holes; returns where the
// last data region ends.
std::uint64_t copy_sparse(int from, int to, off_t size) {
  off_t offset = 0, end = 0;
  while (offset < size) {
    off_t data = ::lseek(from, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;
      copy_range(from, to, offset, size - offset);
      return static_cast<std::uint64_t>(size);
    }
    off_t hole = ::lseek(from, data, SEEK_HOLE);
    if (hole < 0 || hole > size) hole = size;
    copy_range(from, to, data, hole - data);
    offset = end = hole;
  }
  return static_cast<std::uint64_t>(end);
}

EntryMetadata metadata_of(const struct stat& st, Xattrs xattrs) {
  EntryMetadata meta;
  meta.mode = st.st_mode & 07777;
  meta.uid = st.st_uid;
  meta.gid = st.st_gid;
  meta.mtime = st.st_mtim;
  meta.atime.tv_nsec = UTIME_OMIT;
  meta.xattrs = std::move(xattrs);
  return meta;
}

}  // namespace

void MergedView::copy_into(int target_dir_fd) {
  TreeWriter tree(target_dir_fd, WhiteoutMode::flatten);
  std::map<std::pair<size_t, ino_t>, std::string> links;  // per layer: inodes of one layer only
  walk([&](const Entry& e) {
    EntryPath path = EntryPath::parse(e.path);
    const struct stat& st = e.st;
    if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) {
        auto [it, first] = links.emplace(std::make_pair(e.layer, st.st_ino), e.path);
        if (!first) {
          tree.hardlink(path, EntryPath::parse(it->second));
          return;
        }
      }
      UniqueFd source(::openat(e.dir_fd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!source) fail_errno("open " + e.path);
      tree.regular_file(path, metadata_of(st, read_xattrs_fd(source.get())), static_cast<std::uint64_t>(st.st_size),
                        [&](int fd) { return copy_sparse(source.get(), fd, st.st_size); });
    } else if (S_ISDIR(st.st_mode)) {
      UniqueFd dir(::openat(e.dir_fd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir) fail_errno("open " + e.path);
      tree.directory(path, metadata_of(st, read_xattrs_fd(dir.get())));
    } else if (S_ISLNK(st.st_mode)) {
      tree.symlink(path, read_link_at(e.dir_fd, e.name), metadata_of(st, read_xattrs_at(e.dir_fd, e.name)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      tree.special(path, st.st_mode & S_IFMT, st.st_rdev, metadata_of(st, read_xattrs_at(e.dir_fd, e.name)));
    }
  });
  tree.finish();
}

}  // namespace skiff::snapshot
