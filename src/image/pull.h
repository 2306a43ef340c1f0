// Pull: reference -> manifest (an index picks the platform) -> config ->
// layers, downloaded in parallel into the content store, verified, then
// recorded in the image store. Blobs already present are not transferred;
// an interrupted pull resumes from the ingest area.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "core/progress.h"
#include "core/stream.h"
#include "image/manifest.h"
#include "image/platform.h"
#include "image/store.h"
#include "reference/reference.h"
#include "registry/client.h"

namespace skiff {

struct LayerDescriptor {
  Descriptor blob;  // compressed layer: media type, digest, size
  Digest diff_id;   // digest of the uncompressed tar (from the config)
  size_t index = 0; // 0 is the base layer
};

// The unpack hook: returns a sink that receives the layer's compressed
// bytes as they stream in (nullptr: this layer needs none). The sink gets
// close() once the layer is verified, abort() if anything fails. Sinks of
// different layers run concurrently, on download threads.
using LayerSinkFactory =
    std::function<std::unique_ptr<ByteSink>(const LayerDescriptor& layer, const ImageConfig& config)>;

struct PullOptions {
  // The platform to pick from an index; the host's when unset. Set
  // explicitly, it must also match a single-platform image.
  std::optional<Platform> platform;
  Isolation isolation = Isolation::process;  // for the Windows os.version rules
  RegistryOptions registry;
  int max_concurrent_downloads = 3;
  Progress* progress = nullptr;  // nullptr: silent
  LayerSinkFactory layer_sink;
};

struct PullResult {
  ImageRecord image;
  Reference reference;     // as pulled (name:tag or name@digest)
  Digest manifest_digest;  // of the top manifest (the index, for multi-platform images)
  bool downloaded = false; // false: everything was already present
};

PullResult pull(ImageStore& store, const Reference& reference, const PullOptions& options);

}  // namespace skiff
