#include "builder/cache_store.h"

#include <chrono>

#include "core/error.h"

namespace skiff::builder {

namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE build_cache (
  key TEXT PRIMARY KEY,
  chain TEXT,
  layer TEXT,
  diff_id TEXT,
  size INTEGER NOT NULL DEFAULT 0,
  media_type TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE INDEX build_cache_by_layer ON build_cache(layer);
)sql";

constexpr const char* columns = "SELECT key, chain, layer, diff_id, size, media_type, description, created, last_used FROM build_cache";

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string holder_of(const Digest& key) { return "build-cache:" + key.hex(); }

constexpr std::string_view source_hashes_schema = R"sql(
CREATE TABLE build_source_hashes (
  key TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  digest TEXT NOT NULL
);
CREATE INDEX build_source_hashes_by_chain ON build_source_hashes(chain);
)sql";

CacheEntry read_entry(const Statement& row) {
  CacheEntry entry;
  entry.key = Digest::parse(row.text(0));
  if (!row.is_null(2)) {
    CachedLayer layer;
    layer.chain = Digest::parse(row.text(1));
    layer.blob = Digest::parse(row.text(2));
    layer.diff_id = Digest::parse(row.text(3));
    layer.size = static_cast<std::uint64_t>(row.integer(4));
    layer.media_type = row.text(5);
    entry.layer = layer;
  }
  entry.description = row.text(6);
  entry.created = row.integer(7);
  entry.last_used = row.integer(8);
  return entry;
}

}  // namespace

BuildCache::BuildCache(ImageStore& images) : images_(images), db_(images.root().db()) {
  db_.ensure_schema("builder", 1, schema);
  db_.ensure_schema("builder", 2, source_hashes_schema);
}

std::optional<Digest> BuildCache::source_hash(const Digest& key) {
  auto row = db_.prepare("SELECT digest FROM build_source_hashes WHERE key = ?");
  row.bind_all(key.str());
  if (!row.step()) return std::nullopt;
  return Digest::parse(row.text(0));
}

void BuildCache::record_source_hash(const Digest& key, const Digest& chain, const Digest& hash) {
  db_.prepare("INSERT OR REPLACE INTO build_source_hashes (key, chain, digest) VALUES (?, ?, ?)")
      .bind_all(key.str(), chain.str(), hash.str())
      .run();
}

void BuildCache::forget_source_hashes(const std::string& chain) {
  db_.prepare("DELETE FROM build_source_hashes WHERE chain = ?").bind_all(chain).run();
}

std::optional<CacheEntry> BuildCache::lookup(const Digest& key) {
  auto row = db_.prepare(std::string(columns) + " WHERE key = ?");
  row.bind_all(key.str());
  if (!row.step()) return std::nullopt;
  CacheEntry entry = read_entry(row);
  row.reset();
  if (entry.layer && !images_.content().contains(entry.layer->blob)) {
    remove({key});  // its layer was deleted behind the cache's back
    return std::nullopt;
  }
  db_.prepare("UPDATE build_cache SET last_used = ? WHERE key = ?").bind_all(now(), key.str()).run();
  return entry;
}

void BuildCache::record(const CacheEntry& entry) {
  Transaction transaction(db_);
  std::int64_t time = now();
  auto insert = db_.prepare(
      "INSERT INTO build_cache (key, chain, layer, diff_id, size, media_type, description, created, last_used) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET chain = excluded.chain, "
      "layer = excluded.layer, diff_id = excluded.diff_id, size = excluded.size, media_type = excluded.media_type, "
      "description = excluded.description, last_used = excluded.last_used");
  insert.bind(1, entry.key.str());
  if (entry.layer) {
    insert.bind(2, entry.layer->chain.str());
    insert.bind(3, entry.layer->blob.str());
    insert.bind(4, entry.layer->diff_id.str());
    insert.bind(5, static_cast<std::int64_t>(entry.layer->size));
    insert.bind(6, entry.layer->media_type);
  } else {
    insert.bind_null(2);
    insert.bind_null(3);
    insert.bind_null(4);
    insert.bind(5, std::int64_t{0});
    insert.bind(6, std::string_view(""));
  }
  insert.bind(7, entry.description);
  insert.bind(8, time);
  insert.bind(9, time);
  insert.run();
  images_.release(holder_of(entry.key));
  if (entry.layer) images_.hold(holder_of(entry.key), entry.layer->blob);
  transaction.commit();
}

std::vector<CacheEntry> BuildCache::list() {
  auto rows = db_.prepare(std::string(columns) + " ORDER BY created, key");
  std::vector<CacheEntry> entries;
  while (rows.step()) entries.push_back(read_entry(rows));
  return entries;
}

void BuildCache::remove(const std::vector<Digest>& keys) {
  Transaction transaction(db_);
  auto erase = db_.prepare("DELETE FROM build_cache WHERE key = ?");
  for (const auto& key : keys) {
    erase.bind_all(key.str());
    erase.run();
    erase.reset();
    images_.release(holder_of(key));
  }
  transaction.commit();
}

}  // namespace skiff::builder
