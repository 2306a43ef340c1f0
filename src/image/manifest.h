// Image manifests, indexes and configs (OCI image spec and Docker schema 2),
// and every media type skiff knows, in one place. Parsing validates what
// the rest of the engine relies on (digests, sizes, known media types) and
// refuses the rest with an error naming the document.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/json.h"
#include "image/platform.h"

namespace skiff {

namespace media_type {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_schema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view docker_schema1_signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view oci_layer_nondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_layer_nondistributable_gzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_layer_nondistributable_zstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_foreign_layer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media_type

// The Accept list for manifest requests: OCI and Docker schema 2, both
// single-platform manifests and indexes.
const std::vector<std::string>& manifest_media_types();

// Manifests and configs are read whole into memory; larger ones are refused.
inline constexpr size_t max_manifest_size = 4 << 20;

enum class Compression { none, gzip, zstd };
// The compression of a layer media type; nullopt for a type that is not a
// layer skiff can unpack.
std::optional<Compression> layer_compression(std::string_view media_type);
// The media type skiff writes for a layer of this compression (OCI).
std::string_view layer_media_type(Compression compression);
// Guesses the compression of layer bytes from their first bytes.
Compression sniff_compression(std::string_view head);

struct Descriptor {
  std::string media_type;
  Digest digest;
  std::uint64_t size = 0;
  std::optional<Platform> platform;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;

  Json to_json() const;
  // `what` names the document in errors ("manifest sha256:…, layer 2").
  static Descriptor from_json(const Json& json, std::string_view what);
};

enum class ManifestKind { image, index };
// What a manifest is, from its mediaType field, else the Content-Type it
// came with. Docker schema 1 and unknown types are refused (`unsupported`).
ManifestKind manifest_kind(const Json& document, std::string_view content_type, std::string_view what);

struct ImageManifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;

  static ImageManifest parse(const Json& document, std::string_view content_type, std::string_view what);
  // Deterministic JSON (sorted keys) for a manifest skiff writes itself.
  std::string serialize() const;
  std::uint64_t total_size() const;  // config + layers
};

struct ImageIndex {
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;

  static ImageIndex parse(const Json& document, std::string_view content_type, std::string_view what);
  std::string serialize() const;
};

struct ImageConfig {
  Json document;  // the whole config, as stored
  Platform platform;
  std::string created;  // RFC 3339, may be empty
  std::vector<Digest> diff_ids;

  static ImageConfig parse(std::string_view bytes, std::string_view what);
};

}  // namespace skiff
