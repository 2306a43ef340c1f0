#include "image/pull.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

namespace skiff {

namespace {

std::string short_id(const Digest& d) { return d.hex().substr(0, 12); }

// Aborts a sink unless it was closed.
class SinkGuard {
 public:
  explicit SinkGuard(std::unique_ptr<ByteSink> sink) : sink_(std::move(sink)) {}
  ~SinkGuard() {
    if (sink_ && !closed_) sink_->abort();
  }
  ByteSink* get() const { return sink_.get(); }
  void close() {
    if (!sink_) return;
    closed_ = true;
    sink_->close();
  }

 private:
  std::unique_ptr<ByteSink> sink_;
  bool closed_ = false;
};

struct Document {
  std::string bytes;
  std::string content_type;
  Digest digest;
  Json json;
};

class Puller {
 public:
  Puller(ImageStore& store, const Reference& reference, const PullOptions& options)
      : store_(store),
        content_(store.content()),
        reference_(reference),
        options_(options),
        client_(reference.domain(), options.registry),
        progress_(options.progress) {}

  PullResult run() {
    std::string label = reference_.digest().empty() ? reference_.tag() : reference_.digest();
    message(fmt::format("{}: Pulling from {}", label, reference_.path()));

    Document top = reference_.digest().empty() ? manifest_by_tag(reference_.tag())
                                               : manifest_by_digest(Digest::parse(reference_.digest()), std::nullopt);
    std::string top_what = fmt::format("manifest {}", top.digest.str());
    Document image = top;
    std::optional<Platform> index_platform;
    if (manifest_kind(top.json, top.content_type, top_what) == ManifestKind::index) {
      ImageIndex index = ImageIndex::parse(top.json, top.content_type, top_what);
      std::vector<std::optional<Platform>> offered;
      for (const auto& m : index.manifests) offered.push_back(m.platform);
      PlatformRequest request;
      if (options_.platform) request.platform = *options_.platform;
      request.isolation = options_.isolation;
      const Descriptor& chosen = index.manifests[select_platform(offered, request)];
      index_platform = chosen.platform;
      image = manifest_by_digest(chosen.digest, chosen.size);
    }
    std::string image_what = fmt::format("manifest {}", image.digest.str());
    ImageManifest manifest = ImageManifest::parse(image.json, image.content_type, image_what);

    std::string config_bytes = fetch_config(manifest.config);
    ImageConfig config = ImageConfig::parse(config_bytes, fmt::format("config {}", manifest.config.digest.str()));
    if (config.diff_ids.size() != manifest.layers.size())
      fail(ErrorKind::corrupt, "{} lists {} layers but its config {} lists {} diff_ids", image_what,
           manifest.layers.size(), manifest.config.digest.short_hex(), config.diff_ids.size());
    if (!index_platform && options_.platform && !platform_matches(config.platform, *options_.platform))
      fail(ErrorKind::unsupported, "the image is for {}, not the requested {}; pull it without --platform or choose {}",
           config.platform.str(), options_.platform->str(), config.platform.str());

    std::vector<LayerDescriptor> layers;
    for (size_t i = 0; i < manifest.layers.size(); ++i) layers.push_back({manifest.layers[i], config.diff_ids[i], i});
    download_layers(layers, config);

    // Everything is verified: move it into the store, then name it.
    std::set<Digest> committed;
    for (const auto& layer : layers)
      if (committed.insert(layer.blob.digest).second) content_.commit(layer.blob.digest);
    std::vector<Digest> blobs = {top.digest, manifest.config.digest};
    content_.put(top.digest, top.bytes);
    if (image.digest != top.digest) {
      content_.put(image.digest, image.bytes);
      blobs.push_back(image.digest);
    }
    content_.put(manifest.config.digest, config_bytes);
    blobs.insert(blobs.end(), committed.begin(), committed.end());

    ImageRecord record;
    record.id = manifest.config.digest;
    record.manifest_digest = image.digest;
    record.manifest_media_type = manifest.media_type;
    record.platform = config.platform;
    if (record.platform.os_version.empty() && index_platform) record.platform.os_version = index_platform->os_version;
    if (record.platform.os_features.empty() && index_platform) record.platform.os_features = index_platform->os_features;
    record.created = config.created;
    record.size = manifest.total_size();

    std::vector<Reference> names;
    Reference repository = reference_.without_digest();
    if (reference_.digest().empty()) names.push_back(repository);
    names.push_back(repository.with_tag("").with_digest(top.digest.str()));
    auto before = store_.find(reference_.digest().empty() ? repository : reference_);
    // An image pulled again unchanged needs no write to the database.
    bool recorded = std::all_of(names.begin(), names.end(), [&](const Reference& name) {
      auto found = store_.find(name);
      return found && found->id == record.id && found->manifest_digest == record.manifest_digest;
    });
    if (!recorded) store_.add(record, blobs, names);

    bool up_to_date = !transferred_ && before && before->id == record.id;
    message("Digest: " + top.digest.str());
    message(fmt::format("Status: {} for {}", up_to_date ? "Image is up to date" : "Downloaded newer image",
                        reference_.str()));
    PullResult result;
    result.image = *store_.get(record.id);
    result.reference = reference_;
    result.manifest_digest = top.digest;
    result.downloaded = transferred_;
    return result;
  }

 private:
  void message(const std::string& text) {
    if (progress_) progress_->message(text);
  }

  Document parsed(std::string bytes, std::string content_type, Digest digest) {
    Document d{std::move(bytes), std::move(content_type), std::move(digest), {}};
    d.json = parse_json(d.bytes, fmt::format("manifest {}", d.digest.str()));
    return d;
  }

  Document manifest_by_tag(const std::string& tag) {
    // A HEAD names the digest: a manifest already stored is not fetched again.
    auto head = client_.head_manifest(reference_.path(), tag, manifest_media_types());
    if (head && !head->digest.empty() && content_.contains(head->digest))
      return parsed(content_.read(head->digest, max_manifest_size), head->media_type, head->digest);
    auto fetched = client_.get_manifest(reference_.path(), tag, manifest_media_types(), max_manifest_size);
    return parsed(std::move(fetched.bytes), std::move(fetched.media_type), fetched.digest);
  }

  Document manifest_by_digest(const Digest& digest, std::optional<std::uint64_t> size) {
    if (size && *size > max_manifest_size)
      fail(ErrorKind::unsupported, "manifest {} is {} bytes, over the {} byte limit; refused", digest.str(), *size,
           max_manifest_size);
    if (content_.contains(digest)) return parsed(content_.read(digest, max_manifest_size), "", digest);
    auto fetched = client_.get_manifest(reference_.path(), digest.str(), manifest_media_types(), max_manifest_size);
    if (size && fetched.bytes.size() != *size)
      fail(ErrorKind::corrupt, "manifest {} size mismatch (expected {} bytes, got {}): the registry served corrupt data; "
           "nothing was stored", digest.str(), *size, fetched.bytes.size());
    return parsed(std::move(fetched.bytes), std::move(fetched.media_type), fetched.digest);
  }

  std::string fetch_config(const Descriptor& config) {
    if (content_.contains(config.digest)) return content_.read(config.digest, max_manifest_size);
    std::string bytes;
    BlobReceiver receiver;
    receiver.on_start = [&](std::uint64_t) { bytes.clear(); };
    receiver.on_data = [&](const char* data, size_t size) {
      if (bytes.size() + size > config.size)
        fail(ErrorKind::corrupt, "config {} size mismatch (expected {} bytes, got more): the registry served corrupt "
             "data; nothing was stored", config.digest.str(), config.size);
      bytes.append(data, size);
    };
    client_.get_blob(reference_.path(), config.digest, 0, receiver);
    transferred_ = true;
    Hasher hasher(config.digest.algorithm());
    hasher.update(bytes);
    if (bytes.size() != config.size)
      fail(ErrorKind::corrupt, "config {} size mismatch (expected {} bytes, got {}): the registry served corrupt data; "
           "nothing was stored", config.digest.str(), config.size, bytes.size());
    if (Digest actual = hasher.digest(); actual != config.digest)
      fail(ErrorKind::corrupt, "config {} digest mismatch (got {}): the registry served corrupt data; nothing was stored",
           config.digest.str(), actual.str());
    return bytes;
  }

  void download_layers(const std::vector<LayerDescriptor>& layers, const ImageConfig& config) {
    for (const auto& layer : layers) update(short_id(layer.blob.digest), "Waiting");
    std::atomic<size_t> next{0};
    std::atomic<bool> cancel{false};
    std::mutex error_mutex;
    std::exception_ptr first_error;
    auto worker = [&] {
      for (;;) {
        size_t i = next++;
        if (i >= layers.size() || cancel) return;
        try {
          pull_layer(layers[i], config, cancel);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
          cancel = true;
        }
      }
    };
    size_t count = std::min<size_t>(std::max(options_.max_concurrent_downloads, 1), layers.size());
    {
      std::vector<std::jthread> threads;
      for (size_t i = 1; i < count; ++i) threads.emplace_back(worker);
      worker();
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  void pull_layer(const LayerDescriptor& layer, const ImageConfig& config, const std::atomic<bool>& cancel) {
    std::string id = short_id(layer.blob.digest);
    const Digest& digest = layer.blob.digest;
    SinkGuard sink(options_.layer_sink ? options_.layer_sink(layer, config) : nullptr);
    if (content_.contains(digest)) {
      if (sink.get()) content_.copy_to(digest, *sink.get());
      sink.close();
      finish(id, "Already exists");
      return;
    }
    // Blocks while another skiff process downloads the same blob.
    auto ingest = content_.ingest(digest, layer.blob.size);
    if (ingest->state() != Ingest::State::partial) {
      if (sink.get()) ingest->replay(*sink.get());
      sink.close();
      finish(id, "Already exists");
      return;
    }
    try {
      if (ingest->offset() < layer.blob.size) {
        transferred_ = true;
        std::uint64_t received = ingest->offset();
        if (received > 0) log::debug("layer {}: resuming at byte {}", id, received);
        update(id, "Downloading", received, layer.blob.size);
        BlobReceiver receiver;
        receiver.cancel = &cancel;
        receiver.on_start = [&](std::uint64_t from) {
          if (from != ingest->offset()) ingest->restart();
          received = ingest->offset();
          if (sink.get() && received > 0) ingest->replay(*sink.get());
        };
        receiver.on_data = [&](const char* data, size_t size) {
          ingest->write(data, size);
          if (sink.get()) sink.get()->write(data, size);
          received += size;
          update(id, "Downloading", received, layer.blob.size);
        };
        client_.get_blob(reference_.path(), digest, ingest->offset(), receiver);
      }
      ingest->close();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::corrupt)
        fail(ErrorKind::corrupt, "layer {}: the registry served corrupt data; nothing was stored", e.what());
      throw;
    }
    update(id, "Download complete");
    sink.close();
    finish(id, "Pull complete");
  }

  void update(const std::string& id, const std::string& status, std::uint64_t current = 0, std::uint64_t total = 0) {
    if (progress_) progress_->update(id, status, current, total);
  }
  void finish(const std::string& id, const std::string& status) {
    if (progress_) progress_->finish(id, status);
  }

  ImageStore& store_;
  ContentStore& content_;
  const Reference& reference_;
  const PullOptions& options_;
  RegistryClient client_;
  Progress* progress_;
  std::atomic<bool> transferred_{false};
};

}  // namespace

PullResult pull(ImageStore& store, const Reference& reference, const PullOptions& options) {
  try {
    if (reference.local())
      fail(ErrorKind::invalid_argument, "the name has no registry and none is configured (localhost/ is the local "
           "namespace); use HOST[:PORT]/{} or set \"default-registry\" in {}", reference.path(), Config::default_path());
    // Blobs this pull adds are unreferenced until the image is recorded:
    // garbage collection must not take them meanwhile.
    FileLock lease = store.lease();
    return Puller(store, reference, options).run();
  } catch (const Error& e) {
    rethrow_with_context(e, "pull " + reference.str());
  }
}

}  // namespace skiff
