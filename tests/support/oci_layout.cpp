#include "support/oci_layout.h"

#include <archive.h>
#include <archive_entry.h>

#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "core/host.h"

namespace skiff::test {

namespace {

la_ssize_t append_to_string(archive*, void* user, const void* buffer, size_t length) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// Writes one archive into a string: `setup` picks format and filters,
// `fill` adds the entries.
template <typename Setup, typename Fill>
std::string write_archive(Setup setup, Fill fill) {
  std::string out;
  archive* a = archive_write_new();
  setup(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, append_to_string, nullptr) != ARCHIVE_OK)
    fail(ErrorKind::internal, "libarchive: {}", archive_error_string(a));
  fill(a);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

void add_entry(archive* a, const std::string& path, std::string_view data, mode_t type, mode_t perm) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e, 1700000000, 0);
  archive_write_header(a, e);
  if (!data.empty()) archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
}

}  // namespace

Json BlobRef::descriptor() const { return {{"mediaType", media_type}, {"digest", digest.str()}, {"size", size}}; }

std::string random_bytes(size_t size) {
  static std::mt19937_64 generator{std::random_device{}()};
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    auto value = generator();
    for (size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = static_cast<char>(value >> (8 * j));
  }
  return out;
}

Json host_platform_json() {
  Json p = {{"os", host_os()}, {"architecture", host_architecture()}};
  return p;
}

OciLayout::OciLayout(std::filesystem::path dir) : dir_(std::move(dir)) {
  ensure_dir(dir_ / "blobs" / "sha256");
  write_file_atomic(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})", 0644, false);
  index_ = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", Json::array()}};
  write_file_atomic(dir_ / "index.json", index_.dump(), 0644, false);
}

BlobRef OciLayout::add_blob(std::string_view data, std::string media_type) {
  Digest digest = sha256_of(data);
  write_file_atomic(dir_ / "blobs" / "sha256" / digest.hex(), data, 0644, false);
  return {std::move(media_type), digest, data.size()};
}

BlobRef OciLayout::add_layer(const std::vector<LayerFile>& files, bool gzip) {
  std::string tar = write_archive([](archive* a) { archive_write_set_format_pax_restricted(a); },
                                  [&](archive* a) {
                                    for (const auto& f : files) {
                                      auto parent = std::filesystem::path(f.path).parent_path();
                                      if (!parent.empty()) add_entry(a, parent.string() + "/", "", AE_IFDIR, 0755);
                                      add_entry(a, f.path, f.content, AE_IFREG, 0644);
                                    }
                                  });
  Digest diff = sha256_of(tar);
  BlobRef blob;
  if (gzip) {
    std::string compressed = write_archive(
        [](archive* a) {
          archive_write_set_format_raw(a);
          archive_write_add_filter_gzip(a);
          archive_write_set_filter_option(a, "gzip", "compression-level", "1");
        },
        [&](archive* a) { add_entry(a, "layer.tar", tar, AE_IFREG, 0644); });
    blob = add_blob(compressed, "application/vnd.oci.image.layer.v1.tar+gzip");
  } else {
    blob = add_blob(tar, "application/vnd.oci.image.layer.v1.tar");
  }
  diff_ids_[blob.digest.str()] = diff;
  return blob;
}

BlobRef OciLayout::add_image(const std::vector<BlobRef>& layers, const Json& platform, const Json& config) {
  Json p = platform.is_null() ? host_platform_json() : platform;
  Json c = p;
  c["created"] = "2026-01-02T03:04:05Z";
  c["config"] = config.is_null() ? Json{{"Cmd", {"/bin/sh"}}} : config;
  c["rootfs"] = {{"type", "layers"}, {"diff_ids", Json::array()}};
  c["history"] = Json::array();
  for (const auto& l : layers) {
    c["rootfs"]["diff_ids"].push_back(diff_id(l).str());
    c["history"].push_back({{"created_by", "test layer"}});
  }
  BlobRef config_blob = add_blob(c.dump(), "application/vnd.oci.image.config.v1+json");
  Json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config", config_blob.descriptor()},
            {"layers", Json::array()}};
  for (const auto& l : layers) m["layers"].push_back(l.descriptor());
  return add_blob(m.dump(), "application/vnd.oci.image.manifest.v1+json");
}

BlobRef OciLayout::add_index(const std::vector<std::pair<BlobRef, Json>>& manifests) {
  Json i = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", Json::array()}};
  for (const auto& [m, platform] : manifests) {
    Json d = m.descriptor();
    d["platform"] = platform;
    i["manifests"].push_back(d);
  }
  return add_blob(i.dump(), "application/vnd.oci.image.index.v1+json");
}

void OciLayout::tag(const std::string& tag, const BlobRef& manifest) {
  Json d = manifest.descriptor();
  d["annotations"] = {{"org.opencontainers.image.ref.name", tag}};
  index_["manifests"].push_back(d);
  write_file_atomic(dir_ / "index.json", index_.dump(), 0644, false);
}

}  // namespace skiff::test
