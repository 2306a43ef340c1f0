#include "image/manifest.h"

#include "core/error.h"

namespace skiff {

const std::vector<std::string>& manifest_media_types() {
  static const std::vector<std::string> types = {
      std::string(media_type::oci_index), std::string(media_type::oci_manifest),
      std::string(media_type::docker_manifest_list), std::string(media_type::docker_manifest)};
  return types;
}

std::optional<Compression> layer_compression(std::string_view type) {
  using namespace media_type;
  if (type == oci_layer || type == oci_layer_nondistributable || type == docker_layer) return Compression::none;
  if (type == oci_layer_gzip || type == oci_layer_nondistributable_gzip || type == docker_layer_gzip ||
      type == docker_foreign_layer)
    return Compression::gzip;
  if (type == oci_layer_zstd || type == oci_layer_nondistributable_zstd) return Compression::zstd;
  return std::nullopt;
}

std::string_view layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::gzip: return media_type::oci_layer_gzip;
    case Compression::zstd: return media_type::oci_layer_zstd;
    case Compression::none: break;
  }
  return media_type::oci_layer;
}

Compression sniff_compression(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return Compression::gzip;
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) return Compression::zstd;
  return Compression::none;
}

namespace {

std::string string_field(const Json& j, const char* key, std::string_view what, bool required) {
  if (!j.contains(key)) {
    if (required) fail(ErrorKind::corrupt, "{}: missing \"{}\"", what, key);
    return {};
  }
  if (!j[key].is_string()) fail(ErrorKind::corrupt, "{}: \"{}\" is not a string", what, key);
  return j[key].get<std::string>();
}

std::map<std::string, std::string> annotations_of(const Json& j) {
  std::map<std::string, std::string> out;
  if (j.contains("annotations") && j["annotations"].is_object())
    for (const auto& [k, v] : j["annotations"].items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

void check_schema_version(const Json& j, std::string_view what) {
  if (!j.contains("schemaVersion") || !j["schemaVersion"].is_number_integer() || j["schemaVersion"].get<int>() != 2)
    fail(ErrorKind::unsupported, "{}: schemaVersion must be 2", what);
}

bool is_config_type(std::string_view type) { return type == media_type::oci_config || type == media_type::docker_config; }

}  // namespace

Json Descriptor::to_json() const {
  Json j = {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}};
  if (platform) j["platform"] = platform->to_json();
  if (!urls.empty()) j["urls"] = urls;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j;
}

Descriptor Descriptor::from_json(const Json& j, std::string_view what) {
  if (!j.is_object()) fail(ErrorKind::corrupt, "{} is not a JSON object", what);
  Descriptor d;
  d.media_type = string_field(j, "mediaType", what, false);
  std::string digest = string_field(j, "digest", what, true);
  try {
    d.digest = Digest::parse(digest);
  } catch (const Error& e) {
    fail(ErrorKind::corrupt, "{}: {}", what, e.what());
  }
  if (!j.contains("size") || !j["size"].is_number_integer() || j["size"].get<std::int64_t>() < 0)
    fail(ErrorKind::corrupt, "{}: missing or negative \"size\"", what);
  d.size = j["size"].get<std::uint64_t>();
  if (j.contains("platform")) d.platform = Platform::from_json(j["platform"]);
  if (j.contains("urls") && j["urls"].is_array())
    for (const auto& u : j["urls"])
      if (u.is_string()) d.urls.push_back(u.get<std::string>());
  d.annotations = annotations_of(j);
  return d;
}

ManifestKind manifest_kind(const Json& j, std::string_view content_type, std::string_view what) {
  if (!j.is_object()) fail(ErrorKind::corrupt, "{} is not a JSON object", what);
  std::string type = j.contains("mediaType") && j["mediaType"].is_string() ? j["mediaType"].get<std::string>() : "";
  if (type.empty()) type = content_type;
  if (type.empty() || type == "application/json" || type == "text/plain") {
    // OCI allows an absent mediaType: tell by shape.
    if (j.contains("schemaVersion") && j["schemaVersion"] == 1) type = media_type::docker_schema1;
    else if (j.contains("manifests")) type = media_type::oci_index;
    else if (j.contains("config") && j.contains("layers")) type = media_type::oci_manifest;
  }
  if (type == media_type::oci_manifest || type == media_type::docker_manifest) return ManifestKind::image;
  if (type == media_type::oci_index || type == media_type::docker_manifest_list) return ManifestKind::index;
  if (type == media_type::docker_schema1 || type == media_type::docker_schema1_signed)
    fail(ErrorKind::unsupported, "{} is a Docker schema 1 manifest ({}), a format registries retired in 2019 that skiff "
         "does not read; push the image again with a current tool", what, type);
  fail(ErrorKind::unsupported, "{} has media type \"{}\", which is not an image manifest or index (OCI or Docker schema "
       "2); skiff pulls container images only", what, type.empty() ? "(none)" : type);
}

ImageManifest ImageManifest::parse(const Json& j, std::string_view content_type, std::string_view what) {
  if (manifest_kind(j, content_type, what) != ManifestKind::image)
    fail(ErrorKind::corrupt, "{} is an index where an image manifest was expected", what);
  check_schema_version(j, what);
  ImageManifest m;
  m.media_type = j.contains("mediaType") && j["mediaType"].is_string() ? j["mediaType"].get<std::string>()
                                                                        : std::string(content_type);
  if (m.media_type != media_type::docker_manifest) m.media_type = media_type::oci_manifest;
  if (!j.contains("config")) fail(ErrorKind::corrupt, "{}: missing \"config\"", what);
  m.config = Descriptor::from_json(j["config"], fmt::format("{}: config", what));
  if (!is_config_type(m.config.media_type))
    fail(ErrorKind::unsupported, "{}: config media type \"{}\" is not a container image config (an OCI artifact?); skiff "
         "pulls container images only", what, m.config.media_type);
  if (m.config.size > max_manifest_size)
    fail(ErrorKind::unsupported, "{}: config is {} bytes, over the {} byte limit; refused", what, m.config.size,
         max_manifest_size);
  if (!j.contains("layers") || !j["layers"].is_array()) fail(ErrorKind::corrupt, "{}: missing \"layers\"", what);
  size_t index = 0;
  for (const auto& layer : j["layers"]) {
    auto d = Descriptor::from_json(layer, fmt::format("{}: layer {}", what, index + 1));
    if (!layer_compression(d.media_type))
      fail(ErrorKind::unsupported, "{}: layer {} has media type \"{}\", which skiff cannot unpack", what, index + 1,
           d.media_type.empty() ? "(none)" : d.media_type);
    m.layers.push_back(std::move(d));
    ++index;
  }
  m.annotations = annotations_of(j);
  return m;
}

std::string ImageManifest::serialize() const {
  Json j = {{"schemaVersion", 2}, {"mediaType", media_type}, {"config", config.to_json()}, {"layers", Json::array()}};
  for (const auto& l : layers) j["layers"].push_back(l.to_json());
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

std::uint64_t ImageManifest::total_size() const {
  std::uint64_t total = config.size;
  for (const auto& l : layers) total += l.size;
  return total;
}

ImageIndex ImageIndex::parse(const Json& j, std::string_view content_type, std::string_view what) {
  if (manifest_kind(j, content_type, what) != ManifestKind::index)
    fail(ErrorKind::corrupt, "{} is an image manifest where an index was expected", what);
  check_schema_version(j, what);
  ImageIndex index;
  index.media_type = j.contains("mediaType") && j["mediaType"].is_string() ? j["mediaType"].get<std::string>()
                                                                            : std::string(content_type);
  if (index.media_type != media_type::docker_manifest_list) index.media_type = media_type::oci_index;
  if (!j.contains("manifests") || !j["manifests"].is_array()) fail(ErrorKind::corrupt, "{}: missing \"manifests\"", what);
  size_t n = 0;
  for (const auto& entry : j["manifests"])
    index.manifests.push_back(Descriptor::from_json(entry, fmt::format("{}: entry {}", what, ++n)));
  index.annotations = annotations_of(j);
  return index;
}

std::string ImageIndex::serialize() const {
  Json j = {{"schemaVersion", 2}, {"mediaType", media_type}, {"manifests", Json::array()}};
  for (const auto& m : manifests) j["manifests"].push_back(m.to_json());
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

ImageConfig ImageConfig::parse(std::string_view bytes, std::string_view what) {
  ImageConfig c;
  c.document = parse_json(bytes, what);
  const Json& j = c.document;
  if (!j.is_object()) fail(ErrorKind::corrupt, "{} is not a JSON object", what);
  c.platform = Platform::from_json(j);
  if (c.platform.os.empty() || c.platform.architecture.empty())
    fail(ErrorKind::corrupt, "{}: missing \"os\" or \"architecture\"", what);
  c.created = string_field(j, "created", what, false);
  if (!j.contains("rootfs") || !j["rootfs"].is_object() || !j["rootfs"].contains("diff_ids") ||
      !j["rootfs"]["diff_ids"].is_array())
    fail(ErrorKind::corrupt, "{}: missing \"rootfs.diff_ids\"", what);
  for (const auto& d : j["rootfs"]["diff_ids"]) {
    if (!d.is_string() || !Digest::valid(d.get<std::string>()))
      fail(ErrorKind::corrupt, "{}: rootfs.diff_ids holds an invalid digest", what);
    c.diff_ids.push_back(Digest::parse(d.get<std::string>()));
  }
  return c;
}

}  // namespace skiff
