// Builds tar layers for tests with libarchive: ordinary ones, and hostile
// ones whose names, links and whiteouts try to reach outside the snapshot.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "snapshot/layer.h"

namespace skiff::test {

struct TarEntry {
  enum class Type { file, dir, symlink, hardlink, chr, blk, fifo } type = Type::file;
  std::string name;
  std::string content;  // file data; link target for symlink/hardlink
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  time_t mtime = 1700000000;
  long mtime_nsec = 0;
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  // Sparse files: the logical size and the data regions (offset, bytes).
  std::uint64_t sparse_size = 0;
  std::vector<std::pair<std::uint64_t, std::string>> sparse_data;
};

class LayerBuilder {
 public:
  enum class Format { pax, gnu };
  explicit LayerBuilder(Format format = Format::pax) : format_(format) {}

  LayerBuilder& add(TarEntry entry);
  LayerBuilder& file(const std::string& name, const std::string& content, mode_t mode = 0644, uid_t uid = 0,
                     gid_t gid = 0);
  LayerBuilder& dir(const std::string& name, mode_t mode = 0755, uid_t uid = 0, gid_t gid = 0);
  LayerBuilder& symlink(const std::string& name, const std::string& target);
  LayerBuilder& hardlink(const std::string& name, const std::string& target);
  LayerBuilder& fifo(const std::string& name, mode_t mode = 0644);
  LayerBuilder& device(const std::string& name, bool block, unsigned major, unsigned minor, mode_t mode = 0600);
  LayerBuilder& whiteout(const std::string& name) { return file(name, ""); }
  LayerBuilder& sparse(const std::string& name, std::uint64_t size,
                       std::vector<std::pair<std::uint64_t, std::string>> data);

  // The uncompressed tar and its sha256 (the diff_id).
  std::string tar() const;
  Digest diff_id() const { return sha256_of(tar()); }
  std::string build(snapshot::Compression compression = snapshot::Compression::gzip) const;
  // Writes the built layer to `path`.
  void write(const std::filesystem::path& path, snapshot::Compression compression = snapshot::Compression::gzip) const;

  const std::vector<TarEntry>& entries() const { return entries_; }

 private:
  Format format_;
  std::vector<TarEntry> entries_;
};

// Compresses `data` with libarchive's raw writer (gzip or zstd).
std::string compress(const std::string& data, snapshot::Compression compression);

}  // namespace skiff::test
