// The content store: immutable blobs addressed by digest under
// content/blobs/<algorithm>/<hex>, and the ingest area content/ingest/
// where downloads land first. Nothing enters blobs/ unverified: data is
// hashed while it streams, checked against the expected digest and size,
// and only then renamed into place. Partial downloads stay in ingest/ across
// kills so the next attempt resumes. Safe under concurrent processes: one
// writer per digest (a file lock), the others wait and find the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/fd.h"
#include "core/lock.h"
#include "core/stream.h"

namespace skiff {

class Ingest;
class BlobWriter;

class ContentStore {
 public:
  // `dir` is Root::content_dir(); created on first write.
  explicit ContentStore(std::filesystem::path dir);

  bool contains(const Digest& digest) const;
  std::optional<std::uint64_t> size(const Digest& digest) const;
  // Where the blob lives (whether or not it is there).
  std::filesystem::path path(const Digest& digest) const;
  // Opens a stored blob for reading; not_found if absent.
  UniqueFd open(const Digest& digest) const;
  // Reads a small blob (manifest, config) whole; refuses one over max_size.
  std::string read(const Digest& digest, size_t max_size) const;
  // Writes the stored blob's bytes into `sink` (without closing it).
  void copy_to(const Digest& digest, ByteSink& sink) const;

  // Stores bytes held in memory under their sha256; returns it.
  Digest put(std::string_view data);
  // Stores bytes that must have `expected` digest (corrupt error otherwise).
  void put(const Digest& expected, std::string_view data);

  // Opens (or resumes) the download of a blob of known digest and size.
  // Blocks while another process downloads the same blob.
  std::unique_ptr<Ingest> ingest(const Digest& digest, std::uint64_t size);
  // Moves a verified ingest into blobs/; nothing to do if the blob is
  // already stored. not_found if there is neither.
  void commit(const Digest& digest);

  // A blob whose digest is only known at the end (layer diffs, loads).
  std::unique_ptr<BlobWriter> writer();

  void remove(const Digest& digest);
  std::vector<Digest> list() const;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path ingest_dir() const { return dir_ / "ingest"; }

 private:
  std::filesystem::path dir_;
};

// The download of one blob: a ByteSink that hashes what it writes.
class Ingest : public ByteSink {
 public:
  enum class State {
    stored,    // the blob is already in the store: nothing to download
    verified,  // complete and verified in ingest/, waiting for commit()
    partial,   // offset() bytes present (0 for a fresh download)
  };
  ~Ingest() override;

  State state() const { return state_; }
  const Digest& digest() const { return digest_; }
  std::uint64_t expected_size() const { return size_; }
  // Bytes already present: resume the download from here.
  std::uint64_t offset() const { return offset_; }

  // Forgets the partial data (the server would not resume).
  void restart();
  // Writes the bytes present so far into `sink` (resume of an unpack).
  void replay(ByteSink& sink) const;

  void write(const char* data, size_t size) override;
  using ByteSink::write;
  // Checks size and digest: on a mismatch the data is discarded and a
  // corrupt error names the expected and the actual digest. On success the
  // data waits in ingest/ for ContentStore::commit().
  void close() override;
  // Keeps the partial data for a later resume and releases the lock.
  void abort() noexcept override;
  // Deletes the partial data.
  void discard() noexcept;

 private:
  friend class ContentStore;
  Ingest(const ContentStore& store, Digest digest, std::uint64_t size);
  void open_partial();
  void remove_files() noexcept;

  const ContentStore& store_;
  Digest digest_;
  std::uint64_t size_;
  std::filesystem::path dir_;
  std::optional<FileLock> lock_;
  UniqueFd data_;
  Hasher hasher_;
  std::uint64_t offset_ = 0;
  State state_ = State::partial;
};

// Writes a blob of unknown digest into ingest/, hashing it; commit() moves
// it into the store under its digest. Deleted if never committed.
class BlobWriter : public ByteSink {
 public:
  ~BlobWriter() override;
  void write(const char* data, size_t size) override;
  using ByteSink::write;
  void close() override;
  void abort() noexcept override;

  // After close().
  const Digest& digest() const { return digest_; }
  std::uint64_t size() const { return size_; }
  // Reads the written bytes back (after close): whole, refusing more than
  // max_size, or only the first `count`.
  std::string read(size_t max_size) const;
  std::string head(size_t count) const;
  // Moves the blob into the store; with `expected`, refuses another digest.
  Digest commit(const std::optional<Digest>& expected = std::nullopt);

 private:
  friend class ContentStore;
  explicit BlobWriter(const ContentStore& store);

  const ContentStore& store_;
  std::filesystem::path temp_;
  UniqueFd fd_;
  Hasher hasher_;
  Digest digest_;
  std::uint64_t size_ = 0;
  bool closed_ = false;
};

}  // namespace skiff
