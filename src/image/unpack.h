// From the image store to the snapshotter: an image's layers unpacked into
// the shared snapshots named by their chain IDs, so `pull` leaves an image
// ready to run (containerd's unpacker). A pull unpacks each layer while it
// downloads; an image that arrived another way (load, build, an older pull)
// is unpacked from its stored blobs on first use.
#pragma once

#include "image/pull.h"
#include "image/store.h"
#include "snapshot/snapshotter.h"

namespace skiff {

// The image's manifest and config as stored.
struct StoredImage {
  ImageManifest manifest;
  ImageConfig config;
};
StoredImage load_stored_image(ImageStore& store, const ImageRecord& image);

// Unpacks whatever of the image's chain is missing; returns the top chain
// ID (the parent of a container's root filesystem). Records each layer's
// unpacked size in the image store.
Digest ensure_unpacked(ImageStore& store, snapshot::Snapshotter& snapshots, const ImageRecord& image);

// pull() with the layers unpacked as their bytes arrive.
PullResult pull_and_unpack(ImageStore& store, snapshot::Snapshotter& snapshots, const Reference& reference,
                           PullOptions options);

}  // namespace skiff
