#include "base/image.h"

#include <fmt/format.h>

#include "content/store.h"
#include "core/fs.h"
#include "image/assemble.h"
#include "snapshot/diff.h"

namespace skiff::base {

BuiltImage build_image(Root& root, const std::string& flavour, const BuildOptions& options) {
  ImageStore images(root);
  TempDir work(root.tmp_dir(), "base-");
  auto rootfs = work.path() / "rootfs";
  BuiltImage built;
  built.spec = build_rootfs(flavour, rootfs, options);
  if (options.progress) options.progress->update("layer", "Writing the layer");

  snapshot::DiffOptions diff;
  diff.compression = snapshot::Compression::gzip;
  diff.level = 9;  // a base image is written once and pulled many times
  diff.source_date_epoch = built.spec.source_date_epoch;
  // Hold a lease: the new blob belongs to no image until assemble_image().
  auto lease = images.lease();
  auto writer = images.content().writer();
  snapshot::LayerInfo layer = snapshot::write_directory_layer(rootfs, *writer, diff);
  writer->close();
  Digest digest = writer->commit();
  built.layer_size = layer.size;
  built.unpacked_size = layer.tar_size;

  std::vector<Reference> names;
  for (const auto& tag : built.spec.tags) names.push_back(Reference::parse(tag));
  AssembledLayer assembled{digest, layer.diff_id, layer.size, layer.media_type,
                           fmt::format("skiff base build {} --release {}", flavour, built.spec.release)};
  built.image = assemble_image(images, built.spec.to_oci_config(), {assembled}, names);
  images.set_unpacked_size(digest, layer.tar_size);
  if (options.progress) options.progress->finish("layer", fmt::format("Layer {} written", digest.short_hex()));
  return built;
}

}  // namespace skiff::base
