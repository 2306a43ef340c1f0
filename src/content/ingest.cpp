#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "content/io.h"
#include "content/store.h"
#include "core/error.h"
#include "core/fs.h"

namespace skiff {

namespace {
constexpr std::uint64_t unknown_size = std::numeric_limits<std::uint64_t>::max();
}

Ingest::Ingest(const ContentStore& store, Digest digest, std::uint64_t size)
    : store_(store),
      digest_(std::move(digest)),
      size_(size),
      dir_(store.ingest_dir() / digest_.hex()),
      hasher_(digest_.algorithm()) {
  // The holder deletes the directory (and its lock file) once the blob is
  // stored or discarded; a waiter then holds an orphan lock and starts over.
  for (;;) {
    ensure_dir(dir_, 0700);
    try {
      lock_.emplace(dir_ / "lock");
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::not_found) continue;
      throw;
    }
    if (lock_->still_linked(dir_ / "lock")) break;
    lock_.reset();
  }
  if (store_.contains(digest_)) {
    state_ = State::stored;
    offset_ = size_;
    remove_files();
    return;
  }
  struct stat st;
  if (::stat((dir_ / "verified").c_str(), &st) == 0 &&
      (size_ == unknown_size || static_cast<std::uint64_t>(st.st_size) == size_)) {
    state_ = State::verified;
    offset_ = static_cast<std::uint64_t>(st.st_size);
  }
}

Ingest::~Ingest() {
  data_.reset();
  lock_.reset();
}

void Ingest::open_partial() {
  if (state_ != State::partial) return;
  std::filesystem::path path = dir_ / "data";
  data_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!data_) fail_errno("open " + path.string());
  struct stat st;
  if (::fstat(data_.get(), &st) != 0) fail_errno("stat " + path.string());
  auto present = static_cast<std::uint64_t>(st.st_size);
  if (present > size_) {
    restart();
    return;
  }
  // Re-hash what an earlier attempt left: the hash state is not saved, and
  // the bytes are checked again anyway.
  content::read_range(data_.get(), 0, present, path, [&](const char* p, size_t n) { hasher_.update(p, n); });
  offset_ = present;
  if (offset_ == size_) {
    if (hasher_.digest() == digest_) {
      close();
    } else {
      restart();
    }
  }
}

void Ingest::restart() {
  if (state_ != State::partial) return;
  if (::ftruncate(data_.get(), 0) != 0) fail_errno("truncate " + (dir_ / "data").string());
  hasher_ = Hasher(digest_.algorithm());
  offset_ = 0;
}

void Ingest::replay(ByteSink& sink) const {
  if (state_ == State::stored) {
    store_.copy_to(digest_, sink);
    return;
  }
  std::filesystem::path path = dir_ / (state_ == State::verified ? "verified" : "data");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail_errno("open " + path.string());
  content::read_range(fd.get(), 0, offset_, path, [&](const char* p, size_t n) { sink.write(p, n); });
}

void Ingest::write(const char* data, size_t size) {
  if (state_ != State::partial || !data_) fail(ErrorKind::internal, "blob {}: write after close", digest_.str());
  if (offset_ + size > size_) {
    std::uint64_t got = offset_ + size;
    discard();
    fail(ErrorKind::corrupt, "{} size mismatch (expected {} bytes, got at least {})", digest_.str(), size_, got);
  }
  while (size > 0) {
    ssize_t n = ::pwrite(data_.get(), data, size, static_cast<off_t>(offset_));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write " + (dir_ / "data").string());
    }
    hasher_.update(data, static_cast<size_t>(n));
    data += n;
    size -= static_cast<size_t>(n);
    offset_ += static_cast<std::uint64_t>(n);
  }
}

void Ingest::close() {
  if (state_ != State::partial) return;
  if (offset_ != size_) {
    std::uint64_t got = offset_;
    discard();
    fail(ErrorKind::corrupt, "{} size mismatch (expected {} bytes, got {})", digest_.str(), size_, got);
  }
  Digest actual = hasher_.digest();
  if (actual != digest_) {
    discard();
    fail(ErrorKind::corrupt, "{} digest mismatch (got {})", digest_.str(), actual.str());
  }
  // Durable before it can be renamed into the store.
  if (::fdatasync(data_.get()) != 0) fail_errno("sync " + (dir_ / "data").string());
  if (::fchmod(data_.get(), 0444) != 0) fail_errno("chmod " + (dir_ / "data").string());
  data_.reset();
  if (::rename((dir_ / "data").c_str(), (dir_ / "verified").c_str()) != 0) fail_errno("rename in " + dir_.string());
  state_ = State::verified;
}

void Ingest::abort() noexcept {
  data_.reset();
  lock_.reset();
}

void Ingest::discard() noexcept {
  data_.reset();
  if (lock_) remove_files();
  lock_.reset();
  offset_ = 0;
}

void Ingest::remove_files() noexcept {
  // The lock goes last but one: a waiter that wakes up sees it unlinked.
  ::unlink((dir_ / "data").c_str());
  ::unlink((dir_ / "verified").c_str());
  ::unlink((dir_ / "lock").c_str());
  ::rmdir(dir_.c_str());
}

}  // namespace skiff
