// Applying a layer (a tar stream, gzip/zstd/uncompressed) to a directory.
// Every entry is resolved inside the directory (see tree_writer.h); the
// diff_id (sha256 of the uncompressed tar) is computed while reading and
// checked against the expected one. Entries that cannot be applied safely
// are refused with an error naming them.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/digest.h"
#include "core/fd.h"
#include "core/stream.h"
#include "snapshot/layer.h"

namespace skiff::snapshot {

enum class WhiteoutMode {
  overlay,  // whiteouts become overlayfs whiteouts (0/0 char device, opaque xattr)
  flatten,  // whiteouts delete what lower layers put in the same directory
};

struct UnpackOptions {
  WhiteoutMode whiteouts = WhiteoutMode::overlay;
  // Checked against the bytes when set (a gzip type over plain tar is
  // accepted: docker has shipped such layers); empty: detect by magic.
  std::string media_type;
  std::optional<Digest> expected_diff_id;
  std::string name = "layer";  // names the layer in errors ("layer sha256:3f1a…")
};

struct UnpackResult {
  Digest diff_id;
  Compression compression = Compression::none;
  std::uint64_t compressed_bytes = 0;
  std::uint64_t tar_bytes = 0;       // uncompressed stream length
  std::uint64_t content_bytes = 0;   // sum of regular file sizes
  std::uint64_t entries = 0;
  // Parent directories the layer did not list; the snapshotter gives them
  // the metadata they have in the layers below once those are in place.
  std::vector<std::string> implied_directories;
};

// Reads the layer from `layer_fd` until EOF and applies it to the directory
// `target_dir_fd`. On error the directory holds a partial tree: the caller
// owns it and removes it.
UnpackResult apply_layer(int layer_fd, int target_dir_fd, const UnpackOptions& options);
UnpackResult apply_layer(const std::filesystem::path& layer, const std::filesystem::path& directory,
                         const UnpackOptions& options);

class ByteQueue;

// A sink for a layer's compressed bytes as they download: a thread unpacks
// them concurrently, so decompression and extraction overlap the transfer.
// write() throws the unpack's error as soon as it is known (a hostile entry
// stops the download); close() waits, verifies the diff_id and throws on
// failure; abort() stops and leaves the partial tree to the directory's
// owner.
class StreamingUnpack final : public ByteSink {
 public:
  StreamingUnpack(UniqueFd target_dir, UnpackOptions options);
  ~StreamingUnpack() override;

  void write(const char* data, size_t size) override;
  using ByteSink::write;
  void close() override;
  void abort() noexcept override;

  // Valid after close() returned.
  const UnpackResult& result() const { return result_; }

 private:
  void run() noexcept;
  void rethrow_failure();

  UniqueFd target_dir_;
  UnpackOptions options_;
  std::unique_ptr<ByteQueue> queue_;
  std::thread worker_;
  std::exception_ptr failure_;
  UnpackResult result_;
  bool closed_ = false;
};

}  // namespace skiff::snapshot
