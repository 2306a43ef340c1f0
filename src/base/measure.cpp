#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "base/base.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff::base {

namespace {

struct Entry {
  std::string path;  // relative, "" for the root
  struct stat st;
};

// Every entry below `root`, sorted by path (byte order), symlinks not followed.
std::vector<Entry> sorted_entries(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::vector<Entry> entries;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    Entry e{it->path().lexically_relative(root).string(), {}};
    if (::lstat(it->path().c_str(), &e.st) != 0) fail_errno("stat " + it->path().string());
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return entries;
}

std::string link_target(const std::filesystem::path& path) { return std::filesystem::read_symlink(path).string(); }

template <typename Sink>
void read_chunks(const std::filesystem::path& path, Sink&& sink) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno("open " + path.string());
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) fail_errno("read " + path.string());
    if (n == 0) break;
    sink(buffer, static_cast<size_t>(n));
  }
}

struct ArchiveWriter {
  archive* a = archive_write_new();
  std::uint64_t bytes = 0;
  ~ArchiveWriter() { archive_write_free(a); }
  static la_ssize_t count(archive*, void* self, const void*, size_t n) {
    static_cast<ArchiveWriter*>(self)->bytes += n;
    return static_cast<la_ssize_t>(n);
  }
  void open(bool gzip) {
    archive_write_set_format_pax_restricted(a);
    if (gzip) {
      archive_write_add_filter_gzip(a);
      archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);  // no mtime in the gzip header
      archive_write_set_filter_option(a, "gzip", "compression-level", "6");
    }
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open(a, this, nullptr, &ArchiveWriter::count, nullptr) != ARCHIVE_OK)
      fail(ErrorKind::internal, "measure: {}", archive_error_string(a));
  }
  void check(int rc) {
    if (rc < ARCHIVE_WARN) fail(ErrorKind::internal, "measure: {}", archive_error_string(a));
  }
};

}  // namespace

TreeSize measure_tree(const std::filesystem::path& root) {
  TreeSize size;
  ArchiveWriter tar, gz;
  tar.open(false);
  gz.open(true);
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
  for (const auto& e : sorted_entries(root)) {
    ++size.entries;
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_mode(entry.get(), e.st.st_mode);
    archive_entry_set_uid(entry.get(), e.st.st_uid);
    archive_entry_set_gid(entry.get(), e.st.st_gid);
    archive_entry_set_mtime(entry.get(), e.st.st_mtim.tv_sec, 0);
    auto full = root / e.path;
    bool data = false;
    if (S_ISLNK(e.st.st_mode)) {
      archive_entry_set_symlink(entry.get(), link_target(full).c_str());
    } else if (S_ISREG(e.st.st_mode)) {
      auto key = std::pair{e.st.st_dev, e.st.st_ino};
      if (e.st.st_nlink > 1 && first_name.contains(key)) {
        archive_entry_set_hardlink(entry.get(), first_name[key].c_str());
        archive_entry_set_size(entry.get(), 0);
      } else {
        first_name[key] = e.path;
        archive_entry_set_size(entry.get(), e.st.st_size);
        size.unpacked_bytes += static_cast<std::uint64_t>(e.st.st_size);
        data = true;
      }
    }
    tar.check(archive_write_header(tar.a, entry.get()));
    gz.check(archive_write_header(gz.a, entry.get()));
    if (data) {
      read_chunks(full, [&](const char* p, size_t n) {
        if (archive_write_data(tar.a, p, n) < 0 || archive_write_data(gz.a, p, n) < 0)
          fail(ErrorKind::internal, "measure {}: {}", full.string(), archive_error_string(tar.a));
      });
    }
  }
  tar.check(archive_write_close(tar.a));
  gz.check(archive_write_close(gz.a));
  size.tar_bytes = tar.bytes;
  size.tar_gzip_bytes = gz.bytes;
  return size;
}

std::string tree_listing(const std::filesystem::path& root) {
  std::string out;
  for (const auto& e : sorted_entries(root)) {
    const auto& st = e.st;
    char type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : S_ISREG(st.st_mode) ? 'f' : '?';
    std::string detail;
    if (S_ISREG(st.st_mode)) {
      Hasher hasher;
      read_chunks(root / e.path, [&](const char* p, size_t n) { hasher.update(p, n); });
      detail = hasher.digest().hex();
    } else if (S_ISLNK(st.st_mode)) {
      detail = "-> " + link_target(root / e.path);
    }
    out += fmt::format("{} {} {:04o} {}:{} {} {} {}\n", e.path, type, st.st_mode & 07777, st.st_uid, st.st_gid,
                       st.st_mtim.tv_sec, S_ISREG(st.st_mode) ? st.st_size : 0, detail);
  }
  return out;
}

std::string tree_digest(const std::filesystem::path& root) { return sha256_of(tree_listing(root)).str(); }

}  // namespace skiff::base
