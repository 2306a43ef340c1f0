// Reads a layer stream through libarchive in two stages: a "raw" reader
// that only decompresses (gzip, zstd or nothing, told apart by magic), and
// a tar reader fed from it. Between the two every uncompressed byte passes
// through the diff_id hasher, so the diff_id is known the moment the
// stream ends, without a second pass. Decompression and hashing run on a
// thread of their own, ahead of the tar reader: on two cores the inflate
// and the sha256 overlap with the file creation the caller does.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "core/digest.h"
#include "snapshot/byte_queue.h"
#include "snapshot/layer.h"

struct archive;

namespace skiff::snapshot {

// Returns the next chunk of compressed bytes; an empty view ends the stream.
// It may throw: the error surfaces from the call that needed the bytes.
// It may block; it is called from the reader's decompression thread.
using ChunkSource = std::function<std::string_view()>;

class LayerReader {
 public:
  // `name` prefixes errors ("layer sha256:3f1a…"); `media_type` may be empty.
  // `stop_source`, when given, makes a blocked `source` return (empty or
  // throwing) from now on; it is called when the reader is dropped before
  // the end, so its thread can be joined.
  LayerReader(ChunkSource source, std::string name, std::string_view media_type,
              std::function<void()> stop_source = {});
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;

  // The tar reader: next_header / read_data_block as usual.
  struct archive* tar() const { return tar_; }
  // Throws the source's own error if it caused the failure, else a
  // corrupt-layer error with libarchive's message and `what`.
  [[noreturn]] void fail_from_archive(const std::string& what);

  // Consumes what follows the tar end marker and returns the diff_id.
  Digest finish();

  Compression compression() const { return compression_; }
  // Valid after finish().
  std::uint64_t compressed_bytes() const { return compressed_bytes_; }
  std::uint64_t tar_bytes() const { return tar_bytes_; }

 private:
  static long read_compressed(struct archive*, void* self, const void** buffer);
  static long read_uncompressed(struct archive*, void* self, const void** buffer);
  // The decompression thread: raw_ -> hasher -> inflated_.
  void inflate() noexcept;
  // Ends the decompression thread (at once unless it already finished).
  void stop_inflating() noexcept;

  ChunkSource source_;
  std::function<void()> stop_source_;
  std::string name_;
  struct archive* raw_ = nullptr;
  struct archive* tar_ = nullptr;
  Hasher diff_hasher_;
  Compression compression_ = Compression::none;
  std::uint64_t compressed_bytes_ = 0;
  std::uint64_t tar_bytes_ = 0;
  std::exception_ptr source_error_;
  // Written by the decompression thread before it ends the queue; read by
  // the tar side only after the queue says so.
  std::string inflate_error_;
  int inflate_errno_ = 0;
  ByteQueue inflated_{4u << 20};
  std::thread inflater_;
};

}  // namespace skiff::snapshot
