// skiff save / skiff load: images as tar archives. save writes an OCI image
// layout (oci-layout, index.json, blobs/) that also carries docker-archive's
// manifest.json, as docker >= 25 does, so docker, podman and skopeo all load
// it. load reads that, plain OCI layout archives, and docker-archive
// tarballs (`docker save`), optionally compressed.
#pragma once

#include <string>
#include <vector>

#include "image/store.h"

namespace skiff {

// Writes the images (names or IDs) to `fd` as a tar stream. A name is
// saved with that name; an ID without names.
void save_images(ImageStore& store, const std::vector<std::string>& images, const ReferencePolicy& policy, int fd);

struct LoadedImage {
  Digest id;
  std::vector<Reference> names;
};

// Reads an archive from `fd`; records its images only once every blob is
// verified (on error the store is unchanged).
std::vector<LoadedImage> load_images(ImageStore& store, int fd, const ReferencePolicy& policy);

}  // namespace skiff
