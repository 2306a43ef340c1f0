#include "base/deb.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>

#include "base/paths.h"
#include "core/error.h"
#include "core/strings.h"
#include "core/subprocess.h"

namespace skiff::base {

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

// A member of the outer ar archive, read as a (compressed) tar archive
// straight from the outer stream.
class DebMember {
 public:
  // Opens the first member whose name starts with `prefix` ("data.tar").
  DebMember(const std::filesystem::path& deb, const std::string& prefix) : deb_(deb) {
    outer_.reset(archive_read_new());
    archive_read_support_format_ar(outer_.get());
    if (archive_read_open_filename(outer_.get(), deb.c_str(), 1 << 16) != ARCHIVE_OK)
      fail(ErrorKind::corrupt, "{}: not a readable .deb: {}", deb.string(), archive_error_string(outer_.get()));
    archive_entry* entry = nullptr;
    for (;;) {
      int rc = archive_read_next_header(outer_.get(), &entry);
      if (rc == ARCHIVE_EOF) fail(ErrorKind::corrupt, "{}: no {}.* member: not a Debian package", deb.string(), prefix);
      if (rc != ARCHIVE_OK)
        fail(ErrorKind::corrupt, "{}: broken ar archive: {}", deb.string(), archive_error_string(outer_.get()));
      const char* name = archive_entry_pathname(entry);
      if (name && std::string_view(name).starts_with(prefix)) break;
    }
    inner_.reset(archive_read_new());
    archive_read_support_filter_all(inner_.get());
    archive_read_support_format_tar(inner_.get());
    if (archive_read_open(inner_.get(), this, nullptr, &DebMember::read_outer, nullptr) != ARCHIVE_OK)
      fail(ErrorKind::corrupt, "{}: {} is not a readable tar archive: {}", deb.string(), prefix,
           archive_error_string(inner_.get()));
  }

  archive* get() { return inner_.get(); }

  // The next entry, or nullptr at the end.
  archive_entry* next() {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(inner_.get(), &entry);
    if (rc == ARCHIVE_EOF) return nullptr;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      fail(ErrorKind::corrupt, "{}: broken data archive: {}", deb_.string(), archive_error_string(inner_.get()));
    return entry;
  }

 private:
  static la_ssize_t read_outer(archive*, void* self, const void** buffer) {
    auto* member = static_cast<DebMember*>(self);
    la_ssize_t n = archive_read_data(member->outer_.get(), member->buffer_, sizeof member->buffer_);
    *buffer = member->buffer_;
    return n;
  }

  std::filesystem::path deb_;
  ArchivePtr outer_;
  ArchivePtr inner_;
  char buffer_[1 << 16];
};

void copy_data(archive* a, int fd, const std::filesystem::path& deb, const std::string& path) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  la_int64_t written = 0;
  for (;;) {
    int rc = archive_read_data_block(a, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK)
      fail(ErrorKind::corrupt, "{}: reading /{}: {}", deb.string(), path, archive_error_string(a));
    if (offset != written && ::lseek(fd, offset, SEEK_SET) < 0) fail_errno("seek /" + path);
    const char* p = static_cast<const char*>(block);
    size_t left = size;
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("write /" + path);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    written = offset + static_cast<la_int64_t>(size);
  }
  // A sparse file's trailing hole.
  if (::ftruncate(fd, written) != 0) fail_errno("truncate /" + path);
}

}  // namespace

DebInfo read_deb_info(const std::filesystem::path& deb) {
  auto out = check_output({"dpkg-deb", "--show",
                           "--showformat=${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n",
                           deb.string()});
  auto fields = split(trim(out), '\t');
  if (fields.size() != 5 || fields[0].empty() || fields[1].empty())
    fail(ErrorKind::corrupt, "{}: dpkg-deb could not read its control fields", deb.string());
  DebInfo info{fields[0], fields[1], fields[2], fields[3], fields[4], 0};

  DebMember control(deb, "control.tar");
  while (archive_entry* entry = control.next()) {
    info.build_time = std::max<std::int64_t>(info.build_time, archive_entry_mtime(entry));
    archive_read_data_skip(control.get());
  }
  return info;
}

std::vector<ExtractedEntry> extract_deb(const std::filesystem::path& deb, RootTree& tree,
                                        const std::function<bool(const std::string&)>& select) {
  std::vector<ExtractedEntry> extracted;
  std::set<std::string> written_files;  // hard link targets must come from this package
  DebMember data(deb, "data.tar");
  while (archive_entry* entry = data.next()) {
    const char* raw = archive_entry_pathname(entry);
    auto path = tree_path(raw ? raw : "");
    if (!path) fail(ErrorKind::corrupt, "{}: entry \"{}\" escapes the root filesystem; refusing the package",
                    deb.string(), raw ? raw : "");
    if (path->empty() || !select(*path)) {
      archive_read_data_skip(data.get());
      continue;
    }
    mode_t mode = archive_entry_perm(entry) & 07777;
    if (const char* link = archive_entry_hardlink(entry)) {
      auto target = tree_path(link);
      if (!target)
        fail(ErrorKind::corrupt, "{}: hard link /{} points outside the root (\"{}\")", deb.string(), *path, link);
      if (!written_files.contains(*target))
        fail(ErrorKind::invalid_argument,
             "{}: /{} is a hard link to /{}, which the slice does not select: add /{} to the package's paths",
             deb.string(), *path, *target, *target);
      tree.hardlink(*path, *target);
      extracted.push_back({*path, ExtractedEntry::Type::hardlink});
      continue;
    }
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR:
        tree.make_directory(*path, mode);
        extracted.push_back({*path, ExtractedEntry::Type::directory});
        break;
      case AE_IFREG: {
        UniqueFd fd = tree.create_file(*path, mode);
        copy_data(data.get(), fd.get(), deb, *path);
        written_files.insert(*path);
        extracted.push_back({*path, ExtractedEntry::Type::file});
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (!target || !*target) fail(ErrorKind::corrupt, "{}: symlink /{} has no target", deb.string(), *path);
        tree.symlink(*path, target);
        extracted.push_back({*path, ExtractedEntry::Type::symlink});
        break;
      }
      default:
        fail(ErrorKind::corrupt, "{}: /{} is a device, fifo or socket; base images hold none", deb.string(), *path);
    }
  }
  return extracted;
}

}  // namespace skiff::base
