#include "snapshot/snapshotter.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "core/host_features.h"
#include "core/humanize.h"
#include "core/log.h"
#include "core/strings.h"
#include "snapshot/fs_util.h"
#include "snapshot/merged_view.h"
#include "snapshot/tar_writer.h"

namespace skiff::snapshot {

namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  parent TEXT REFERENCES snapshots(key),
  kind TEXT NOT NULL CHECK (kind IN ('committed', 'active', 'view')),
  diff_id TEXT,
  size INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
CREATE INDEX snapshots_by_parent ON snapshots(parent);
)sql";

constexpr const char* select_columns = "SELECT id, key, parent, kind, diff_id, size, created FROM snapshots";

Kind parse_kind(const std::string& text) {
  if (text == "active") return Kind::active;
  if (text == "view") return Kind::view;
  return Kind::committed;
}

Info read_info(const Statement& row) {
  Info info;
  info.id = row.integer(0);
  info.key = row.text(1);
  info.parent = row.optional_text(2).value_or("");
  info.kind = parse_kind(row.text(3));
  info.diff_id = row.optional_text(4).value_or("");
  info.size = static_cast<std::uint64_t>(row.integer(5));
  info.created = row.text(6);
  return info;
}

std::string now() { return format_rfc3339(std::chrono::system_clock::now()); }

std::optional<std::string> optional(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

UniqueFd open_dir_at(int root, const std::string& relative) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how)));
}

Usage measure(const std::filesystem::path& path) {
  Usage usage;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::function<void(int)> visit = [&](int dir) {
    for (const auto& name : list_directory(dir)) {
      struct stat st;
      if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.emplace(st.st_dev, st.st_ino).second) continue;
      usage.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
      usage.inodes += 1;
      if (S_ISDIR(st.st_mode)) {
        UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (sub) visit(sub.get());
      }
    }
  };
  UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return usage;
  struct stat st;
  if (::fstat(root.get(), &st) == 0) {
    usage.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    usage.inodes += 1;
  }
  visit(root.get());
  return usage;
}

}  // namespace

std::string to_string(Kind kind) {
  switch (kind) {
    case Kind::committed: return "committed";
    case Kind::active: return "active";
    case Kind::view: return "view";
  }
  return "committed";
}

std::string to_string(Driver driver) { return driver == Driver::overlay ? "overlay" : "copy"; }

// ---- driver detection --------------------------------------------------------

namespace {
// A successful overlay probe is remembered for this kernel: the mount and
// unmount it costs are otherwise paid by every `skiff run`.
std::filesystem::path overlay_probe_file(const std::filesystem::path& snapshots_dir) {
  return snapshots_dir / "overlay-probe";
}

std::string kernel_release() {
  struct utsname name{};
  return ::uname(&name) == 0 ? name.release : "";
}

bool overlay_probe_recorded(const std::filesystem::path& snapshots_dir) {
  auto recorded = read_file_if_exists(overlay_probe_file(snapshots_dir));
  return recorded && *recorded == "overlay " + kernel_release() + "\n";
}

void record_overlay_probe(const std::filesystem::path& snapshots_dir) {
  try {
    write_file_atomic(overlay_probe_file(snapshots_dir), "overlay " + kernel_release() + "\n", 0644, false);
  } catch (const Error&) {
    // Only an optimisation: the next command probes again.
  }
}
}  // namespace

DriverStatus detect_driver(const std::filesystem::path& snapshots_dir) {
  static std::mutex mutex;
  static std::map<std::string, DriverStatus> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(snapshots_dir.string()); it != cache.end()) return it->second;
  DriverStatus status;
  const char* forced = std::getenv("SKIFF_SNAPSHOTTER");
  if (forced && std::string_view(forced) == "copy") {
    status = {Driver::copy, "copy forced by SKIFF_SNAPSHOTTER=copy"};
  } else if (forced && std::string_view(forced) == "overlay") {
    status = {Driver::overlay, "overlay forced by SKIFF_SNAPSHOTTER=overlay"};
  } else if (!overlayfs_supported()) {
    status = {Driver::copy, "overlayfs is not in /proc/filesystems (modprobe overlay)"};
  } else if (overlay_probe_recorded(snapshots_dir)) {
    status = {Driver::overlay, "overlayfs on " + snapshots_dir.string()};
  } else {
    try {
      ensure_dir(snapshots_dir / "tmp", 0700);
      TempDir probe(snapshots_dir / "tmp", "probe-");
      for (const char* d : {"lower1", "lower2", "upper", "work", "merged"}) ensure_dir(probe.path() / d, 0755);
      MountSpec spec{"overlay", "overlay",
                     {"index=off", "redirect_dir=off", "metacopy=off",
                      "lowerdir=" + (probe.path() / "lower2").string() + ":" + (probe.path() / "lower1").string(),
                      "upperdir=" + (probe.path() / "upper").string(), "workdir=" + (probe.path() / "work").string()}};
      Mount mounted = mount(spec, probe.path() / "merged", OverlayMethod::plain);
      write_file_atomic(probe.path() / "merged" / "probe", "x", 0644, false);
      mounted.unmount();
      status = {Driver::overlay, "overlayfs on " + snapshots_dir.string()};
      record_overlay_probe(snapshots_dir);
    } catch (const Error& e) {
      status = {Driver::copy, std::string("overlayfs cannot be mounted here (") + e.what() + ")"};
    }
  }
  cache[snapshots_dir.string()] = status;
  return status;
}

// ---- chain unpack ------------------------------------------------------------

struct ChainUnpack::Layer {
  bool needed = false;
  bool delivering = false;
  std::optional<FileLock> lock;
  std::unique_ptr<TempDir> staging;  // holds fs/
  std::optional<UnpackResult> result;

  std::filesystem::path fs() const { return staging->path() / "fs"; }
  void reset_tree() {
    remove_tree(fs());
    ensure_dir(fs(), 0755);
    delivering = false;
  }
};

namespace {
// Forwards to the streaming unpack and reports the result to the chain.
class LayerSink final : public ByteSink {
 public:
  LayerSink(std::unique_ptr<StreamingUnpack> unpack, std::function<void(const UnpackResult*)> done)
      : unpack_(std::move(unpack)), done_(std::move(done)) {}
  ~LayerSink() override {
    if (!finished_) abort();
  }
  void write(const char* data, size_t size) override { unpack_->write(data, size); }
  void close() override {
    finished_ = true;
    try {
      unpack_->close();
    } catch (...) {
      done_(nullptr);
      throw;
    }
    done_(&unpack_->result());
  }
  void abort() noexcept override {
    finished_ = true;
    unpack_->abort();
    try {
      done_(nullptr);
    } catch (...) {
    }
  }

 private:
  std::unique_ptr<StreamingUnpack> unpack_;
  std::function<void(const UnpackResult*)> done_;
  bool finished_ = false;
};

UnpackOptions options_for(const LayerDescriptor& layer) {
  UnpackOptions options;
  options.whiteouts = WhiteoutMode::overlay;
  options.media_type = layer.media_type;
  options.expected_diff_id = layer.diff_id;
  options.name = layer.display_name();
  return options;
}
}  // namespace

ChainUnpack::ChainUnpack(Snapshotter& owner, std::vector<LayerDescriptor> layers)
    : owner_(&owner), layers_(std::move(layers)) {
  std::vector<Digest> diff_ids;
  for (const auto& layer : layers_) {
    if (layer.diff_id.empty())
      fail(ErrorKind::invalid_argument, "{}: no diff_id: the image config must list one per layer", layer.display_name());
    diff_ids.push_back(layer.diff_id);
  }
  chains_ = snapshot::chain_ids(diff_ids);
  ensure_dir(owner.dir_ / "tmp", 0700);
  ensure_dir(owner.dir_ / "locks", 0700);
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto slot = std::make_unique<Layer>();
    if (!owner.stat(chains_[i].str())) {
      // Locks are taken bottom-up by everyone, so two unpacks of chains that
      // share a prefix cannot wait for each other in a circle.
      slot->lock.emplace(owner.lock_path(chains_[i]));
      if (!owner.stat(chains_[i].str())) {
        slot->needed = true;
        slot->staging = std::make_unique<TempDir>(owner.dir_ / "tmp", "unpack-");
        ensure_dir(slot->fs(), 0755);
      } else {
        slot->lock.reset();  // another process committed it while we waited
      }
    }
    slots_.push_back(std::move(slot));
  }
}

ChainUnpack::ChainUnpack(ChainUnpack&& other) noexcept
    : owner_(other.owner_), layers_(std::move(other.layers_)), chains_(std::move(other.chains_)),
      slots_(std::move(other.slots_)) {}

ChainUnpack::~ChainUnpack() = default;  // TempDirs remove what was not committed

bool ChainUnpack::needed(size_t index) const { return slots_.at(index)->needed; }

void ChainUnpack::finished(size_t index, const UnpackResult& result) {
  std::lock_guard lock(mutex_);
  slots_.at(index)->result = result;
}

std::unique_ptr<ByteSink> ChainUnpack::sink(size_t index) {
  Layer* slot;
  {
    std::lock_guard lock(mutex_);
    slot = slots_.at(index).get();
    if (!slot->needed) fail(ErrorKind::invalid_argument, "{}: already unpacked", layers_[index].display_name());
    if (slot->delivering || slot->result)
      fail(ErrorKind::invalid_argument, "{}: a sink for it exists already", layers_[index].display_name());
    slot->delivering = true;
  }
  UniqueFd dir(::open(slot->fs().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) fail_errno("open " + slot->fs().string());
  auto unpack = std::make_unique<StreamingUnpack>(std::move(dir), options_for(layers_[index]));
  return std::make_unique<LayerSink>(std::move(unpack), [this, slot](const UnpackResult* result) {
    std::lock_guard lock(mutex_);
    if (result) {
      slot->result = *result;
      slot->delivering = false;
    } else {
      slot->reset_tree();  // a retry starts from an empty directory
    }
  });
}

void ChainUnpack::apply_file(size_t index, const std::filesystem::path& blob) {
  Layer* slot;
  {
    std::lock_guard lock(mutex_);
    slot = slots_.at(index).get();
    if (!slot->needed) return;
    if (slot->delivering || slot->result)
      fail(ErrorKind::invalid_argument, "{}: a sink for it exists already", layers_[index].display_name());
    slot->delivering = true;
  }
  try {
    auto result = apply_layer(blob, slot->fs(), options_for(layers_[index]));
    std::lock_guard lock(mutex_);
    slot->result = std::move(result);
    slot->delivering = false;
  } catch (...) {
    std::lock_guard lock(mutex_);
    slot->reset_tree();
    throw;
  }
}

Digest ChainUnpack::commit() {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Layer& slot = *slots_[i];
    if (!slot.needed) continue;
    if (!slot.result)
      fail(ErrorKind::invalid_argument, "{}: its bytes were never delivered; nothing above it was stored",
           layers_[i].display_name());
    std::string parent = i > 0 ? chains_[i - 1].str() : "";
    owner_->fix_implied_directories(slot.fs(), parent, slot.result->implied_directories);
    Info info;
    info.key = chains_[i].str();
    info.parent = parent;
    info.kind = Kind::committed;
    info.diff_id = slot.result->diff_id.str();
    info.size = slot.result->content_bytes;
    owner_->insert_and_publish(info, slot.staging->path());
    slot.staging->release();
    slot.staging.reset();
    slot.lock.reset();
    slot.needed = false;
  }
  return chains_.empty() ? Digest() : chains_.back();
}

// ---- snapshotter ---------------------------------------------------------------

Snapshotter::Snapshotter(Root& root) : root_(root), db_(root.db()), dir_(root.snapshots_dir()) {
  ensure_dir(dir_, 0700);
  db_.ensure_schema("snapshot", 1, schema);
}

Snapshotter::~Snapshotter() = default;

Driver Snapshotter::driver() {
  if (!driver_) driver_ = detect_driver(dir_).driver;
  return *driver_;
}

std::filesystem::path Snapshotter::snapshot_dir(std::int64_t id) const { return dir_ / std::to_string(id); }

std::filesystem::path Snapshotter::lock_path(const Digest& chain) const {
  return dir_ / "locks" / (chain.hex() + ".lock");
}

std::optional<Info> Snapshotter::stat(const std::string& key) {
  auto row = db_.prepare(std::string(select_columns) + " WHERE key = ?");
  row.bind(1, key);
  if (!row.step()) return std::nullopt;
  return read_info(row);
}

Info Snapshotter::require(const std::string& key) {
  auto info = stat(key);
  if (!info) fail(ErrorKind::not_found, "snapshot {} does not exist", key);
  return *info;
}

std::vector<Info> Snapshotter::chain_of(const std::string& key) {
  auto rows = db_.prepare(
      "WITH RECURSIVE chain(id, key, parent, kind, diff_id, size, created, depth) AS ("
      " SELECT id, key, parent, kind, diff_id, size, created, 0 FROM snapshots WHERE key = ?"
      " UNION ALL SELECT s.id, s.key, s.parent, s.kind, s.diff_id, s.size, s.created, c.depth + 1"
      " FROM snapshots s JOIN chain c ON s.key = c.parent)"
      " SELECT id, key, parent, kind, diff_id, size, created FROM chain ORDER BY depth");
  rows.bind(1, key);
  std::vector<Info> chain;
  while (rows.step()) chain.push_back(read_info(rows));
  if (chain.empty()) fail(ErrorKind::not_found, "snapshot {} does not exist", key);
  return chain;
}

std::filesystem::path Snapshotter::fs_path(const std::string& key) { return snapshot_dir(require(key).id) / "fs"; }

std::vector<std::string> Snapshotter::lower_dirs_of(const std::string& parent) {
  std::vector<std::string> dirs;
  if (parent.empty()) return dirs;
  for (const auto& info : chain_of(parent)) dirs.push_back((snapshot_dir(info.id) / "fs").string());
  return dirs;
}

std::int64_t Snapshotter::insert_and_publish(const Info& info, const std::filesystem::path& staged) {
  Transaction transaction(db_);
  auto insert = db_.prepare(
      "INSERT INTO snapshots (key, parent, kind, diff_id, size, created) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
  insert.bind_all(info.key, optional(info.parent), to_string(info.kind), optional(info.diff_id),
                  static_cast<std::int64_t>(info.size), now());
  if (!insert.step()) fail(ErrorKind::internal, "snapshot {}: insert returned no id", info.key);
  std::int64_t id = insert.integer(0);
  insert.run();
  auto target = snapshot_dir(id);
  remove_tree(target);  // left by a process killed between rename and commit
  if (::rename(staged.c_str(), target.c_str()) != 0) fail_errno("publish snapshot " + info.key);
  try {
    transaction.commit();
  } catch (...) {
    ::rename(target.c_str(), staged.c_str());
    throw;
  }
  return id;
}

void Snapshotter::fix_implied_directories(const std::filesystem::path& fs, const std::string& parent,
                                          const std::vector<std::string>& implied) {
  if (implied.empty() || parent.empty()) return;
  std::vector<UniqueFd> lowers;
  for (const auto& dir : lower_dirs_of(parent)) lowers.emplace_back(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd root(::open(fs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno("open " + fs.string());
  for (const auto& path : implied) {
    UniqueFd target = open_dir_at(root.get(), path);
    if (!target) continue;
    for (const auto& lower : lowers) {
      if (!lower) continue;
      UniqueFd source = open_dir_at(lower.get(), path);
      if (!source) {
        if (errno == ENOENT) continue;
        break;  // hidden by a file or whiteout in this layer
      }
      struct stat st;
      if (::fstat(source.get(), &st) != 0) break;
      // Overlayfs shows the topmost directory's attributes: the one this
      // layer had to create must look like the one below.
      if (::fchown(target.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(target.get(), st.st_mode & 07777) != 0)
        fail_errno("copy attributes of " + path);
      struct timespec times[2] = {st.st_atim, st.st_mtim};
      ::futimens(target.get(), times);
      break;
    }
  }
}

ChainUnpack Snapshotter::unpack(std::vector<LayerDescriptor> layers) { return ChainUnpack(*this, std::move(layers)); }

Digest Snapshotter::unpack_layers(const std::vector<LayerFile>& layers) {
  std::vector<LayerDescriptor> descriptors;
  for (const auto& layer : layers) descriptors.push_back(layer.descriptor);
  ChainUnpack chain = unpack(std::move(descriptors));
  std::vector<size_t> todo;
  for (size_t i = 0; i < layers.size(); ++i)
    if (chain.needed(i)) todo.push_back(i);
  size_t workers = std::min<size_t>(todo.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t k = next++; k < todo.size(); k = next++) {
        {
          std::lock_guard lock(failure_mutex);
          if (failure) return;
        }
        try {
          chain.apply_file(todo[k], layers[todo[k]].blob);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return chain.commit();
}

// ---- active snapshots and views ----------------------------------------------------

std::vector<MountSpec> Snapshotter::create_active(const std::string& key, const std::string& parent, Kind kind) {
  if (key.empty()) fail(ErrorKind::invalid_argument, "a snapshot needs a key");
  if (stat(key)) fail(ErrorKind::conflict, "snapshot {} already exists", key);
  if (!parent.empty()) {
    Info p = require(parent);
    if (p.kind != Kind::committed)
      fail(ErrorKind::invalid_argument, "snapshot {}: parent {} is {}, not committed", key, parent, to_string(p.kind));
  }
  ensure_dir(dir_ / "tmp", 0700);
  TempDir staging(dir_ / "tmp", "prepare-");
  ensure_dir(staging.path() / "fs", 0755);
  if (driver() == Driver::overlay) {
    if (kind == Kind::active) ensure_dir(staging.path() / "work", 0700);
  } else if (!parent.empty()) {
    flatten_into(parent, staging.path() / "fs");
  }
  Info info;
  info.key = key;
  info.parent = parent;
  info.kind = kind;
  insert_and_publish(info, staging.path());
  staging.release();
  return mounts(key);
}

std::vector<MountSpec> Snapshotter::prepare(const std::string& key, const std::string& parent) {
  return create_active(key, parent, Kind::active);
}

std::vector<MountSpec> Snapshotter::view(const std::string& key, const std::string& parent) {
  if (parent.empty()) fail(ErrorKind::invalid_argument, "view {}: a view needs a parent", key);
  return create_active(key, parent, Kind::view);
}

std::vector<MountSpec> Snapshotter::mounts(const std::string& key) { return mounts_for(require(key)); }

std::vector<MountSpec> Snapshotter::mounts_for(const Info& info) {
  if (info.kind == Kind::committed)
    fail(ErrorKind::invalid_argument, "snapshot {} is committed: mount a view of it instead", info.key);
  auto dir = snapshot_dir(info.id);
  std::string fs = (dir / "fs").string();
  bool writable = info.kind == Kind::active;
  auto bind = [&](const std::string& source) {
    MountSpec spec{"bind", source, {"rbind"}};
    spec.options.push_back(writable ? "rw" : "ro");
    return std::vector<MountSpec>{spec};
  };
  if (driver() == Driver::copy) return bind(fs);
  auto lowers = lower_dirs_of(info.parent);
  if (writable && lowers.empty()) return bind(fs);
  if (!writable && lowers.size() == 1) return bind(lowers.front());
  // The upper directory must be diffable as written: no redirects or
  // metadata-only copy-ups (whatever the kernel's defaults), no index.
  MountSpec spec{"overlay", "overlay", {"index=off", "redirect_dir=off", "metacopy=off"}};
  spec.options.push_back("lowerdir=" + join(lowers, ":"));
  if (writable) {
    spec.options.push_back("upperdir=" + fs);
    spec.options.push_back("workdir=" + (dir / "work").string());
  } else {
    spec.options.push_back("ro");
  }
  return {spec};
}

void Snapshotter::commit(const std::string& name, const std::string& key) {
  Info info = require(key);
  if (info.kind != Kind::active)
    fail(ErrorKind::invalid_argument, "snapshot {} is {}: only an active snapshot can be committed", key,
         to_string(info.kind));
  if (stat(name)) fail(ErrorKind::conflict, "commit {} as {}: a snapshot with that name exists", key, name);
  auto dir = snapshot_dir(info.id);
  if (driver() == Driver::overlay) {
    // The upper directory already is a layer in overlay form.
    Transaction transaction(db_);
    db_.prepare("UPDATE snapshots SET key = ?, kind = 'committed', created = ? WHERE id = ?")
        .bind_all(name, now(), info.id)
        .run();
    transaction.commit();
    remove_tree(dir / "work");
    return;
  }
  // Copy driver: the tree is a full copy; keep only what changed, in the
  // same overlay form as unpacked layers.
  ensure_dir(dir_ / "tmp", 0700);
  TempDir staging(dir_ / "tmp", "commit-");
  ensure_dir(staging.path() / "fs", 0755);
  auto layer_path = staging.path() / "layer.tar";
  {
    FileSink sink(layer_path);
    DiffOptions options;
    options.compression = Compression::none;
    diff(key, sink, options);
    sink.close();
  }
  UnpackOptions options;
  options.name = "commit of " + key;
  auto result = apply_layer(layer_path, staging.path() / "fs", options);
  std::filesystem::remove(layer_path);
  fix_implied_directories(staging.path() / "fs", info.parent, result.implied_directories);
  Info committed;
  committed.key = name;
  committed.parent = info.parent;
  committed.kind = Kind::committed;
  committed.diff_id = result.diff_id.str();
  committed.size = result.content_bytes;
  insert_and_publish(committed, staging.path());
  staging.release();
  remove(key);
}

void Snapshotter::remove(const std::string& key) {
  Info info = require(key);
  auto children = db_.prepare("SELECT key FROM snapshots WHERE parent = ? LIMIT 1");
  children.bind(1, key);
  if (children.step())
    fail(ErrorKind::conflict, "snapshot {} has children (e.g. {}); remove them first", key, children.text(0));
  ensure_dir(dir_ / "tmp", 0700);
  auto dir = snapshot_dir(info.id);
  auto doomed = dir_ / "tmp" / ("removed-" + std::to_string(info.id));
  Transaction transaction(db_);
  db_.prepare("DELETE FROM snapshots WHERE id = ?").bind_all(info.id).run();
  // Out of sight first (a rename), deleted after the commit: a crash
  // leaves garbage in tmp/, never a record without its directory.
  bool moved = ::rename(dir.c_str(), doomed.c_str()) == 0;
  transaction.commit();
  try {
    remove_tree(moved ? doomed : dir);
  } catch (const Error& e) {
    log::warn("snapshot {} removed, but its directory was not: {}", key, e.what());
  }
}

void Snapshotter::walk(const std::function<void(const Info&)>& visit) {
  auto rows = db_.prepare(std::string(select_columns) + " ORDER BY id");
  std::vector<Info> all;
  while (rows.step()) all.push_back(read_info(rows));
  for (const auto& info : all) visit(info);
}

Usage Snapshotter::usage(const std::string& key) { return measure(snapshot_dir(require(key).id)); }

// ---- diffs and exports --------------------------------------------------------

LayerInfo Snapshotter::diff(const std::string& key, ByteSink& out, const DiffOptions& options) {
  Info info = require(key);
  auto fs = snapshot_dir(info.id) / "fs";
  if (info.kind == Kind::view) fail(ErrorKind::invalid_argument, "snapshot {} is a view: it has no changes", key);
  // Committed snapshots and overlay upper directories are stored as diffs.
  if (info.kind == Kind::committed || driver() == Driver::overlay) return write_upper_diff(fs, out, options);
  MergedView parents(lower_dirs_of(info.parent));
  TarWriter writer(out, options);
  parents.write_changes(fs.string(), writer);
  return writer.finish();
}

LayerInfo Snapshotter::export_tar(const std::string& key, ByteSink& out, const DiffOptions& options) {
  Info info = require(key);
  std::vector<std::string> layers;
  if (info.kind == Kind::committed) {
    layers = lower_dirs_of(key);
  } else if (driver() == Driver::copy) {
    return write_directory_layer(snapshot_dir(info.id) / "fs", out, options);
  } else {
    if (info.kind == Kind::active) layers.push_back((snapshot_dir(info.id) / "fs").string());
    for (auto& l : lower_dirs_of(info.parent)) layers.push_back(std::move(l));
  }
  MergedView view(layers);
  TarWriter writer(out, options);
  view.write(writer);
  return writer.finish();
}

void Snapshotter::flatten_into(const std::string& key, const std::filesystem::path& target) {
  Info info = require(key);
  if (info.kind != Kind::committed) fail(ErrorKind::invalid_argument, "flatten {}: not a committed snapshot", key);
  MergedView view(lower_dirs_of(key));
  UniqueFd dir(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) fail_errno("open " + target.string());
  view.copy_into(dir.get());
}

// ---- garbage collection ---------------------------------------------------------

Snapshotter::PruneResult Snapshotter::prune(const std::set<std::string>& keep) {
  PruneResult result;
  std::vector<Info> all;
  walk([&](const Info& info) { all.push_back(info); });
  std::map<std::string, const Info*> by_key;
  for (const auto& info : all) by_key[info.key] = &info;
  std::set<std::string> live;
  auto keep_chain = [&](std::string key) {
    while (!key.empty() && live.insert(key).second) {
      auto it = by_key.find(key);
      key = it == by_key.end() ? "" : it->second->parent;
    }
  };
  for (const auto& key : keep) keep_chain(key);
  for (const auto& info : all)
    if (info.kind != Kind::committed) keep_chain(info.key);
  // Leaves first: a parent goes once its children are gone.
  std::set<std::string> remaining;
  for (const auto& info : all)
    if (!live.count(info.key)) remaining.insert(info.key);
  bool progress = true;
  while (progress && !remaining.empty()) {
    progress = false;
    for (auto it = remaining.begin(); it != remaining.end();) {
      bool has_child = std::any_of(all.begin(), all.end(), [&](const Info& i) {
        return i.parent == *it && (remaining.count(i.key) || live.count(i.key));
      });
      if (has_child) {
        ++it;
        continue;
      }
      const Info& info = *by_key[*it];
      result.reclaimed_bytes += measure(snapshot_dir(info.id)).bytes;
      remove(info.key);
      result.removed.push_back(info.key);
      it = remaining.erase(it);
      progress = true;
    }
  }
  // Directories no record points to, and temporary work older than a day
  // (a running unpack in another process is younger than that). A
  // directory is published by a rename just before its record commits, so
  // only one older than an hour is an orphan, not another process's snapshot.
  std::set<std::string> ids;
  walk([&](const Info& info) { ids.insert(std::to_string(info.id)); });
  auto now = std::chrono::system_clock::now();
  auto cutoff = now - std::chrono::hours(24);
  auto modified = [](const std::filesystem::path& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return std::chrono::system_clock::time_point::max();
    return std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
  };
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::string name = entry.path().filename();
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), ::isdigit);
    if (numeric && !ids.count(name) && modified(entry.path()) < now - std::chrono::hours(1)) {
      result.reclaimed_bytes += measure(entry.path()).bytes;
      remove_tree(entry.path());
    }
  }
  if (std::filesystem::exists(dir_ / "tmp")) {
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / "tmp")) {
      if (modified(entry.path()) < cutoff || entry.path().filename().string().starts_with("removed-")) {
        result.reclaimed_bytes += measure(entry.path()).bytes;
        remove_tree(entry.path());
      }
    }
  }
  return result;
}

}  // namespace skiff::snapshot
