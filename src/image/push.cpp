#include "image/push.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "image/inspect.h"
#include "image/manifest.h"

namespace skiff {

namespace {

std::string short_id(const Digest& d) { return d.hex().substr(0, 12); }

class Pusher {
 public:
  Pusher(ImageStore& store, const Reference& reference, const PushOptions& options)
      : store_(store), reference_(reference), options_(options), client_(reference.domain(), with_push(options.registry)) {}

  PushResult run() {
    ImageRecord image = resolve();
    ImageManifest manifest = stored_manifest(store_, image);
    std::string manifest_bytes = store_.content().read(image.manifest_digest, max_manifest_size);
    message(fmt::format("The push refers to repository [{}]", reference_.name()));

    // Other repositories of this registry that hold the image: mount sources.
    std::vector<std::string> sources;
    for (const auto& names : {image.tags, image.digests})
      for (const auto& n : names)
        if (n.domain() == reference_.domain() && n.path() != reference_.path() &&
            std::find(sources.begin(), sources.end(), n.path()) == sources.end())
          sources.push_back(n.path());

    std::vector<Descriptor> blobs = manifest.layers;
    blobs.push_back(manifest.config);
    std::set<Digest> seen;
    std::vector<Descriptor> unique;
    for (const auto& b : blobs)
      if (seen.insert(b.digest).second) unique.push_back(b);
    push_blobs(unique, sources);

    Digest digest = client_.put_manifest(reference_.path(), reference_.tag(), image.manifest_media_type, manifest_bytes);
    if (digest != image.manifest_digest)
      fail(ErrorKind::corrupt, "registry {} stored the manifest under {}, not {}", reference_.domain(), digest.str(),
           image.manifest_digest.str());
    store_.add(image, {}, {reference_.with_tag("").with_digest(digest.str())});
    message(fmt::format("{}: digest: {} size: {}", reference_.tag(), digest.str(), manifest_bytes.size()));
    return {digest, manifest_bytes.size()};
  }

 private:
  static RegistryOptions with_push(RegistryOptions options) {
    options.push = true;
    return options;
  }

  ImageRecord resolve() {
    if (!reference_.digest().empty())
      fail(ErrorKind::invalid_argument, "push by digest is not possible; push NAME[:TAG]");
    if (auto image = store_.find(reference_)) return std::move(*image);
    fail(ErrorKind::not_found, "no image named {} in the store; tag one first with `skiff tag IMAGE {}`",
         reference_.str(), reference_.str());
  }

  void push_blobs(const std::vector<Descriptor>& blobs, const std::vector<std::string>& sources) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::exception_ptr first_error;
    auto worker = [&] {
      for (;;) {
        size_t i = next++;
        if (i >= blobs.size() || failed) return;
        try {
          push_blob(blobs[i], sources);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
          failed = true;
        }
      }
    };
    size_t count = std::min<size_t>(std::max(options_.max_concurrent_uploads, 1), blobs.size());
    {
      std::vector<std::jthread> threads;
      for (size_t i = 1; i < count; ++i) threads.emplace_back(worker);
      worker();
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  void push_blob(const Descriptor& blob, const std::vector<std::string>& sources) {
    std::string id = short_id(blob.digest);
    update(id, "Preparing");
    if (client_.blob_size(reference_.path(), blob.digest)) {
      finish(id, "Layer already exists");
      return;
    }
    for (const auto& from : sources) {
      if (client_.mount_blob(reference_.path(), blob.digest, from)) {
        finish(id, "Mounted from " + from);
        return;
      }
    }
    UniqueFd fd = store_.content().open(blob.digest);
    std::uint64_t sent = 0;
    client_.upload_blob(reference_.path(), blob.digest, blob.size, [&](char* buffer, size_t size) -> size_t {
      ssize_t n;
      do n = ::read(fd.get(), buffer, size);
      while (n < 0 && errno == EINTR);
      if (n < 0) fail_errno("read blob " + blob.digest.str());
      sent += static_cast<std::uint64_t>(n);
      update(id, "Pushing", sent, blob.size);
      return static_cast<size_t>(n);
    });
    finish(id, "Pushed");
  }

  void message(const std::string& text) {
    if (options_.progress) options_.progress->message(text);
  }
  void update(const std::string& id, const std::string& status, std::uint64_t current = 0, std::uint64_t total = 0) {
    if (options_.progress) options_.progress->update(id, status, current, total);
  }
  void finish(const std::string& id, const std::string& status) {
    if (options_.progress) options_.progress->finish(id, status);
  }

  ImageStore& store_;
  const Reference& reference_;
  const PushOptions& options_;
  RegistryClient client_;
};

}  // namespace

PushResult push(ImageStore& store, const Reference& reference, const PushOptions& options) {
  try {
    if (reference.local())
      fail(ErrorKind::invalid_argument, "the name has no registry; tag the image as HOST[:PORT]/{} first",
           reference.path());
    return Pusher(store, reference, options).run();
  } catch (const Error& e) {
    rethrow_with_context(e, "push " + reference.str());
  }
}

}  // namespace skiff
