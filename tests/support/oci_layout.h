// Builds OCI image layouts on disk for tests: layers are real tar files
// written with libarchive (gzip-compressed unless asked otherwise), configs
// and manifests real JSON, so skopeo can push them to a test registry.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/json.h"

namespace skiff::test {

struct BlobRef {
  std::string media_type;
  Digest digest;
  std::uint64_t size = 0;
  Json descriptor() const;
};

struct LayerFile {
  std::string path;
  std::string content;
};

// `size` bytes that do not compress (so a layer is as large as asked).
std::string random_bytes(size_t size);

class OciLayout {
 public:
  explicit OciLayout(std::filesystem::path dir);
  const std::filesystem::path& dir() const { return dir_; }

  BlobRef add_blob(std::string_view data, std::string media_type);
  BlobRef add_layer(const std::vector<LayerFile>& files, bool gzip = true);
  // A config (platform plus `config` as its "config") and a manifest.
  BlobRef add_image(const std::vector<BlobRef>& layers, const Json& platform = {}, const Json& config = {});
  BlobRef add_index(const std::vector<std::pair<BlobRef, Json>>& manifests);
  // Names a manifest or index in index.json (org.opencontainers.image.ref.name).
  void tag(const std::string& tag, const BlobRef& manifest);

  Digest diff_id(const BlobRef& layer) const { return diff_ids_.at(layer.digest.str()); }

 private:
  std::filesystem::path dir_;
  std::map<std::string, Digest> diff_ids_;
  Json index_;
};

// The host platform as an OCI platform object.
Json host_platform_json();

}  // namespace skiff::test
