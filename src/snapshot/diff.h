// Turning trees back into layers: the changes in an overlay upper directory
// (whiteout devices become ".wh.NAME", opaque directories ".wh..wh..opq"),
// or a whole directory. The output is deterministic — entries sorted, PAX
// (ustar where it suffices), whole-second mtimes, no atime/ctime/user
// names, no gzip timestamp — so the same changes give the same digest. Both
// the compressed digest and the diff_id are computed while writing to the
// sink (the content store's writer, a file, …).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/fd.h"
#include "core/stream.h"
#include "snapshot/layer.h"

namespace skiff::snapshot {

struct DiffOptions {
  Compression compression = Compression::gzip;
  int level = 0;  // 0: the compressor's default (gzip 6, zstd 3)
  // SOURCE_DATE_EPOCH: no mtime in the layer is later than this.
  std::optional<std::int64_t> source_date_epoch;
  // Force every entry's owner (e.g. 0:0 for reproducible base images).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Paths relative to the root ("etc/resolv.conf") left out of the layer
  // with everything below them: mount points the runtime created, which are
  // not a container's changes.
  std::vector<std::string> exclude;
};

struct LayerInfo {
  Digest digest;   // of the bytes written to the sink
  Digest diff_id;  // of the uncompressed tar
  std::uint64_t size = 0;      // compressed bytes
  std::uint64_t tar_size = 0;  // uncompressed bytes
  Compression compression = Compression::gzip;
  std::string media_type;
  std::uint64_t entries = 0;
};

// The changes recorded in an overlayfs upper directory (which must not be
// mounted by anyone writing to it meanwhile).
LayerInfo write_upper_diff(const std::filesystem::path& upper, ByteSink& out, const DiffOptions& options = {});
// Every entry below `directory` (not the directory itself) as a layer.
LayerInfo write_directory_layer(const std::filesystem::path& directory, ByteSink& out,
                                const DiffOptions& options = {});

// A sink into a file: written to a temporary name beside it and renamed
// into place by close(); abort() (or destruction before close) removes it.
class FileSink final : public ByteSink {
 public:
  explicit FileSink(std::filesystem::path path);
  ~FileSink() override;
  void write(const char* data, size_t size) override;
  using ByteSink::write;
  void close() override;
  void abort() noexcept override;

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace skiff::snapshot
