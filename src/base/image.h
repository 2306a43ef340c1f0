// A base image flavour from its root filesystem to an image in the store:
// one deterministic layer (sorted entries, mtimes clamped to the release's
// SOURCE_DATE_EPOCH), the config with its package labels, the tags.
#pragma once

#include "base/base.h"
#include "core/root.h"
#include "image/store.h"

namespace skiff::base {

struct BuiltImage {
  BaseImageSpec spec;
  ImageRecord image;
  std::uint64_t layer_size = 0;     // compressed
  std::uint64_t unpacked_size = 0;  // the tar
};

BuiltImage build_image(Root& root, const std::string& flavour, const BuildOptions& options);

}  // namespace skiff::base
