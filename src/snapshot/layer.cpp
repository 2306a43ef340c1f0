#include "snapshot/layer.h"

#include <cstring>

#include "core/error.h"

namespace skiff::snapshot {

std::string to_string(Compression compression) {
  switch (compression) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "none";
}

Compression compression_from_media_type(std::string_view media_type) {
  if (media_type.empty()) return Compression::none;
  static constexpr std::string_view gzip_types[] = {
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  static constexpr std::string_view zstd_types[] = {
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  };
  static constexpr std::string_view tar_types[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.docker.image.rootfs.diff.tar",
  };
  for (auto t : gzip_types)
    if (media_type == t) return Compression::gzip;
  for (auto t : zstd_types)
    if (media_type == t) return Compression::zstd;
  for (auto t : tar_types)
    if (media_type == t) return Compression::none;
  if (media_type.find("+encrypted") != std::string_view::npos)
    fail(ErrorKind::unsupported, "layer media type {} is encrypted: skiff cannot decrypt layers", media_type);
  fail(ErrorKind::unsupported,
       "layer media type {} is not a tar layer (expected an OCI or Docker layer type: tar, tar+gzip or tar+zstd)",
       media_type);
}

Compression detect_compression(const void* head, size_t size) {
  auto bytes = static_cast<const unsigned char*>(head);
  if (size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return Compression::gzip;
  if (size >= 4 && bytes[0] == 0x28 && bytes[1] == 0xb5 && bytes[2] == 0x2f && bytes[3] == 0xfd)
    return Compression::zstd;
  return Compression::none;
}

std::string layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::none: return "application/vnd.oci.image.layer.v1.tar";
    case Compression::gzip: return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::zstd: return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return "application/vnd.oci.image.layer.v1.tar";
}

std::string LayerDescriptor::display_name() const {
  if (!digest.empty()) return "layer " + digest.algorithm() + ":" + digest.hex().substr(0, 12);
  if (!diff_id.empty()) return "layer with diff_id " + diff_id.algorithm() + ":" + diff_id.hex().substr(0, 12);
  return "layer";
}

Digest chain_id(const Digest& parent_chain, const Digest& diff_id) {
  if (parent_chain.empty()) return diff_id;
  return sha256_of(parent_chain.str() + " " + diff_id.str());
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> chains;
  chains.reserve(diff_ids.size());
  Digest parent;
  for (const auto& diff_id : diff_ids) {
    parent = chain_id(parent, diff_id);
    chains.push_back(parent);
  }
  return chains;
}

}  // namespace skiff::snapshot
