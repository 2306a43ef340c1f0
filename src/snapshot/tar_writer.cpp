#include "snapshot/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/error.h"
#include "snapshot/whiteout.h"

namespace skiff::snapshot {

namespace {
constexpr size_t chunk_size = 1u << 20;

bool portable_xattr(const std::string& name) {
  // overlayfs bookkeeping (origin, impure, opaque…) describes this host's
  // upper directory, not the image.
  return !name.starts_with(overlay_xattr_prefix) && !name.starts_with("user.overlay.");
}

// Data regions of a file with holes; empty when it has none.
std::vector<std::pair<off_t, off_t>> data_regions(int fd, off_t size) {
  std::vector<std::pair<off_t, off_t>> regions;
  off_t offset = 0;
  while (offset < size) {
    off_t data = ::lseek(fd, offset, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole remains
      return {};                  // SEEK_DATA unsupported: treat as dense
    }
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return {};
    if (hole > size) hole = size;
    regions.emplace_back(data, hole - data);
    offset = hole;
  }
  return regions;
}
}  // namespace

long TarWriter::on_tar_bytes(struct archive*, void* self, const void* data, size_t size) {
  auto* writer = static_cast<TarWriter*>(self);
  writer->diff_hasher_.update(data, size);
  writer->tar_size_ += size;
  if (!writer->compressor_) {
    writer->deliver(data, size);
    return writer->sink_error_ ? -1 : static_cast<long>(size);
  }
  la_ssize_t written = archive_write_data(writer->compressor_, data, size);
  return written < 0 ? -1 : static_cast<long>(size);
}

long TarWriter::on_compressed_bytes(struct archive*, void* self, const void* data, size_t size) {
  auto* writer = static_cast<TarWriter*>(self);
  writer->deliver(data, size);
  return writer->sink_error_ ? -1 : static_cast<long>(size);
}

void TarWriter::deliver(const void* data, size_t size) {
  if (sink_error_) return;
  try {
    digest_hasher_.update(data, size);
    size_ += size;
    out_.write(static_cast<const char*>(data), size);
  } catch (...) {
    sink_error_ = std::current_exception();
  }
}

void TarWriter::check(int rc, struct archive* a, const std::string& what) {
  if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) return;
  if (sink_error_) std::rethrow_exception(sink_error_);
  const char* message = archive_error_string(a);
  fail(ErrorKind::internal, "write layer: {}: {}", what, message ? message : "libarchive error");
}

TarWriter::TarWriter(ByteSink& out, const DiffOptions& options) : out_(out), options_(options) {
  buffer_.resize(chunk_size);
  if (options.compression != Compression::none) {
    compressor_ = archive_write_new();
    archive_write_set_format_raw(compressor_);
    const char* filter = options.compression == Compression::gzip ? "gzip" : "zstd";
    if (options.compression == Compression::gzip) {
      archive_write_add_filter_gzip(compressor_);
      // No timestamp in the gzip header: the same tar compresses to the same bytes.
      check(archive_write_set_filter_option(compressor_, "gzip", "timestamp", nullptr), compressor_, "gzip options");
    } else {
      archive_write_add_filter_zstd(compressor_);
    }
    if (options.level > 0)
      check(archive_write_set_filter_option(compressor_, filter, "compression-level",
                                            std::to_string(options.level).c_str()),
            compressor_, "compression level");
    archive_write_set_bytes_per_block(compressor_, 0);
    check(archive_write_open(compressor_, this, nullptr, &TarWriter::on_compressed_bytes, nullptr), compressor_,
          "open compressor");
    struct archive_entry* stream = archive_entry_new();
    archive_entry_set_filetype(stream, AE_IFREG);
    archive_entry_set_pathname(stream, "layer.tar");
    int rc = archive_write_header(compressor_, stream);
    archive_entry_free(stream);
    check(rc, compressor_, "start compressor");
  }
  tar_ = archive_write_new();
  archive_write_set_format_pax_restricted(tar_);
  // Go's archive/tar (containerd, docker) reads SCHILY.xattr records.
  check(archive_write_set_format_option(tar_, "pax", "xattrheader", "SCHILY"), tar_, "pax options");
  archive_write_set_bytes_per_block(tar_, 0);
  check(archive_write_open(tar_, this, nullptr, &TarWriter::on_tar_bytes, nullptr), tar_, "open tar writer");
  entry_ = archive_entry_new();
}

TarWriter::~TarWriter() {
  if (entry_) archive_entry_free(entry_);
  if (tar_) archive_write_free(tar_);
  if (compressor_) archive_write_free(compressor_);
}

std::int64_t TarWriter::clamp(std::int64_t seconds) const {
  if (options_.source_date_epoch && seconds > *options_.source_date_epoch) return *options_.source_date_epoch;
  return seconds;
}

bool TarWriter::excluded(const std::string& path) const {
  for (const auto& e : options_.exclude)
    if (path.starts_with(e) && (path.size() == e.size() || path[e.size()] == '/')) return true;
  return false;
}

void TarWriter::add(const std::string& path, const struct stat& st, int fd, const std::string& link_target,
                    const Xattrs& xattrs) {
  if (excluded(path)) return;
  archive_entry_clear(entry_);
  archive_entry_copy_pathname(entry_, path.c_str());
  archive_entry_set_uid(entry_, options_.uid ? *options_.uid : st.st_uid);
  archive_entry_set_gid(entry_, options_.gid ? *options_.gid : st.st_gid);
  // Whole seconds keep entries in ustar headers (no per-file PAX record).
  archive_entry_set_mtime(entry_, clamp(st.st_mtim.tv_sec), 0);
  for (const auto& [name, value] : xattrs)
    if (portable_xattr(name)) archive_entry_xattr_add_entry(entry_, name.c_str(), value.data(), value.size());

  bool with_data = false;
  archive_entry_set_mode(entry_, st.st_mode);
  if (S_ISREG(st.st_mode)) {
    if (st.st_nlink > 1) {
      auto [it, first] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), path);
      if (!first) {
        archive_entry_copy_hardlink(entry_, it->second.c_str());
        archive_entry_set_size(entry_, 0);
        check(archive_write_header(tar_, entry_), tar_, "entry " + path);
        ++entries_;
        return;
      }
    }
    archive_entry_set_size(entry_, st.st_size);
    with_data = st.st_size > 0;
    if (with_data && st.st_blocks * 512 < st.st_size) {
      auto regions = data_regions(fd, st.st_size);
      bool has_hole = regions.size() != 1 || regions[0].first != 0 || regions[0].second != st.st_size;
      if (has_hole && !regions.empty()) {
        for (const auto& [offset, length] : regions) archive_entry_sparse_add_entry(entry_, offset, length);
        if (regions.back().first + regions.back().second < st.st_size)
          archive_entry_sparse_add_entry(entry_, st.st_size, 0);
      }
    }
  } else if (S_ISLNK(st.st_mode)) {
    archive_entry_copy_symlink(entry_, link_target.c_str());
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    archive_entry_set_rdevmajor(entry_, major(st.st_rdev));
    archive_entry_set_rdevminor(entry_, minor(st.st_rdev));
  } else if (!S_ISDIR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    return;  // sockets have no place in a layer
  }
  check(archive_write_header(tar_, entry_), tar_, "entry " + path);
  ++entries_;
  if (with_data) write_data(fd, st, path);
}

void TarWriter::write_data(int fd, const struct stat& st, const std::string& path) {
  // Holes come back from read() as zeros; the PAX writer drops the bytes
  // that fall in the sparse map's holes.
  off_t remaining = st.st_size;
  off_t offset = 0;
  while (remaining > 0) {
    ssize_t n = ::pread(fd, buffer_.data(), std::min<off_t>(remaining, static_cast<off_t>(buffer_.size())), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read " + path);
    }
    if (n == 0) fail(ErrorKind::conflict, "write layer: {} shrank while it was read", path);
    if (archive_write_data(tar_, buffer_.data(), static_cast<size_t>(n)) < 0) check(ARCHIVE_FATAL, tar_, "data " + path);
    remaining -= n;
    offset += n;
  }
}

void TarWriter::add_whiteout(const std::string& path, const struct stat& st) {
  if (excluded(path)) return;
  archive_entry_clear(entry_);
  archive_entry_copy_pathname(entry_, path.c_str());
  archive_entry_set_filetype(entry_, AE_IFREG);
  archive_entry_set_perm(entry_, 0);
  archive_entry_set_size(entry_, 0);
  archive_entry_set_mtime(entry_, clamp(st.st_mtim.tv_sec), 0);
  check(archive_write_header(tar_, entry_), tar_, "entry " + path);
  ++entries_;
}

LayerInfo TarWriter::finish() {
  check(archive_write_close(tar_), tar_, "finish tar");
  if (compressor_) check(archive_write_close(compressor_), compressor_, "finish compression");
  if (sink_error_) std::rethrow_exception(sink_error_);
  LayerInfo info;
  info.digest = digest_hasher_.digest();
  info.diff_id = diff_hasher_.digest();
  info.size = size_;
  info.tar_size = tar_size_;
  info.compression = options_.compression;
  info.media_type = layer_media_type(options_.compression);
  info.entries = entries_;
  return info;
}

}  // namespace skiff::snapshot
