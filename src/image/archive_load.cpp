#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/strings.h"
#include "image/archive.h"
#include "image/manifest.h"

namespace skiff {

namespace {

struct ReaderDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string normalize(std::string_view raw) {
  std::string text(raw);
  while (text.starts_with("./")) text.erase(0, 2);
  while (text.starts_with("/")) text.erase(0, 1);
  std::string normal = std::filesystem::path(text).lexically_normal().string();
  if (normal == ".") return "";
  return normal;
}

// Every file of the archive, streamed into the content store's ingest area
// (nothing is visible until committed), plus its links.
class ArchiveFiles {
 public:
  ArchiveFiles(ContentStore& content, int fd) {
    std::unique_ptr<archive, ReaderDeleter> reader(archive_read_new());
    archive* a = reader.get();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK) fail_archive(a, "open the archive");
    archive_entry* entry = nullptr;
    std::vector<char> buffer(1 << 20);
    for (;;) {
      int rc = archive_read_next_header(a, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) fail_archive(a, "read the archive");
      std::string path = normalize(archive_entry_pathname(entry));
      if (path.empty()) continue;
      if (const char* hardlink = archive_entry_hardlink(entry)) {
        links_[path] = normalize(hardlink);
        continue;
      }
      auto type = archive_entry_filetype(entry);
      if (type == AE_IFLNK) {
        std::filesystem::path target = archive_entry_symlink(entry);
        links_[path] = normalize((std::filesystem::path(path).parent_path() / target).string());
        continue;
      }
      if (type != AE_IFREG) continue;
      auto writer = content.writer();
      for (;;) {
        la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
        if (n < 0) fail_archive(a, "read " + path);
        if (n == 0) break;
        writer->write(buffer.data(), static_cast<size_t>(n));
      }
      writer->close();
      files_[path] = std::move(writer);
    }
  }

  bool has(const std::string& path) { return find(path) != nullptr; }

  BlobWriter* find(std::string path) {
    for (int hops = 0; hops < 16; ++hops) {
      if (auto it = files_.find(path); it != files_.end()) return it->second.get();
      auto link = links_.find(path);
      if (link == links_.end()) return nullptr;
      path = link->second;
    }
    return nullptr;
  }

  BlobWriter& get(const std::string& path) {
    if (auto* file = find(path)) return *file;
    fail(ErrorKind::corrupt, "the archive lacks {}", path);
  }

  BlobWriter& blob(const Digest& digest, std::uint64_t size) {
    BlobWriter& file = get("blobs/" + digest.algorithm() + "/" + digest.hex());
    if (file.digest() != digest)
      fail(ErrorKind::corrupt, "blob {} digest mismatch (got {}): the archive is corrupt; nothing was loaded",
           digest.str(), file.digest().str());
    if (file.size() != size)
      fail(ErrorKind::corrupt, "blob {} size mismatch (expected {} bytes, got {}): the archive is corrupt; nothing was "
           "loaded", digest.str(), size, file.size());
    return file;
  }

 private:
  [[noreturn]] static void fail_archive(archive* a, const std::string& what) {
    const char* detail = archive_error_string(a);
    fail(ErrorKind::corrupt, "cannot {}: {}: give a whole archive written by skiff save, docker save or podman save; "
         "nothing was loaded", what, detail ? detail : "not a tar archive");
  }

  std::map<std::string, std::unique_ptr<BlobWriter>> files_;
  std::map<std::string, std::string> links_;
};

struct Candidate {
  ImageRecord record;
  std::vector<BlobWriter*> files;        // to commit with their digests
  std::vector<std::pair<Digest, std::string>> generated;  // manifests skiff wrote
  std::vector<Digest> blobs;
  std::vector<Reference> names;
};

class Loader {
 public:
  Loader(ImageStore& store, int fd, const ReferencePolicy& policy)
      : store_(store), files_(store.content(), fd), policy_(policy) {}

  std::vector<LoadedImage> run() {
    if (files_.has("index.json")) load_oci();
    else if (files_.has("manifest.json")) load_docker();
    else fail(ErrorKind::invalid_argument, "not an image archive: it has neither index.json (OCI layout) nor "
              "manifest.json (docker save)");
    if (candidates_.empty()) fail(ErrorKind::invalid_argument, "the archive holds no image");

    std::set<Digest> committed;
    for (auto& c : candidates_) {
      for (auto* file : c.files)
        if (committed.insert(file->digest()).second) file->commit(file->digest());
      for (const auto& [digest, bytes] : c.generated) store_.content().put(digest, bytes);
    }
    std::vector<LoadedImage> loaded;
    for (auto& c : candidates_) {
      store_.add(c.record, c.blobs, c.names);
      loaded.push_back({c.record.id, c.names});
    }
    return loaded;
  }

 private:
  std::string small(BlobWriter& file) { return file.read(max_manifest_size); }

  // Names by config file from docker's manifest.json, when the archive has one.
  std::map<std::string, std::vector<Reference>> docker_names() {
    std::map<std::string, std::vector<Reference>> names;
    if (!files_.has("manifest.json")) return names;
    Json j = parse_json(small(files_.get("manifest.json")), "manifest.json of the archive");
    if (!j.is_array()) return names;
    for (const auto& entry : j) {
      if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string()) continue;
      auto& list = names[normalize(entry["Config"].get<std::string>())];
      if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
        for (const auto& t : entry["RepoTags"])
          if (t.is_string()) list.push_back(Reference::parse(t.get<std::string>(), policy_));
    }
    return names;
  }

  void load_oci() {
    std::string what = "index.json of the archive";
    Json document = parse_json(small(files_.get("index.json")), what);
    ImageIndex index = ImageIndex::parse(document, media_type::oci_index, what);
    auto by_config = docker_names();
    for (const auto& entry : index.manifests) {
      std::vector<Reference> names;
      if (auto it = entry.annotations.find("io.containerd.image.name"); it != entry.annotations.end()) {
        names.push_back(Reference::parse(it->second, policy_));
      } else if (auto ref = entry.annotations.find("org.opencontainers.image.ref.name"); ref != entry.annotations.end()) {
        // A full name is a name; a bare tag ("v1") names nothing by itself.
        if (ref->second.find_first_of("/:") != std::string::npos) names.push_back(Reference::parse(ref->second, policy_));
      }
      add_manifest(entry, names, by_config);
    }
  }

  void add_manifest(const Descriptor& descriptor, const std::vector<Reference>& names,
                    const std::map<std::string, std::vector<Reference>>& by_config) {
    BlobWriter& file = files_.blob(descriptor.digest, descriptor.size);
    std::string what = fmt::format("manifest {}", descriptor.digest.str());
    Json document = parse_json(small(file), what);
    if (manifest_kind(document, descriptor.media_type, what) == ManifestKind::index) {
      ImageIndex index = ImageIndex::parse(document, descriptor.media_type, what);
      // Only the platforms whose manifests the archive carries can load.
      std::vector<std::optional<Platform>> offered;
      for (const auto& m : index.manifests)
        offered.push_back(files_.has("blobs/" + m.digest.algorithm() + "/" + m.digest.hex()) ? m.platform : std::nullopt);
      size_t chosen = 0;
      try {
        chosen = select_platform(offered, PlatformRequest{});
      } catch (const Error&) {
        auto present = std::find_if(offered.begin(), offered.end(), [](const auto& p) { return p.has_value(); });
        if (present == offered.end()) fail(ErrorKind::corrupt, "{}: the archive carries none of its manifests", what);
        chosen = static_cast<size_t>(present - offered.begin());
      }
      add_manifest(index.manifests[chosen], names, by_config);
      return;
    }
    ImageManifest manifest = ImageManifest::parse(document, descriptor.media_type, what);
    Candidate c;
    c.files.push_back(&file);
    BlobWriter& config_file = files_.blob(manifest.config.digest, manifest.config.size);
    c.files.push_back(&config_file);
    ImageConfig config = ImageConfig::parse(small(config_file), fmt::format("config {}", manifest.config.digest.str()));
    if (config.diff_ids.size() != manifest.layers.size())
      fail(ErrorKind::corrupt, "{} lists {} layers but its config lists {} diff_ids", what, manifest.layers.size(),
           config.diff_ids.size());
    for (const auto& layer : manifest.layers) c.files.push_back(&files_.blob(layer.digest, layer.size));
    c.names = names;
    if (c.names.empty())
      if (auto it = by_config.find("blobs/sha256/" + manifest.config.digest.hex()); it != by_config.end()) c.names = it->second;
    finish(c, manifest, descriptor.digest, config);
  }

  void load_docker() {
    std::string what = "manifest.json of the archive";
    Json j = parse_json(small(files_.get("manifest.json")), what);
    if (!j.is_array()) fail(ErrorKind::corrupt, "{} is not a list", what);
    for (const auto& entry : j) {
      if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string() || !entry.contains("Layers") ||
          !entry["Layers"].is_array())
        fail(ErrorKind::corrupt, "{}: an entry lacks Config or Layers", what);
      Candidate c;
      BlobWriter& config_file = files_.get(normalize(entry["Config"].get<std::string>()));
      c.files.push_back(&config_file);
      ImageConfig config = ImageConfig::parse(small(config_file), fmt::format("config {}", config_file.digest().str()));
      const Json& layers = entry["Layers"];
      if (config.diff_ids.size() != layers.size())
        fail(ErrorKind::corrupt, "{}: {} lists {} layers but its config lists {} diff_ids", what,
             entry["Config"].get<std::string>(), layers.size(), config.diff_ids.size());
      ImageManifest manifest;
      manifest.media_type = media_type::oci_manifest;
      manifest.config = {std::string(media_type::oci_config), config_file.digest(), config_file.size(), {}, {}, {}};
      for (size_t i = 0; i < layers.size(); ++i) {
        if (!layers[i].is_string()) fail(ErrorKind::corrupt, "{}: a layer path is not a string", what);
        BlobWriter& layer = files_.get(normalize(layers[i].get<std::string>()));
        Compression compression = sniff_compression(layer.head(4));
        if (compression == Compression::none && layer.digest() != config.diff_ids[i])
          fail(ErrorKind::corrupt, "layer {} has digest {} but the config expects {}: the archive is corrupt; nothing "
               "was loaded", layers[i].get<std::string>(), layer.digest().str(), config.diff_ids[i].str());
        manifest.layers.push_back(
            {std::string(layer_media_type(compression)), layer.digest(), layer.size(), {}, {}, {}});
        c.files.push_back(&layer);
      }
      if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
        for (const auto& t : entry["RepoTags"])
          if (t.is_string()) c.names.push_back(Reference::parse(t.get<std::string>(), policy_));
      std::string bytes = manifest.serialize();
      Digest digest = sha256_of(bytes);
      c.generated.emplace_back(digest, bytes);
      finish(c, manifest, digest, config);
    }
  }

  void finish(Candidate& c, const ImageManifest& manifest, const Digest& manifest_digest, const ImageConfig& config) {
    c.record.id = manifest.config.digest;
    c.record.manifest_digest = manifest_digest;
    c.record.manifest_media_type = manifest.media_type;
    c.record.platform = config.platform;
    c.record.created = config.created;
    c.record.size = manifest.total_size();
    c.blobs.push_back(manifest_digest);
    c.blobs.push_back(manifest.config.digest);
    for (const auto& l : manifest.layers) c.blobs.push_back(l.digest);
    candidates_.push_back(std::move(c));
  }

  ImageStore& store_;
  ArchiveFiles files_;
  const ReferencePolicy& policy_;
  std::vector<Candidate> candidates_;
};

}  // namespace

std::vector<LoadedImage> load_images(ImageStore& store, int fd, const ReferencePolicy& policy) {
  try {
    FileLock lease = store.lease();
    return Loader(store, fd, policy).run();
  } catch (const Error& e) {
    rethrow_with_context(e, "load");
  }
}

}  // namespace skiff
