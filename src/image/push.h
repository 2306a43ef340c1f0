// Push: an image from the store to a registry, under the name given. Blobs
// the repository has are skipped (HEAD), blobs another repository of the
// same registry has are mounted, the rest uploaded; the manifest last.
#pragma once

#include "core/progress.h"
#include "image/store.h"
#include "reference/reference.h"
#include "registry/client.h"

namespace skiff {

struct PushOptions {
  RegistryOptions registry;
  int max_concurrent_uploads = 3;
  Progress* progress = nullptr;
};

struct PushResult {
  Digest manifest_digest;
  std::uint64_t manifest_size = 0;
};

// `reference` (NAME[:TAG]) names both the local image and the destination.
PushResult push(ImageStore& store, const Reference& reference, const PushOptions& options);

}  // namespace skiff
