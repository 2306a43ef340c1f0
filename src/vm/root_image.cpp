#include "vm/root_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <optional>
#include <thread>

#include "core/digest.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/subprocess.h"
#include "core/thread.h"

namespace skiff::vm {

namespace {

// The virtual disk size the guest sees while the image is still being
// written: reads past what mkfs.erofs wrote return zeros, and erofs only
// reads the blocks its superblock names.
constexpr off_t kPlaceholderSize = off_t(1) << 40;

// The cache file of a key: keys may be long, file names stay short.
std::string cache_stem(const std::string& key) { return sha256_of(key).hex().substr(0, 32); }

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > 200) return false;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_' || c == '.')) return false;
  return key[0] != '.';
}

void make_erofs(const fs::path& rootfs, const fs::path& image) {
  auto result = run_command({"mkfs.erofs", "--quiet", image.string(), rootfs.string()});
  if (result.exit_code != 0) {
    std::string detail(result.err);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    fail(ErrorKind::unavailable, "build the VM root image of {}: mkfs.erofs exited with {}: {}", rootfs.string(),
         result.exit_code, detail.substr(detail.rfind('\n') == std::string::npos ? 0 : detail.rfind('\n') + 1));
  }
}

// mkfs.erofs truncates its output first: done on the file qemu already has
// open, that shrinks the guest's disk to whatever was written when qemu
// looked (seen as stale superblocks and corrupt directories). So mkfs
// writes beside it, and the bytes are copied into the placeholder, which
// is never truncated below what the guest may read.
void build_into_placeholder(const fs::path& rootfs, const fs::path& placeholder) {
  fs::path staging = placeholder;
  staging += ".mkfs";
  struct Unlink {
    const fs::path& path;
    ~Unlink() { ::unlink(path.c_str()); }
  } remove_staging{staging};
  make_erofs(rootfs, staging);
  UniqueFd from(::open(staging.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd to(::open(placeholder.c_str(), O_WRONLY | O_CLOEXEC));
  struct stat st;
  if (!from || !to || ::fstat(from.get(), &st) != 0) fail_errno("open the VM root image " + staging.string());
  loff_t in = 0, out = 0;
  while (in < st.st_size) {
    ssize_t n = ::copy_file_range(from.get(), &in, to.get(), &out, static_cast<size_t>(st.st_size - in), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno("copy the VM root image into " + placeholder.string());
  }
  // The guest reads only the blocks the superblock names, all below the
  // real size now; later boots see the right size.
  if (::fsync(to.get()) != 0 || ::ftruncate(to.get(), st.st_size) != 0) fail_errno("finish " + placeholder.string());
}

}  // namespace

struct RootImage::State {
  fs::path path;        // what qemu opens
  fs::path final_path;  // where a keyed image lands once built
  bool cached = false;
  std::optional<FileLock> lock;
  std::thread builder;
  std::exception_ptr error;
  bool joined = false;
};

RootImage::RootImage(const fs::path& cache_dir, RootSource source, const std::string& key,
                     const fs::path& scratch_dir)
    : state_(std::make_unique<State>()) {
  struct stat st;
  if (!source.make && (::stat(source.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)))
    fail(ErrorKind::not_found, "VM root filesystem {}: not a directory", source.dir.string());
  if (!find_program("mkfs.erofs"))
    fail(ErrorKind::unavailable, "VM isolation needs mkfs.erofs: apt-get install erofs-utils");
  if (!key.empty() && !valid_key(key))
    fail(ErrorKind::invalid_argument, "VM root image key \"{}\": use letters, digits and :-_. only", key);

  fs::path final_path;
  if (!key.empty()) {
    ensure_dir(cache_dir);
    final_path = cache_dir / (cache_stem(key) + ".erofs");
    if (fs::exists(final_path)) {
      state_->path = final_path;
      state_->cached = true;
      state_->joined = true;
      return;
    }
    fs::path lock_path = cache_dir / (final_path.stem().string() + ".lock");
    auto lock = FileLock::try_lock(lock_path);
    if (!lock.valid()) {
      // Another skiff builds the same image: wait for it, then use it.
      FileLock wait(lock_path);
      if (fs::exists(final_path)) {
        state_->path = final_path;
        state_->cached = true;
        state_->joined = true;
        return;
      }
      lock = std::move(wait);
    }
    state_->lock.emplace(std::move(lock));
    state_->path = cache_dir / (".build-" + final_path.filename().string());
  } else {
    state_->path = scratch_dir / "root.erofs";
  }
  {
    UniqueFd fd(::open(state_->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd || ::ftruncate(fd.get(), kPlaceholderSize) != 0) fail_errno("create " + state_->path.string());
  }
  state_->final_path = final_path;
  State* state = state_.get();
  state_->builder = start_thread_without_signals([state, source = std::move(source), scratch_dir] {
    try {
      if (source.make) {
        TempDir tree(scratch_dir, "rootfs-");
        ::chmod(tree.path().c_str(), 0755);  // the guest's "/" (mkdtemp made it 0700)
        source.make(tree.path());
        build_into_placeholder(tree.path(), state->path);
      } else {
        build_into_placeholder(source.dir, state->path);
      }
    } catch (...) {
      state->error = std::current_exception();
    }
  });
}

RootImage::~RootImage() {
  if (!state_ || state_->joined) return;
  state_->builder.join();
  // Never finished: the placeholder must not outlive us (the lock goes too).
  std::error_code ec;
  if (!state_->final_path.empty()) fs::remove(state_->path, ec);
}

const fs::path& RootImage::path() const { return state_->path; }

bool RootImage::cached() const { return state_->cached; }

void RootImage::wait_ready() {
  if (state_->joined) {
    if (state_->error) std::rethrow_exception(state_->error);
    return;
  }
  state_->builder.join();
  state_->joined = true;
  std::error_code ec;
  if (state_->error) {
    if (!state_->final_path.empty()) fs::remove(state_->path, ec);
    state_->lock.reset();
    std::rethrow_exception(state_->error);
  }
  if (!state_->final_path.empty()) {
    // qemu keeps the open file; the cache gets it under its final name.
    fs::rename(state_->path, state_->final_path);
    state_->lock.reset();
  }
}

namespace {

std::uint64_t allocated_bytes(const fs::path& file) {
  struct stat st;
  return ::stat(file.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_blocks) * 512 : 0;
}

std::set<std::string> stems_of(const std::set<std::string>& keys) {
  std::set<std::string> stems;
  for (const auto& key : keys) stems.insert(cache_stem(key));
  return stems;
}

}  // namespace

CachedRootImages cached_root_images(const fs::path& cache_dir, const std::set<std::string>* keys) {
  CachedRootImages cached;
  std::error_code ec;
  if (!fs::is_directory(cache_dir, ec)) return cached;
  std::set<std::string> wanted = keys ? stems_of(*keys) : std::set<std::string>{};
  for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
    std::string name = entry.path().filename();
    if (!name.ends_with(".erofs") || name.starts_with(".")) continue;
    if (keys && !wanted.count(entry.path().stem())) continue;
    ++cached.images;
    cached.bytes += allocated_bytes(entry.path());
  }
  return cached;
}

CachedRootImages prune_root_images(const fs::path& cache_dir, const std::set<std::string>& keep) {
  CachedRootImages pruned;
  std::error_code ec;
  if (!fs::is_directory(cache_dir, ec)) return pruned;
  std::set<std::string> kept_stems = stems_of(keep);
  for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
    std::string name = entry.path().filename();
    if (!name.ends_with(".erofs")) continue;
    std::string stem = entry.path().stem();
    bool leftover_build = stem.starts_with(".build-");
    if (leftover_build) stem = stem.substr(7);
    if (!leftover_build && kept_stems.count(stem)) continue;
    // A skiff building this image holds its lock; a running VM that
    // booted from it keeps its open file whatever happens to the name.
    fs::path lock_path = cache_dir / (stem + ".lock");
    FileLock lock = FileLock::try_lock(lock_path);
    if (!lock.valid()) continue;
    std::uint64_t bytes = allocated_bytes(entry.path());
    // The lock file stays: a skiff waiting on it must not end up holding
    // a lock nobody else can see.
    if (!fs::remove(entry.path(), ec)) continue;
    ++pruned.images;
    pruned.bytes += bytes;
  }
  return pruned;
}

}  // namespace skiff::vm
