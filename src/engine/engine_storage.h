// Internal to the engine: what the images, the containers and the build
// cache need of the store, for df, prune and the collection after rmi.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "image/store.h"
#include "snapshot/snapshotter.h"

namespace skiff::engine {

// Every chain ID of the image's layers (each prefix of its stack), from its
// config; empty (with a warning) when the config cannot be read.
std::set<std::string> image_chains(ImageStore& images, const ImageRecord& image);

// The committed snapshots garbage collection keeps: every image's chains
// and the build cache entries' (the snapshotter itself keeps what active
// snapshots and views build on).
std::set<std::string> needed_chains(ImageStore& images);

// Bytes a container's writable layer takes (0 when it has none).
std::uint64_t writable_layer_bytes(snapshot::Snapshotter& snapshots, const std::string& id);

// Bytes of stored blobs, 0 for one that is missing.
std::uint64_t blob_bytes(ImageStore& images, const std::set<std::string>& digests);

}  // namespace skiff::engine
