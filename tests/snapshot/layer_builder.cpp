#include "snapshot/layer_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>

#include "core/fs.h"

namespace skiff::test {

namespace {
la_ssize_t append(struct archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

void check(int rc, struct archive* a, const std::string& what) {
  if (rc < ARCHIVE_WARN) throw std::runtime_error(what + ": " + archive_error_string(a));
}
}  // namespace

LayerBuilder& LayerBuilder::add(TarEntry entry) {
  entries_.push_back(std::move(entry));
  return *this;
}

LayerBuilder& LayerBuilder::file(const std::string& name, const std::string& content, mode_t mode, uid_t uid,
                                 gid_t gid) {
  TarEntry e;
  e.name = name;
  e.content = content;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::dir(const std::string& name, mode_t mode, uid_t uid, gid_t gid) {
  TarEntry e;
  e.type = TarEntry::Type::dir;
  e.name = name;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::symlink(const std::string& name, const std::string& target) {
  TarEntry e;
  e.type = TarEntry::Type::symlink;
  e.name = name;
  e.content = target;
  e.mode = 0777;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::hardlink(const std::string& name, const std::string& target) {
  TarEntry e;
  e.type = TarEntry::Type::hardlink;
  e.name = name;
  e.content = target;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::fifo(const std::string& name, mode_t mode) {
  TarEntry e;
  e.type = TarEntry::Type::fifo;
  e.name = name;
  e.mode = mode;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::device(const std::string& name, bool block, unsigned major, unsigned minor, mode_t mode) {
  TarEntry e;
  e.type = block ? TarEntry::Type::blk : TarEntry::Type::chr;
  e.name = name;
  e.major = major;
  e.minor = minor;
  e.mode = mode;
  return add(std::move(e));
}

LayerBuilder& LayerBuilder::sparse(const std::string& name, std::uint64_t size,
                                   std::vector<std::pair<std::uint64_t, std::string>> data) {
  TarEntry e;
  e.name = name;
  e.sparse_size = size;
  e.sparse_data = std::move(data);
  return add(std::move(e));
}

std::string LayerBuilder::tar() const {
  std::string out;
  struct archive* a = archive_write_new();
  if (format_ == Format::pax) archive_write_set_format_pax(a);
  else archive_write_set_format_gnutar(a);
  archive_write_set_bytes_in_last_block(a, 1);
  check(archive_write_open(a, &out, nullptr, append, nullptr), a, "open");
  struct archive_entry* entry = archive_entry_new();
  for (const auto& e : entries_) {
    archive_entry_clear(entry);
    archive_entry_copy_pathname(entry, e.name.c_str());
    archive_entry_set_uid(entry, e.uid);
    archive_entry_set_gid(entry, e.gid);
    archive_entry_set_mtime(entry, e.mtime, e.mtime_nsec);
    for (const auto& [name, value] : e.xattrs)
      archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
    std::string data;
    switch (e.type) {
      case TarEntry::Type::file:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, e.mode);
        if (e.sparse_size) {
          archive_entry_set_size(entry, static_cast<la_int64_t>(e.sparse_size));
          data.assign(e.sparse_size, '\0');
          for (const auto& [offset, bytes] : e.sparse_data) {
            archive_entry_sparse_add_entry(entry, static_cast<la_int64_t>(offset), static_cast<la_int64_t>(bytes.size()));
            data.replace(offset, bytes.size(), bytes);
          }
        } else {
          archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
          data = e.content;
        }
        break;
      case TarEntry::Type::dir:
        archive_entry_set_filetype(entry, AE_IFDIR);
        archive_entry_set_perm(entry, e.mode);
        break;
      case TarEntry::Type::symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_perm(entry, 0777);
        archive_entry_copy_symlink(entry, e.content.c_str());
        break;
      case TarEntry::Type::hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_perm(entry, e.mode);
        archive_entry_copy_hardlink(entry, e.content.c_str());
        archive_entry_set_size(entry, 0);
        break;
      case TarEntry::Type::chr:
      case TarEntry::Type::blk:
        archive_entry_set_filetype(entry, e.type == TarEntry::Type::chr ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_perm(entry, e.mode);
        archive_entry_set_rdevmajor(entry, e.major);
        archive_entry_set_rdevminor(entry, e.minor);
        break;
      case TarEntry::Type::fifo:
        archive_entry_set_filetype(entry, AE_IFIFO);
        archive_entry_set_perm(entry, e.mode);
        break;
    }
    check(archive_write_header(a, entry), a, "header " + e.name);
    if (!data.empty() && archive_write_data(a, data.data(), data.size()) < 0)
      throw std::runtime_error("data " + e.name + ": " + archive_error_string(a));
  }
  archive_entry_free(entry);
  check(archive_write_close(a), a, "close");
  archive_write_free(a);
  return out;
}

std::string compress(const std::string& data, snapshot::Compression compression) {
  if (compression == snapshot::Compression::none) return data;
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  if (compression == snapshot::Compression::gzip) archive_write_add_filter_gzip(a);
  else archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  check(archive_write_open(a, &out, nullptr, append, nullptr), a, "open");
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_filetype(entry, AE_IFREG);
  check(archive_write_header(a, entry), a, "header");
  if (!data.empty() && archive_write_data(a, data.data(), data.size()) < 0)
    throw std::runtime_error(std::string("compress: ") + archive_error_string(a));
  archive_entry_free(entry);
  check(archive_write_close(a), a, "close");
  archive_write_free(a);
  return out;
}

std::string LayerBuilder::build(snapshot::Compression compression) const { return compress(tar(), compression); }

void LayerBuilder::write(const std::filesystem::path& path, snapshot::Compression compression) const {
  write_file_atomic(path, build(compression), 0644, false);
}

}  // namespace skiff::test
