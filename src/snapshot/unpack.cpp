#include "snapshot/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/thread.h"
#include "snapshot/byte_queue.h"
#include "snapshot/fs_util.h"
#include "snapshot/layer_reader.h"
#include "snapshot/tree_writer.h"

namespace skiff::snapshot {

namespace {

constexpr size_t read_buffer_size = 1u << 20;

// Entry names come from the layer: escape anything a terminal would act on.
std::string printable(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 300)) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  if (name.size() > 300) out += fmt::format("…({} bytes)", name.size());
  return out;
}

EntryMetadata metadata_of(struct archive_entry* entry) {
  EntryMetadata meta;
  meta.mode = archive_entry_perm(entry) & 07777;
  la_int64_t uid = archive_entry_uid(entry);
  la_int64_t gid = archive_entry_gid(entry);
  constexpr la_int64_t id_limit = std::numeric_limits<uid_t>::max();  // (uid_t)-1 means "no change"
  if (uid < 0 || uid >= id_limit || gid < 0 || gid >= id_limit)
    fail(ErrorKind::corrupt, "owner {}:{} is out of range", uid, gid);
  meta.uid = static_cast<uid_t>(uid);
  meta.gid = static_cast<gid_t>(gid);
  meta.mtime = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
  if (meta.mtime.tv_nsec < 0 || meta.mtime.tv_nsec >= 1000000000) meta.mtime.tv_nsec = 0;
  if (archive_entry_atime_is_set(entry)) {
    meta.atime = {archive_entry_atime(entry), archive_entry_atime_nsec(entry)};
    if (meta.atime.tv_nsec < 0 || meta.atime.tv_nsec >= 1000000000) meta.atime.tv_nsec = 0;
  } else {
    meta.atime.tv_nsec = UTIME_OMIT;
  }
  if (archive_entry_xattr_reset(entry) > 0) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK)
      meta.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  return meta;
}

std::uint64_t copy_data(LayerReader& reader, int fd) {
  struct archive* tar = reader.tar();
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  std::uint64_t end = 0;
  for (;;) {
    int rc = archive_read_data_block(tar, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return end;
    if (rc != ARCHIVE_OK) reader.fail_from_archive("reading file data");
    // Sparse entries arrive as data blocks at offsets; the gaps stay holes.
    if (size == 0) continue;
    pwrite_all(fd, block, size, static_cast<off_t>(offset));
    end = std::max(end, static_cast<std::uint64_t>(offset) + size);
  }
}

void apply_entry(LayerReader& reader, TreeWriter& tree, struct archive_entry* entry, const char* name,
                 UnpackResult& result) {
  EntryPath path = EntryPath::parse(name);
  if (!path.is_root()) {
    Whiteout whiteout = classify_whiteout(path.name());
    if (whiteout.kind != WhiteoutKind::none) {
      tree.whiteout(path, whiteout);
      return;
    }
  }
  if (const char* link = archive_entry_hardlink(entry)) {
    EntryPath target = [&] {
      try {
        return EntryPath::parse(link);
      } catch (const Error& e) {
        rethrow_with_context(e, "hard link target \"" + printable(link) + "\"");
      }
    }();
    tree.hardlink(path, target);
    return;
  }
  EntryMetadata meta = metadata_of(entry);
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR: tree.directory(path, meta); return;
    case AE_IFREG: {
      auto size = static_cast<std::uint64_t>(archive_entry_size(entry));
      tree.regular_file(path, meta, size, [&](int fd) { return copy_data(reader, fd); });
      result.content_bytes += size;
      return;
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      tree.symlink(path, target ? target : "", meta);
      return;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      mode_t type = archive_entry_filetype(entry);
      dev_t device = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
      tree.special(path, type, device, meta);
      return;
    }
    case AE_IFSOCK: return;  // a socket is only meaningful to the process that bound it
    default: fail(ErrorKind::corrupt, "unsupported entry type {:o}", archive_entry_filetype(entry));
  }
}

UnpackResult apply_from(ChunkSource source, int target_dir_fd, const UnpackOptions& options,
                        std::function<void()> stop_source = {}) {
  LayerReader reader(std::move(source), options.name, options.media_type, std::move(stop_source));
  TreeWriter tree(target_dir_fd, options.whiteouts);
  UnpackResult result;
  struct archive_entry* entry = nullptr;
  for (;;) {
    int rc = archive_read_next_header(reader.tar(), &entry);
    if (rc == ARCHIVE_EOF) break;
    // WARN: a name libarchive could not convert to the locale; it keeps
    // the raw bytes, which is what we want.
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      reader.fail_from_archive(fmt::format("broken tar stream after {} entries", result.entries));
    const char* name = archive_entry_pathname(entry);
    if (!name) fail(ErrorKind::corrupt, "{}: entry {} has no name", options.name, result.entries);
    try {
      apply_entry(reader, tree, entry, name, result);
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("{}: entry \"{}\"", options.name, printable(name)));
    }
    ++result.entries;
  }
  tree.finish();
  result.diff_id = reader.finish();
  result.compression = reader.compression();
  result.compressed_bytes = reader.compressed_bytes();
  result.tar_bytes = reader.tar_bytes();
  result.implied_directories = tree.implied_directories();
  if (options.expected_diff_id && *options.expected_diff_id != result.diff_id)
    fail(ErrorKind::corrupt, "{}: diff_id mismatch: the image config says {} but the layer's tar is {}; nothing was stored",
         options.name, options.expected_diff_id->str(), result.diff_id.str());
  return result;
}

}  // namespace

UnpackResult apply_layer(int layer_fd, int target_dir_fd, const UnpackOptions& options) {
  std::vector<char> buffer(read_buffer_size);
  ChunkSource source = [&]() -> std::string_view {
    for (;;) {
      ssize_t n = ::read(layer_fd, buffer.data(), buffer.size());
      if (n >= 0) return {buffer.data(), static_cast<size_t>(n)};
      if (errno != EINTR) fail_errno(options.name + ": read");
    }
  };
  return apply_from(source, target_dir_fd, options);
}

UnpackResult apply_layer(const std::filesystem::path& layer, const std::filesystem::path& directory,
                         const UnpackOptions& options) {
  UniqueFd layer_fd(::open(layer.c_str(), O_RDONLY | O_CLOEXEC));
  if (!layer_fd) fail_errno("open " + layer.string());
  ::posix_fadvise(layer_fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  UniqueFd dir_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) fail_errno("open " + directory.string());
  return apply_layer(layer_fd.get(), dir_fd.get(), options);
}

// ---- streaming ---------------------------------------------------------------

StreamingUnpack::StreamingUnpack(UniqueFd target_dir, UnpackOptions options)
    : target_dir_(std::move(target_dir)), options_(std::move(options)), queue_(std::make_unique<ByteQueue>()) {
  worker_ = start_thread_without_signals([this] { run(); });
}

StreamingUnpack::~StreamingUnpack() {
  if (worker_.joinable()) abort();
}

void StreamingUnpack::run() noexcept {
  try {
    result_ = apply_from([this] { return queue_->pop(); }, target_dir_.get(), options_, [this] { queue_->cancel(); });
  } catch (...) {
    failure_ = std::current_exception();
  }
  // Stop the producer: nothing will read what it writes from now on.
  queue_->cancel();
}

void StreamingUnpack::rethrow_failure() {
  if (worker_.joinable()) worker_.join();
  if (failure_) std::rethrow_exception(failure_);
}

void StreamingUnpack::write(const char* data, size_t size) {
  if (closed_) fail(ErrorKind::internal, "{}: write after close", options_.name);
  if (!queue_->push(data, size)) {
    rethrow_failure();
    // The unpack ended before the bytes did: trailing garbage after the
    // tar stream is part of the diff_id, so this is a short read of ours.
    fail(ErrorKind::internal, "{}: the unpack stopped before the stream ended", options_.name);
  }
}

void StreamingUnpack::close() {
  if (closed_) return;
  closed_ = true;
  queue_->finish();
  rethrow_failure();
}

void StreamingUnpack::abort() noexcept {
  closed_ = true;
  queue_->cancel();
  if (worker_.joinable()) worker_.join();
}

}  // namespace skiff::snapshot
