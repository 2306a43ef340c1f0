#include "snapshot/layer_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"

namespace skiff::snapshot {

long LayerReader::read_compressed(struct archive*, void* self, const void** buffer) {
  auto* reader = static_cast<LayerReader*>(self);
  try {
    std::string_view chunk = reader->source_();
    *buffer = chunk.data();
    reader->compressed_bytes_ += chunk.size();
    return static_cast<long>(chunk.size());
  } catch (...) {
    reader->source_error_ = std::current_exception();
    return ARCHIVE_FATAL;
  }
}

long LayerReader::read_uncompressed(struct archive*, void* self, const void** buffer) {
  auto* reader = static_cast<LayerReader*>(self);
  size_t size = 0;
  la_int64_t offset = 0;
  int rc = archive_read_data_block(reader->raw_, buffer, &size, &offset);
  if (rc == ARCHIVE_EOF) return 0;
  if (rc != ARCHIVE_OK) {
    archive_set_error(reader->tar_, archive_errno(reader->raw_), "%s", archive_error_string(reader->raw_));
    return ARCHIVE_FATAL;
  }
  reader->diff_hasher_.update(*buffer, size);
  reader->tar_bytes_ += size;
  return static_cast<long>(size);
}

LayerReader::LayerReader(ChunkSource source, std::string name, std::string_view media_type)
    : source_(std::move(source)), name_(std::move(name)) {
  Compression declared = compression_from_media_type(media_type);
  raw_ = archive_read_new();
  tar_ = archive_read_new();
  if (!raw_ || !tar_) fail(ErrorKind::internal, "{}: out of memory", name_);
  archive_read_support_filter_gzip(raw_);
  archive_read_support_filter_zstd(raw_);
  archive_read_support_format_raw(raw_);
  if (archive_read_open(raw_, this, nullptr, &LayerReader::read_compressed, nullptr) != ARCHIVE_OK) {
    if (source_error_) std::rethrow_exception(source_error_);
    if (compressed_bytes_ == 0) fail(ErrorKind::corrupt, "{}: the layer is empty (not even a tar end marker)", name_);
    fail(ErrorKind::corrupt, "{}: cannot read the stream: {}", name_, archive_error_string(raw_));
  }
  struct archive_entry* entry = nullptr;
  int rc = archive_read_next_header(raw_, &entry);
  if (source_error_) std::rethrow_exception(source_error_);
  if (rc == ARCHIVE_EOF) fail(ErrorKind::corrupt, "{}: the layer is empty (not even a tar end marker)", name_);
  if (rc != ARCHIVE_OK) fail(ErrorKind::corrupt, "{}: cannot decompress: {}", name_, archive_error_string(raw_));
  switch (archive_filter_code(raw_, 0)) {
    case ARCHIVE_FILTER_GZIP: compression_ = Compression::gzip; break;
    case ARCHIVE_FILTER_ZSTD: compression_ = Compression::zstd; break;
    default: compression_ = Compression::none; break;
  }
  // Docker has shipped plain tars under its gzip media type; a compressed
  // blob under the wrong compressed type is refused.
  if (!media_type.empty() && declared != compression_ && compression_ != Compression::none)
    fail(ErrorKind::corrupt, "{}: media type {} says {} but the data is {}", name_, media_type, to_string(declared),
         to_string(compression_));

  archive_read_support_format_tar(tar_);
  if (archive_read_open(tar_, this, nullptr, &LayerReader::read_uncompressed, nullptr) != ARCHIVE_OK)
    fail_from_archive("not a tar stream");
}

LayerReader::~LayerReader() {
  if (tar_) archive_read_free(tar_);
  if (raw_) archive_read_free(raw_);
}

void LayerReader::fail_from_archive(const std::string& what) {
  if (source_error_) std::rethrow_exception(source_error_);
  const char* message = archive_error_string(tar_);
  fail(ErrorKind::corrupt, "{}: {}: {}", name_, what, message ? message : "unknown libarchive error");
}

Digest LayerReader::finish() {
  // Padding and anything else after the end marker belong to the diff_id.
  const void* buffer = nullptr;
  for (;;) {
    long n = read_uncompressed(tar_, this, &buffer);
    if (n == 0) break;
    if (n < 0) fail_from_archive("reading past the end of the tar stream");
  }
  if (source_error_) std::rethrow_exception(source_error_);
  return diff_hasher_.digest();
}

}  // namespace skiff::snapshot
