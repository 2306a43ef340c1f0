// docker commit: a container's changes (its writable snapshot diffed, as a
// build's RUN step is) become a layer on top of its image, with the image's
// config changed as asked and a history entry saying where it came from.
#include "builder/image_config.h"
#include "core/error.h"
#include "core/humanize.h"
#include "core/strings.h"
#include "engine/engine_parts.h"
#include "image/assemble.h"
#include "image/unpack.h"

namespace skiff::engine {

namespace {

// The image's layers as assemble_image takes them back.
std::vector<AssembledLayer> layers_of(const StoredImage& stored, const std::string& what) {
  if (stored.manifest.layers.size() != stored.config.diff_ids.size())
    fail(ErrorKind::corrupt, "{}: the manifest lists {} layers but the config has {} diff_ids", what,
         stored.manifest.layers.size(), stored.config.diff_ids.size());
  std::vector<AssembledLayer> layers;
  for (size_t i = 0; i < stored.manifest.layers.size(); ++i) {
    const auto& layer = stored.manifest.layers[i];
    layers.push_back({layer.digest, stored.config.diff_ids[i], layer.size, layer.media_type, ""});
  }
  return layers;
}

// The image's history, one entry per layer as assemble_image needs it; an
// image without a usable one (some tools write none) gets blank entries.
Json history_of(const Json& config, size_t layers) {
  Json history = config.value("history", Json::array());
  size_t layer_entries = 0;
  if (history.is_array())
    for (const auto& entry : history)
      if (!entry.is_object() || !entry.value("empty_layer", false)) ++layer_entries;
  if (history.is_array() && layer_entries == layers) return history;
  history = Json::array();
  for (size_t i = 0; i < layers; ++i) history.push_back(Json::object());
  return history;
}

}  // namespace

ImageRecord Engine::commit(const CommitRequest& request) {
  ReferencePolicy policy{config_.default_registry};
  Record record = get(request.container);
  std::string what = "commit " + request.container;
  if (auto why = parts_->isolations.of(record).changes_outside_snapshot())
    fail(ErrorKind::unsupported, "{}: {}", what, *why);
  std::vector<Reference> names;
  if (!request.reference.empty()) {
    Reference name = Reference::parse(request.reference, policy);
    if (!name.digest().empty())
      fail(ErrorKind::invalid_argument, "{}: {} names a digest; the new image takes REPOSITORY[:TAG]", what,
           request.reference);
    names.push_back(name);
  }
  auto& images = parts_->images;
  auto& snapshots = parts_->snapshots;
  auto image = images.get(Digest::parse(record.image_id));
  if (!image) fail(ErrorKind::not_found, "{}: its image {} is no longer in the store", what, record.image_id);
  if (!snapshots.stat(record.id))
    fail(ErrorKind::not_found, "{}: the container has no root filesystem snapshot (removed meanwhile?)", what);
  StoredImage stored = load_stored_image(images, *image);
  // Every change is checked before anything is written.
  Json config = builder::apply_commit_changes(stored.config.document, request.changes);
  auto layers = layers_of(stored, what);
  Json history = history_of(config, layers.size());

  std::string now = format_rfc3339(std::chrono::system_clock::now());
  Json entry = {{"created", now}, {"created_by", join(record.config.value("Cmd", std::vector<std::string>{}), " ")}};
  if (!request.message.empty()) entry["comment"] = request.message;
  if (!request.author.empty()) entry["author"] = request.author;

  // The new blob is unreferenced until the image is recorded.
  auto lease = images.lease();
  auto writer = images.content().writer();
  snapshot::DiffOptions options;
  // Mount points the runtime created are not the container's changes.
  options.exclude = record.config.value("MountStubs", std::vector<std::string>{});
  snapshot::LayerInfo info = snapshots.diff(record.id, *writer, options);
  if (info.entries == 0) {
    writer->abort();
    entry["empty_layer"] = true;
  } else {
    writer->close();
    layers.push_back({writer->commit(), info.diff_id, info.size, info.media_type, ""});
  }
  history.push_back(entry);
  config["created"] = now;
  if (!request.author.empty()) config["author"] = request.author;
  return assemble_image_with_history(images, config, layers, history, names);
}

}  // namespace skiff::engine
