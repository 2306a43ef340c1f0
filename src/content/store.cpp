#include "content/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "content/io.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff {

ContentStore::ContentStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path ContentStore::path(const Digest& digest) const {
  return dir_ / "blobs" / digest.algorithm() / digest.hex();
}

bool ContentStore::contains(const Digest& digest) const {
  struct stat st;
  return ::stat(path(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<std::uint64_t> ContentStore::size(const Digest& digest) const {
  struct stat st;
  if (::stat(path(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

UniqueFd ContentStore::open(const Digest& digest) const {
  UniqueFd fd(::open(path(digest).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT)
      fail(ErrorKind::not_found, "blob {} is missing from the content store; pull the image again", digest.str());
    fail_errno("open blob " + digest.str());
  }
  return fd;
}

std::string ContentStore::read(const Digest& digest, size_t max_size) const {
  UniqueFd fd = open(digest);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) fail_errno("stat blob " + digest.str());
  if (static_cast<std::uint64_t>(st.st_size) > max_size)
    fail(ErrorKind::unsupported, "blob {} is {} bytes, over the {} byte limit for manifests and configs",
         digest.str(), st.st_size, max_size);
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  content::read_range(fd.get(), 0, std::numeric_limits<std::uint64_t>::max(), path(digest),
                      [&](const char* p, size_t n) { data.append(p, n); });
  return data;
}

void ContentStore::copy_to(const Digest& digest, ByteSink& sink) const {
  UniqueFd fd = open(digest);
  content::read_range(fd.get(), 0, std::numeric_limits<std::uint64_t>::max(), path(digest),
                      [&](const char* p, size_t n) { sink.write(p, n); });
}

Digest ContentStore::put(std::string_view data) {
  Digest digest = sha256_of(data);
  put(digest, data);
  return digest;
}

void ContentStore::put(const Digest& expected, std::string_view data) {
  Hasher hasher(expected.algorithm());
  hasher.update(data);
  Digest actual = hasher.digest();
  if (actual != expected)
    fail(ErrorKind::corrupt, "blob {} digest mismatch (got {}); nothing was stored", expected.str(), actual.str());
  if (contains(expected)) return;
  std::filesystem::path target = path(expected);
  ensure_dir(target.parent_path());
  write_file_atomic(target, data, 0444);
}

void ContentStore::remove(const Digest& digest) {
  if (::unlink(path(digest).c_str()) != 0 && errno != ENOENT) fail_errno("remove blob " + digest.str());
}

std::vector<Digest> ContentStore::list() const {
  std::vector<Digest> digests;
  std::error_code ec;
  for (const auto& algorithm : std::filesystem::directory_iterator(dir_ / "blobs", ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(algorithm.path(), ec)) {
      std::string text = algorithm.path().filename().string() + ":" + entry.path().filename().string();
      if (Digest::valid(text)) digests.push_back(Digest::parse(text));
    }
  }
  return digests;
}

std::unique_ptr<Ingest> ContentStore::ingest(const Digest& digest, std::uint64_t size) {
  std::unique_ptr<Ingest> ingest(new Ingest(*this, digest, size));
  ingest->open_partial();
  return ingest;
}

void ContentStore::commit(const Digest& digest) {
  if (contains(digest)) return;
  // Taking the ingest lock waits for a writer still verifying it.
  Ingest ingest(*this, digest, std::numeric_limits<std::uint64_t>::max());
  if (ingest.state() == Ingest::State::stored) return;
  std::filesystem::path verified = ingest.dir_ / "verified";
  if (!std::filesystem::exists(verified))
    fail(ErrorKind::not_found, "blob {} was neither stored nor downloaded; pull it again", digest.str());
  std::filesystem::path target = path(digest);
  ensure_dir(target.parent_path());
  if (::rename(verified.c_str(), target.c_str()) != 0) fail_errno("store blob " + digest.str());
  ingest.discard();
}

std::unique_ptr<BlobWriter> ContentStore::writer() { return std::unique_ptr<BlobWriter>(new BlobWriter(*this)); }

}  // namespace skiff
