#include "image/store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"

namespace skiff {

namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE images (
  id TEXT PRIMARY KEY,
  manifest_digest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  os TEXT NOT NULL,
  architecture TEXT NOT NULL,
  variant TEXT NOT NULL DEFAULT '',
  os_version TEXT NOT NULL DEFAULT '',
  os_features TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL,
  added INTEGER NOT NULL
);
CREATE TABLE image_names (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX image_names_by_image ON image_names(image_id);
CREATE TABLE image_digests (
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  PRIMARY KEY (repository, digest)
);
CREATE INDEX image_digests_by_image ON image_digests(image_id);
CREATE TABLE image_blobs (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  PRIMARY KEY (image_id, digest)
);
CREATE INDEX image_blobs_by_digest ON image_blobs(digest);
CREATE TABLE image_pins (
  holder TEXT NOT NULL,
  image_id TEXT NOT NULL,
  PRIMARY KEY (holder, image_id)
);
CREATE TABLE layer_sizes (
  digest TEXT PRIMARY KEY,
  unpacked_size INTEGER NOT NULL
);
)sql";

// A box of its own in schema_versions, so the image tables can take later
// versions independently.
constexpr std::string_view holds_schema = R"sql(
CREATE TABLE blob_holds (
  holder TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY (holder, digest)
);
CREATE INDEX blob_holds_by_digest ON blob_holds(digest);
)sql";

std::string familiar(const Reference& r, const ReferencePolicy& policy) {
  std::string name = r.familiar_name(policy);
  if (!r.tag().empty() && r.digest().empty()) name += ":" + r.tag();
  if (!r.digest().empty()) name += "@" + r.digest();
  return name;
}

}  // namespace

ImageStore::ImageStore(Root& root) : root_(root), content_(root.content_dir()) {
  root_.db().ensure_schema("image", 1, schema);
  root_.db().ensure_schema("image-holds", 1, holds_schema);
}

std::filesystem::path ImageStore::lease_path() const {
  ensure_dir(root_.content_dir());
  return root_.content_dir() / "gc.lock";
}

FileLock ImageStore::lease() { return FileLock(lease_path(), FileLock::Mode::shared); }

std::vector<ImageRecord> ImageStore::query(std::string_view where, const std::vector<std::string>& arguments) {
  Database& db = root_.db();
  auto statement = db.prepare(fmt::format(
      "SELECT id, manifest_digest, manifest_media_type, os, architecture, variant, os_version, os_features, created, "
      "size, added FROM images {} ORDER BY added DESC, id",
      where));
  for (size_t i = 0; i < arguments.size(); ++i) statement.bind(static_cast<int>(i + 1), arguments[i]);
  std::vector<ImageRecord> images;
  std::map<std::string, size_t> by_id;
  while (statement.step()) {
    ImageRecord r;
    r.id = Digest::parse(statement.text(0));
    r.manifest_digest = Digest::parse(statement.text(1));
    r.manifest_media_type = statement.text(2);
    r.platform.os = statement.text(3);
    r.platform.architecture = statement.text(4);
    r.platform.variant = statement.text(5);
    r.platform.os_version = statement.text(6);
    if (auto features = statement.text(7); !features.empty()) r.platform.os_features = split(features, ',');
    r.created = statement.text(8);
    r.size = static_cast<std::uint64_t>(statement.integer(9));
    r.added = statement.integer(10);
    by_id[r.id.str()] = images.size();
    images.push_back(std::move(r));
  }
  if (images.empty()) return images;
  auto names = db.prepare("SELECT image_id, name FROM image_names ORDER BY name");
  while (names.step()) {
    auto it = by_id.find(names.text(0));
    if (it != by_id.end()) images[it->second].tags.push_back(Reference::parse(names.text(1)));
  }
  auto digests = db.prepare("SELECT image_id, repository, digest FROM image_digests ORDER BY repository, digest");
  while (digests.step()) {
    auto it = by_id.find(digests.text(0));
    if (it != by_id.end())
      images[it->second].digests.push_back(Reference::parse(digests.text(1) + "@" + digests.text(2)));
  }
  return images;
}

std::vector<ImageRecord> ImageStore::list() { return query("", {}); }

std::optional<ImageRecord> ImageStore::get(const Digest& id) {
  auto found = query("WHERE id = ?", {id.str()});
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::optional<Digest> ImageStore::id_by_prefix(std::string_view text) {
  std::string prefix(text);
  if (!prefix.starts_with("sha256:")) prefix = "sha256:" + prefix;
  auto statement = root_.db().prepare("SELECT id FROM images WHERE substr(id, 1, ?) = ? LIMIT 2");
  statement.bind_all(static_cast<std::int64_t>(prefix.size()), prefix);
  std::vector<std::string> ids;
  while (statement.step()) ids.push_back(statement.text(0));
  if (ids.empty()) return std::nullopt;
  if (ids.size() > 1)
    fail(ErrorKind::invalid_argument, "image ID prefix \"{}\" is ambiguous: it matches several images; give more digits",
         text);
  return Digest::parse(ids.front());
}

std::optional<ImageRecord> ImageStore::find(const Reference& reference) {
  Database& db = root_.db();
  std::optional<std::string> id;
  if (!reference.digest().empty()) {
    auto s = db.prepare("SELECT image_id FROM image_digests WHERE repository = ? AND digest = ?");
    s.bind_all(reference.name(), reference.digest());
    if (s.step()) id = s.text(0);
  } else {
    auto s = db.prepare("SELECT image_id FROM image_names WHERE name = ?");
    s.bind_all(reference.name() + ":" + reference.tag());
    if (s.step()) id = s.text(0);
  }
  if (!id) return std::nullopt;
  return get(Digest::parse(*id));
}

ImageRecord ImageStore::resolve(std::string_view text, const ReferencePolicy& policy) {
  std::optional<Reference> reference;
  try {
    reference = Reference::parse(text, policy);
  } catch (const Error&) {
    if (!looks_like_id_prefix(text)) throw;
  }
  if (reference)
    if (auto found = find(*reference)) return std::move(*found);
  if (looks_like_id_prefix(text))
    if (auto id = id_by_prefix(text))
      if (auto found = get(*id)) return std::move(*found);
  fail(ErrorKind::not_found, "no such image: {}", text);
}

void ImageStore::add(const ImageRecord& image, const std::vector<Digest>& blobs, const std::vector<Reference>& names) {
  Database& db = root_.db();
  Transaction transaction(db);
  for (const auto& blob : blobs)
    if (!content_.contains(blob))
      fail(ErrorKind::not_found, "image {}: blob {} vanished from the content store before the image was recorded; run "
           "the command again", image.id.short_hex(), blob.str());
  std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  db.prepare("INSERT INTO images (id, manifest_digest, manifest_media_type, os, architecture, variant, os_version, "
             "os_features, created, size, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest, "
             "manifest_media_type = excluded.manifest_media_type, size = excluded.size")
      .bind_all(image.id.str(), image.manifest_digest.str(), image.manifest_media_type, image.platform.os,
                image.platform.architecture, image.platform.variant, image.platform.os_version,
                join(image.platform.os_features, ","), image.created, image.size, image.added ? image.added : now)
      .run();
  auto blob = db.prepare("INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)");
  for (const auto& d : blobs) {
    blob.bind_all(image.id.str(), d.str());
    blob.run();
    blob.reset();
  }
  for (const auto& name : names) {
    if (!name.digest().empty()) {
      db.prepare("INSERT INTO image_digests (repository, digest, image_id) VALUES (?, ?, ?) "
                 "ON CONFLICT(repository, digest) DO UPDATE SET image_id = excluded.image_id")
          .bind_all(name.name(), name.digest(), image.id.str())
          .run();
    } else {
      db.prepare("INSERT INTO image_names (name, image_id) VALUES (?, ?) "
                 "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id")
          .bind_all(name.name() + ":" + name.tag(), image.id.str())
          .run();
    }
  }
  transaction.commit();
}

void ImageStore::tag(const Digest& id, const Reference& name) {
  if (!name.digest().empty())
    fail(ErrorKind::invalid_argument, "tag {}: a digest cannot be given as a tag; use NAME[:TAG]", name.str());
  Database& db = root_.db();
  Transaction transaction(db);
  if (!get(id)) fail(ErrorKind::not_found, "no such image: {}", id.str());
  db.prepare("INSERT INTO image_names (name, image_id) VALUES (?, ?) "
             "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id")
      .bind_all(name.name() + ":" + name.tag(), id.str())
      .run();
  transaction.commit();
}

ImageStore::Removal ImageStore::remove(std::string_view text, bool force, const ReferencePolicy& policy) {
  Database& db = root_.db();
  Transaction transaction(db);
  Removal removal;

  std::optional<Reference> reference;
  try {
    reference = Reference::parse(text, policy);
  } catch (const Error&) {
    if (!looks_like_id_prefix(text)) throw;
  }
  std::optional<ImageRecord> image;
  bool by_name = false;
  if (reference && (image = find(*reference))) by_name = true;
  if (!image && looks_like_id_prefix(text))
    if (auto id = id_by_prefix(text)) image = get(*id);
  if (!image) fail(ErrorKind::not_found, "no such image: {}", text);

  auto holders = pins(image->id);
  auto holder_text = [&] { return join(holders, ", "); };
  auto untag = [&](const Reference& r) {
    if (r.digest().empty()) {
      db.prepare("DELETE FROM image_names WHERE name = ?").bind_all(r.name() + ":" + r.tag()).run();
    } else {
      db.prepare("DELETE FROM image_digests WHERE repository = ? AND digest = ?").bind_all(r.name(), r.digest()).run();
    }
    removal.untagged.push_back(familiar(r, policy));
  };

  if (by_name) {
    std::vector<Reference> names = image->tags;
    names.insert(names.end(), image->digests.begin(), image->digests.end());
    bool last = names.size() == 1 ||
                // Repo digests of the same repository go with its last tag.
                std::all_of(names.begin(), names.end(), [&](const Reference& n) {
                  return n == *reference || (!n.digest().empty() && n.name() == reference->name());
                });
    if (last && !holders.empty() && !force)
      fail(ErrorKind::conflict, "unable to remove repository reference \"{}\" (must force): container {} is using its "
           "image {}; remove the container first (skiff rm) or untag with -f", text, holder_text(), image->id.short_hex());
    untag(*reference);
    bool other_tag_in_repository = std::any_of(image->tags.begin(), image->tags.end(), [&](const Reference& n) {
      return !(n == *reference) && n.name() == reference->name();
    });
    if (reference->digest().empty() && !other_tag_in_repository)
      for (const auto& d : image->digests)
        if (d.name() == reference->name()) untag(d);
    if (!last) {
      transaction.commit();
      return removal;
    }
  } else {
    if (!holders.empty() && !force)
      fail(ErrorKind::conflict, "unable to delete {} (must be forced): the image is in use by container {}; remove the "
           "container first (skiff rm) or untag it with -f", image->id.short_hex(), holder_text());
    std::set<std::string> repositories;
    for (const auto& t : image->tags) repositories.insert(t.name());
    if (repositories.size() > 1 && !force)
      fail(ErrorKind::conflict, "unable to delete {} (must be forced): the image is referenced in multiple "
           "repositories; remove it by name or use -f", image->id.short_hex());
    for (const auto& t : image->tags) untag(t);
    for (const auto& d : image->digests) untag(d);
  }
  if (holders.empty()) {
    db.prepare("DELETE FROM images WHERE id = ?").bind_all(image->id.str()).run();
    removal.deleted.push_back(image->id);
  }
  transaction.commit();
  return removal;
}

void ImageStore::pin(const Digest& id, std::string_view holder) {
  Database& db = root_.db();
  Transaction transaction(db);
  if (!get(id)) fail(ErrorKind::not_found, "no such image: {}", id.str());
  db.prepare("INSERT OR IGNORE INTO image_pins (holder, image_id) VALUES (?, ?)").bind_all(holder, id.str()).run();
  transaction.commit();
}

void ImageStore::unpin(std::string_view holder) {
  root_.db().prepare("DELETE FROM image_pins WHERE holder = ?").bind_all(holder).run();
}

std::vector<std::string> ImageStore::pins(const Digest& id) {
  auto s = root_.db().prepare("SELECT holder FROM image_pins WHERE image_id = ? ORDER BY holder");
  s.bind_all(id.str());
  std::vector<std::string> holders;
  while (s.step()) holders.push_back(s.text(0));
  return holders;
}

std::vector<Digest> ImageStore::blobs(const Digest& id) {
  auto s = root_.db().prepare("SELECT digest FROM image_blobs WHERE image_id = ? ORDER BY digest");
  s.bind_all(id.str());
  std::vector<Digest> digests;
  while (s.step()) digests.push_back(Digest::parse(s.text(0)));
  return digests;
}

FileLock ImageStore::collection_lock() { return FileLock::try_lock(lease_path(), FileLock::Mode::exclusive); }

ImageStore::Collected ImageStore::collect_garbage() {
  FileLock exclusive = collection_lock();
  if (!exclusive.valid()) return {};
  return collect_garbage(exclusive);
}

ImageStore::Collected ImageStore::collect_garbage(const FileLock& held) {
  if (!held.valid()) return {};
  Database& db = root_.db();
  std::set<std::string> referenced;
  auto s = db.prepare("SELECT digest FROM image_blobs UNION SELECT digest FROM blob_holds");
  while (s.step()) referenced.insert(s.text(0));
  Collected collected;
  for (const auto& digest : content_.list()) {
    if (referenced.count(digest.str())) continue;
    collected.bytes += content_.size(digest).value_or(0);
    content_.remove(digest);
    collected.blobs.push_back(digest);
  }
  db.exec("DELETE FROM layer_sizes WHERE digest NOT IN (SELECT digest FROM image_blobs)");
  return collected;
}

void ImageStore::hold(std::string_view holder, const Digest& blob) {
  root_.db().prepare("INSERT OR IGNORE INTO blob_holds (holder, digest) VALUES (?, ?)").bind_all(holder, blob.str()).run();
}

void ImageStore::release(std::string_view holder) {
  root_.db().prepare("DELETE FROM blob_holds WHERE holder = ?").bind_all(holder).run();
}

void ImageStore::set_unpacked_size(const Digest& layer, std::uint64_t size) {
  root_.db()
      .prepare("INSERT INTO layer_sizes (digest, unpacked_size) VALUES (?, ?) "
               "ON CONFLICT(digest) DO UPDATE SET unpacked_size = excluded.unpacked_size")
      .bind_all(layer.str(), size)
      .run();
}

std::optional<std::uint64_t> ImageStore::unpacked_size(const Digest& layer) {
  auto s = root_.db().prepare("SELECT unpacked_size FROM layer_sizes WHERE digest = ?");
  s.bind_all(layer.str());
  if (!s.step()) return std::nullopt;
  return static_cast<std::uint64_t>(s.integer(0));
}

}  // namespace skiff
