// What `skiff inspect IMAGE` shows: the record, its config, and per layer
// the compressed size and (once unpacked) the unpacked size, with totals.
#pragma once

#include "core/json.h"
#include "image/manifest.h"
#include "image/store.h"

namespace skiff {

Json inspect_image(ImageStore& store, const ImageRecord& image, const ReferencePolicy& policy);

// The manifest an image was recorded with, read from the content store.
ImageManifest stored_manifest(ImageStore& store, const ImageRecord& image);

}  // namespace skiff
