#include "snapshot/layer_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include "core/error.h"
#include "core/thread.h"

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
  std::string_view chunk = reader->inflated_.pop();
  if (!chunk.empty()) {
    *buffer = chunk.data();
    return static_cast<long>(chunk.size());
  }
  // The queue ended: the decompression thread has written all it will.
  if (reader->inflate_error_.empty()) return 0;
  archive_set_error(reader->tar_, reader->inflate_errno_, "%s", reader->inflate_error_.c_str());
  return ARCHIVE_FATAL;
}

void LayerReader::inflate() noexcept {
  for (;;) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(raw_, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) {
      const char* message = archive_error_string(raw_);
      inflate_error_ = message ? message : "decompression failed";
      inflate_errno_ = archive_errno(raw_);
      break;
    }
    diff_hasher_.update(block, size);
    tar_bytes_ += size;
    if (!inflated_.push(static_cast<const char*>(block), size)) return;  // the tar side stopped
  }
  inflated_.finish();
}

void LayerReader::stop_inflating() noexcept {
  if (!inflater_.joinable()) return;
  inflated_.cancel();
  if (stop_source_) stop_source_();
  inflater_.join();
}

LayerReader::LayerReader(ChunkSource source, std::string name, std::string_view media_type,
                         std::function<void()> stop_source)
    : source_(std::move(source)), stop_source_(std::move(stop_source)), name_(std::move(name)) {
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

  inflater_ = start_thread_without_signals([this] { inflate(); });
  archive_read_support_format_tar(tar_);
  if (archive_read_open(tar_, this, nullptr, &LayerReader::read_uncompressed, nullptr) != ARCHIVE_OK)
    fail_from_archive("not a tar stream");
}

LayerReader::~LayerReader() {
  stop_inflating();
  if (tar_) archive_read_free(tar_);
  if (raw_) archive_read_free(raw_);
}

void LayerReader::fail_from_archive(const std::string& what) {
  // The source's error, if any, is only safe to read once its thread ended.
  stop_inflating();
  if (source_error_) std::rethrow_exception(source_error_);
  const char* message = archive_error_string(tar_);
  fail(ErrorKind::corrupt, "{}: {}: {}", name_, what, message ? message : "unknown libarchive error");
}

Digest LayerReader::finish() {
  // Padding and anything else after the end marker belong to the diff_id:
  // the decompression thread hashes to the end of the stream; drain it.
  for (;;) {
    const void* buffer = nullptr;
    long n = read_uncompressed(tar_, this, &buffer);
    if (n == 0) break;
    if (n < 0) fail_from_archive("reading past the end of the tar stream");
  }
  inflater_.join();
  if (source_error_) std::rethrow_exception(source_error_);
  return diff_hasher_.digest();
}

}  // namespace skiff::snapshot
