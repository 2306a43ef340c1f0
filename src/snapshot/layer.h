// What the snapshot box needs to know about a layer blob, and the chain IDs
// that name an unpacked stack of layers (OCI image spec, config.md):
//   chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"

namespace skiff::snapshot {

enum class Compression { none, gzip, zstd };
std::string to_string(Compression compression);

// The compression named by a layer media type (OCI "…tar+gzip", "…tar+zstd",
// Docker "…rootfs.diff.tar.gzip"). Throws unsupported for a media type that
// is not a layer skiff can apply (encrypted, unknown); an empty type is
// accepted and means "detect from the bytes".
Compression compression_from_media_type(std::string_view media_type);
// Detects gzip or zstd by magic number; anything else is taken as tar.
Compression detect_compression(const void* head, size_t size);

// The media type skiff writes for a layer with this compression (OCI).
std::string layer_media_type(Compression compression);

struct LayerDescriptor {
  std::string media_type;  // empty: detect the compression from the bytes
  Digest digest;           // of the compressed blob (for messages; may be empty)
  Digest diff_id;          // sha256 of the uncompressed tar, from the image config
  std::uint64_t size = 0;  // compressed size if known (progress only)

  // "layer sha256:3f1a2b…" for error messages.
  std::string display_name() const;
};

Digest chain_id(const Digest& parent_chain, const Digest& diff_id);
// The chain ID of every prefix: result[i] names layers 0..i.
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace skiff::snapshot
