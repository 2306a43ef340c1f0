// The writing side of layers: entries go into a libarchive PAX writer whose
// output (the tar stream) is hashed for the diff_id and fed to a second,
// "raw" libarchive writer that only compresses; its output is hashed for
// the digest and handed to the sink. Hard links are recognised by inode.
#pragma once

#include <sys/stat.h>

#include <exception>
#include <map>
#include <string>
#include <utility>

#include "core/digest.h"
#include "core/stream.h"
#include "snapshot/diff.h"
#include "snapshot/fs_util.h"

struct archive;
struct archive_entry;

namespace skiff::snapshot {

class TarWriter {
 public:
  TarWriter(ByteSink& out, const DiffOptions& options);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // One entry at `path` (relative, no leading "/"): `fd` is an open regular
  // file (or -1), `link_target` the symlink's target.
  void add(const std::string& path, const struct stat& st, int fd, const std::string& link_target,
           const Xattrs& xattrs);
  // An empty ".wh." marker at `path` with the times of `st`.
  void add_whiteout(const std::string& path, const struct stat& st);

  // Writes the end of the archive, flushes the compressor; the sink is not
  // closed (the caller decides).
  LayerInfo finish();

 private:
  static long on_tar_bytes(struct archive*, void* self, const void* data, size_t size);
  static long on_compressed_bytes(struct archive*, void* self, const void* data, size_t size);
  void deliver(const void* data, size_t size);
  void check(int rc, struct archive* a, const std::string& what);
  void write_data(int fd, const struct stat& st, const std::string& path);
  std::int64_t clamp(std::int64_t seconds) const;
  bool excluded(const std::string& path) const;

  ByteSink& out_;
  DiffOptions options_;
  struct archive* tar_ = nullptr;
  struct archive* compressor_ = nullptr;  // null for uncompressed layers
  struct archive_entry* entry_ = nullptr;
  Hasher diff_hasher_;
  Hasher digest_hasher_;
  std::uint64_t tar_size_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t entries_ = 0;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  std::string buffer_;
  std::exception_ptr sink_error_;
};

}  // namespace skiff::snapshot
