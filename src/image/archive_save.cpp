#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <set>

#include "core/error.h"
#include "image/archive.h"
#include "image/inspect.h"
#include "image/manifest.h"

namespace skiff {

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

class TarWriter {
 public:
  explicit TarWriter(int fd) : archive_(archive_write_new()) {
    if (!archive_) fail(ErrorKind::internal, "libarchive: cannot create a writer");
    archive_write_set_format_pax_restricted(archive_.get());
    archive_write_set_bytes_per_block(archive_.get(), 10240);
    if (archive_write_open_fd(archive_.get(), fd) != ARCHIVE_OK) fail_archive("open the output");
  }

  void begin_file(const std::string& path, std::uint64_t size) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry.get(), 0, 0);
    if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) fail_archive("write " + path);
  }

  void write(const char* data, size_t size) {
    while (size > 0) {
      la_ssize_t n = archive_write_data(archive_.get(), data, size);
      if (n < 0) fail_archive("write data");
      data += n;
      size -= static_cast<size_t>(n);
    }
  }

  void add(const std::string& path, std::string_view data) {
    begin_file(path, data.size());
    write(data.data(), data.size());
  }

  void add_directory(const std::string& path) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFDIR);
    archive_entry_set_perm(entry.get(), 0755);
    archive_entry_set_mtime(entry.get(), 0, 0);
    if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) fail_archive("write " + path);
  }

  void finish() {
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) fail_archive("finish the archive");
  }

 private:
  [[noreturn]] void fail_archive(const std::string& what) {
    const char* detail = archive_error_string(archive_.get());
    fail(ErrorKind::unavailable, "save: cannot {}: {}", what, detail ? detail : "unknown error");
  }
  std::unique_ptr<archive, ArchiveDeleter> archive_;
};

class BlobTee : public ByteSink {
 public:
  explicit BlobTee(TarWriter& tar) : tar_(tar) {}
  void write(const char* data, size_t size) override { tar_.write(data, size); }
  void close() override {}
  void abort() noexcept override {}

 private:
  TarWriter& tar_;
};

std::string blob_path(const Digest& d) { return "blobs/" + d.algorithm() + "/" + d.hex(); }

}  // namespace

void save_images(ImageStore& store, const std::vector<std::string>& images, const ReferencePolicy& policy, int fd) {
  struct Saved {
    ImageRecord record;
    ImageManifest manifest;
    std::vector<Reference> names;
  };
  std::vector<Saved> saved;
  for (const auto& text : images) {
    std::optional<Reference> name;
    std::optional<ImageRecord> record;
    try {
      name = Reference::parse(text, policy);
      record = store.find(*name);
    } catch (const Error&) {
    }
    if (!record) {
      record = store.resolve(text, policy);
      name.reset();
    } else if (!name->digest().empty()) {
      name.reset();  // a digest names no tag to restore
    }
    auto existing = std::find_if(saved.begin(), saved.end(), [&](const Saved& s) { return s.record.id == record->id; });
    if (existing == saved.end()) {
      saved.push_back({*record, stored_manifest(store, *record), {}});
      existing = saved.end() - 1;
    }
    if (name && std::find(existing->names.begin(), existing->names.end(), *name) == existing->names.end())
      existing->names.push_back(*name);
  }

  Json index = {{"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", Json::array()}};
  Json docker_manifest = Json::array();
  std::vector<Digest> blobs;
  std::set<Digest> seen;
  auto add_blob = [&](const Digest& d) {
    if (seen.insert(d).second) blobs.push_back(d);
  };
  for (const auto& s : saved) {
    auto manifest_size = store.content().size(s.record.manifest_digest);
    if (!manifest_size) store.content().open(s.record.manifest_digest);  // throws not_found with the fix
    Json entry = {{"mediaType", s.record.manifest_media_type},
                  {"digest", s.record.manifest_digest.str()},
                  {"size", *manifest_size}};
    Json tags = Json::array();
    for (const auto& n : s.names) tags.push_back(n.familiar_name(policy) + ":" + n.tag());
    if (s.names.empty()) {
      index["manifests"].push_back(entry);
    }
    for (const auto& n : s.names) {
      Json named = entry;
      named["annotations"] = {{"io.containerd.image.name", n.str()}, {"org.opencontainers.image.ref.name", n.tag()}};
      index["manifests"].push_back(named);
    }
    Json layers = Json::array();
    for (const auto& l : s.manifest.layers) layers.push_back(blob_path(l.digest));
    docker_manifest.push_back({{"Config", blob_path(s.record.id)}, {"RepoTags", tags}, {"Layers", layers}});
    add_blob(s.record.manifest_digest);
    add_blob(s.manifest.config.digest);
    for (const auto& l : s.manifest.layers) add_blob(l.digest);
  }

  TarWriter tar(fd);
  tar.add("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  tar.add("index.json", index.dump());
  tar.add("manifest.json", docker_manifest.dump());
  tar.add_directory("blobs/");
  tar.add_directory("blobs/sha256/");
  BlobTee tee(tar);
  for (const auto& d : blobs) {
    auto size = store.content().size(d);
    if (!size) store.content().open(d);  // throws not_found naming the blob
    tar.begin_file(blob_path(d), *size);
    store.content().copy_to(d, tee);
  }
  tar.finish();
}

}  // namespace skiff
