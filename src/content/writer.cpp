#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/io.h"
#include "content/store.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff {

BlobWriter::BlobWriter(const ContentStore& store) : store_(store) {
  ensure_dir(store_.ingest_dir(), 0700);
  std::string pattern = (store_.ingest_dir() / "new-XXXXXX").string();
  fd_.reset(::mkostemp(pattern.data(), O_CLOEXEC));
  if (!fd_) fail_errno("create a blob in " + store_.ingest_dir().string());
  temp_ = pattern;
}

BlobWriter::~BlobWriter() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void BlobWriter::write(const char* data, size_t size) {
  if (closed_ || !fd_) fail(ErrorKind::internal, "blob writer: write after close");
  content::write_all(fd_.get(), data, size, temp_);
  hasher_.update(data, size);
  size_ += size;
}

void BlobWriter::close() {
  if (closed_) return;
  if (::fdatasync(fd_.get()) != 0) fail_errno("sync " + temp_.string());
  if (::fchmod(fd_.get(), 0444) != 0) fail_errno("chmod " + temp_.string());
  fd_.reset();
  digest_ = hasher_.digest();
  closed_ = true;
}

void BlobWriter::abort() noexcept {
  fd_.reset();
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

std::string BlobWriter::read(size_t max_size) const {
  if (size_ > max_size)
    fail(ErrorKind::unsupported, "{} is {} bytes, over the {} byte limit for manifests and configs", digest_.str(), size_,
         max_size);
  return head(max_size);
}

std::string BlobWriter::head(size_t count) const {
  UniqueFd fd(::open(temp_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail_errno("open " + temp_.string());
  std::string data;
  content::read_range(fd.get(), 0, std::min<std::uint64_t>(count, size_), temp_,
                      [&](const char* p, size_t n) { data.append(p, n); });
  return data;
}

Digest BlobWriter::commit(const std::optional<Digest>& expected) {
  close();
  if (temp_.empty()) fail(ErrorKind::internal, "blob writer: commit after abort");
  if (expected && *expected != digest_) {
    abort();
    fail(ErrorKind::corrupt, "{} digest mismatch (got {})", expected->str(), digest_.str());
  }
  std::filesystem::path target = store_.path(digest_);
  if (store_.contains(digest_)) {
    abort();
    return digest_;
  }
  ensure_dir(target.parent_path());
  if (::rename(temp_.c_str(), target.c_str()) != 0) fail_errno("store blob " + digest_.str());
  temp_.clear();
  return digest_;
}

}  // namespace skiff
