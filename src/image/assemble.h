// An image made here rather than pulled: layers already in the content
// store plus a config become a config blob, an OCI manifest and an image
// record with names. Used by base image builds and commits.
#pragma once

#include <string>
#include <vector>

#include "core/digest.h"
#include "core/json.h"
#include "image/store.h"

namespace skiff {

struct AssembledLayer {
  Digest digest;        // the stored (compressed) blob
  Digest diff_id;       // of its uncompressed tar
  std::uint64_t size = 0;
  std::string media_type;
  std::string created_by;  // the history entry ("skiff base build nano")
};

// `config` is an OCI image config; its rootfs and history are replaced by
// what `layers` (all of them, bottom first) say. Deterministic: the same
// inputs give the same image ID and manifest digest. The layers must be in
// the content store.
ImageRecord assemble_image(ImageStore& store, Json config, const std::vector<AssembledLayer>& layers,
                           const std::vector<Reference>& names);

// The same with the history given (builds: ENV, CMD… are entries with
// "empty_layer": true). Entries without empty_layer must be as many as
// `layers`; the layers' created_by is not used.
ImageRecord assemble_image_with_history(ImageStore& store, Json config, const std::vector<AssembledLayer>& layers,
                                        Json history, const std::vector<Reference>& names);

}  // namespace skiff
