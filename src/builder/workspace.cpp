#include "builder/workspace.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <functional>

#include "core/error.h"
#include "core/log.h"
#include "core/resolve.h"
#include "snapshot/fs_util.h"
#include "snapshot/whiteout.h"

namespace skiff::builder {

namespace {

// Names of build roots carry the pid of their process, so a later build can
// tell an abandoned one (its process is gone) from a running one.
std::string build_prefix() { return "build-" + std::to_string(::getpid()) + "-"; }

bool process_gone(std::string_view key) {
  // "build-<pid>-<random>"
  auto rest = key.substr(6);
  auto dash = rest.find('-');
  if (dash == std::string_view::npos) return false;
  pid_t pid = 0;
  for (char c : rest.substr(0, dash)) {
    if (c < '0' || c > '9') return false;
    pid = pid * 10 + (c - '0');
  }
  return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Walks `relative` ("etc/resolv.conf") from `root` without following any
// symlink; -1 when a component is missing or not a directory.
UniqueFd open_parent_nofollow(int root, const std::vector<std::string>& components) {
  UniqueFd current(::fcntl(root, F_DUPFD_CLOEXEC, 3));
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    UniqueFd next(::openat(current.get(), components[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return UniqueFd();
    current = std::move(next);
  }
  return current;
}

std::vector<std::string> components_of(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool empty_directory(int dir, const std::string& name) {
  UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  return fd && snapshot::list_directory(fd.get()).empty();
}

// Xattrs that make a directory differ from its lower copy: overlayfs's own
// bookkeeping (origin, impure) does not, an opaque mark does.
bool has_xattrs(int dir, const std::string& name) {
  for (const auto& [key, value] : snapshot::read_xattrs_at(dir, name)) {
    bool bookkeeping = key.starts_with(snapshot::overlay_xattr_prefix) && key != snapshot::overlay_opaque_xattr;
    if (!bookkeeping) return true;
  }
  return false;
}

// SOURCE_DATE_EPOCH for the snapshot too, not only the layer tar: a
// container of the image sees the timestamps the layer has.
void clamp_mtimes(int dir, std::int64_t epoch) {
  for (const auto& name : snapshot::list_directory(dir)) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd child(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (child) clamp_mtimes(child.get(), epoch);
    }
    if (st.st_mtim.tv_sec < epoch || (st.st_mtim.tv_sec == epoch && st.st_mtim.tv_nsec == 0)) continue;
    struct timespec times[2] = {{epoch, 0}, {epoch, 0}};
    ::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

}  // namespace

Workspace::Workspace(const std::filesystem::path& root_path)
    : root(root_path), images(root), snapshots(root), cache(images) {}

Digest LayerStack::chain() const {
  Digest chain;
  for (const auto& layer : layers) chain = snapshot::chain_id(chain, layer.diff_id);
  return chain;
}

std::string materialize(Workspace& workspace, const LayerStack& stack) {
  if (stack.layers.empty()) return "";
  Digest top = stack.chain();
  if (workspace.snapshots.stat(top.str())) return top.str();
  std::vector<snapshot::LayerFile> files;
  for (const auto& layer : stack.layers) {
    if (!workspace.images.content().contains(layer.digest))
      fail(ErrorKind::not_found, "layer {} is missing from the content store; run the build again with --no-cache",
           layer.digest.str());
    files.push_back({{layer.media_type, layer.digest, layer.diff_id, layer.size},
                     workspace.images.content().path(layer.digest)});
  }
  return workspace.snapshots.unpack_layers(files).str();
}

void remove_stale_build_roots(Workspace& workspace) {
  std::vector<std::string> stale;
  workspace.snapshots.walk([&](const snapshot::Info& info) {
    if (info.kind != snapshot::Kind::committed && info.key.starts_with("build-") && process_gone(info.key))
      stale.push_back(info.key);
  });
  for (const auto& key : stale) {
    auto dir = workspace.root.tmp_dir() / key;
    ::umount2((dir / "rootfs").c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    try {
      workspace.snapshots.remove(key);
      remove_tree(dir);
    } catch (const Error& e) {
      log::warn("remove the abandoned build root {}: {}", key, e.what());
    }
  }
}

// ---- writable roots ----------------------------------------------------------

WritableRoot::WritableRoot(Workspace& workspace, const LayerStack& parent)
    : workspace_(workspace), dir_(workspace.root.tmp_dir(), build_prefix()) {
  key_ = dir_.path().filename().string();
  rootfs_ = dir_.path() / "rootfs";
  ensure_dir(rootfs_, 0755);
  std::string parent_key = materialize(workspace, parent);
  auto mounts = workspace.snapshots.prepare(key_, parent_key);
  try {
    mount_ = snapshot::mount(mounts.at(0), rootfs_);
    fd_ = open_directory(rootfs_);
  } catch (...) {
    mount_ = snapshot::Mount();
    workspace.snapshots.remove(key_);
    throw;
  }
}

WritableRoot::~WritableRoot() {
  if (committed_) return;
  fd_.reset();
  mount_ = snapshot::Mount();
  try {
    if (workspace_.snapshots.stat(key_)) workspace_.snapshots.remove(key_);
  } catch (const Error& e) {
    log::warn("remove the build root {}: {}", key_, e.what());
  }
}

void WritableRoot::add_stubs(const std::vector<std::string>& absent_paths) {
  for (const auto& path : absent_paths) {
    auto parts = components_of(path);
    // Record the deepest part that exists and every directory above it: the
    // stub's creation copies them up into the upper directory.
    std::string prefix;
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string candidate = prefix.empty() ? parts[i] : prefix + "/" + parts[i];
      UniqueFd fd = open_in_root(fd_.get(), candidate, O_PATH | O_NOFOLLOW);
      struct stat st;
      if (!fd || ::fstat(fd.get(), &st) != 0) {
        stubs_.push_back(candidate);  // the first missing part; what is below goes with it
        break;
      }
      if (!S_ISDIR(st.st_mode)) break;
      bool known = std::any_of(parents_.begin(), parents_.end(), [&](const ParentState& p) { return p.path == candidate; });
      if (!known) parents_.push_back({candidate, st.st_mode & 07777, st.st_uid, st.st_gid});
      prefix = candidate;
    }
  }
}

void WritableRoot::remove_stubs() {
  if (stubs_.empty() && parents_.empty()) return;
  // The upper directory (overlay) or the whole tree (copy driver): either
  // way the stubs are in it, and it is ours once unmounted.
  UniqueFd upper = open_directory(workspace_.snapshots.fs_path(key_));
  auto remove_if_stub = [&](const std::string& path, bool must_match_parent) {
    auto parts = components_of(path);
    if (parts.empty()) return;
    UniqueFd dir = open_parent_nofollow(upper.get(), parts);
    if (!dir) return;
    const std::string& name = parts.back();
    struct stat st;
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (must_match_parent) {
      auto it = std::find_if(parents_.begin(), parents_.end(), [&](const ParentState& p) { return p.path == path; });
      bool unchanged = it != parents_.end() && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == it->mode &&
                       st.st_uid == it->uid && st.st_gid == it->gid && !has_xattrs(dir.get(), name);
      if (unchanged && empty_directory(dir.get(), name)) ::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR);
      return;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
      ::unlinkat(dir.get(), name.c_str(), 0);
    } else if (S_ISDIR(st.st_mode)) {
      // A directory stub may hold nested stubs (dev/pts under dev).
      std::function<void(int, const std::string&)> prune = [&](int parent, const std::string& entry) {
        UniqueFd fd(::openat(parent, entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return;
        for (const auto& child : snapshot::list_directory(fd.get())) {
          struct stat cst;
          if (::fstatat(fd.get(), child.c_str(), &cst, AT_SYMLINK_NOFOLLOW) != 0) continue;
          if (S_ISDIR(cst.st_mode)) prune(fd.get(), child);
          else if (S_ISREG(cst.st_mode) && cst.st_size == 0) ::unlinkat(fd.get(), child.c_str(), 0);
        }
        ::unlinkat(parent, entry.c_str(), AT_REMOVEDIR);  // fails, harmlessly, when not empty
      };
      prune(dir.get(), name);
    }
  };
  for (const auto& stub : stubs_) remove_if_stub(stub, false);
  // Only an upper directory has copied-up parents; a copied tree holds
  // the real ones.
  if (workspace_.snapshots.driver() != snapshot::Driver::overlay) return;
  // Deepest first, so a parent empties before it is looked at.
  std::vector<ParentState> parents = parents_;
  std::sort(parents.begin(), parents.end(), [](const ParentState& a, const ParentState& b) { return a.path > b.path; });
  for (const auto& parent : parents) remove_if_stub(parent.path, true);
}

std::optional<AssembledLayer> WritableRoot::commit(const LayerStack& parent, std::int64_t epoch,
                                                   const std::string& created_by,
                                                   snapshot::Compression compression) {
  auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };
  fd_.reset();
  mount_.unmount();
  remove_stubs();
  clamp_mtimes(open_directory(workspace_.snapshots.fs_path(key_)).get(), epoch);
  log::debug("build root {}: unmounted and cleaned in {} ms", key_, elapsed_ms());
  auto lease = workspace_.images.lease();
  auto writer = workspace_.images.content().writer();
  snapshot::DiffOptions options;
  options.compression = compression;
  options.source_date_epoch = epoch;
  snapshot::LayerInfo info = workspace_.snapshots.diff(key_, *writer, options);
  if (info.entries == 0) {
    writer->abort();
    return std::nullopt;  // the destructor removes the snapshot
  }
  writer->close();
  Digest blob = writer->commit();
  log::debug("build root {}: layer {} ({} entries, {} bytes as tar, {} compressed) after {} ms", key_, blob.short_hex(),
             info.entries, info.tar_size, info.size, elapsed_ms());
  Digest chain = snapshot::chain_id(parent.chain(), info.diff_id);
  auto& snapshots = workspace_.snapshots;
  bool exists = snapshots.stat(chain.str()).has_value();
  if (!exists) {
    try {
      snapshots.commit(chain.str(), key_);
      committed_ = true;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::conflict) throw;  // another build committed the same layer meanwhile
    }
  }
  if (!committed_) {
    snapshots.remove(key_);
    committed_ = true;
  }
  return AssembledLayer{blob, info.diff_id, info.size, info.media_type, created_by};
}

// ---- read-only roots -----------------------------------------------------------

ReadOnlyRoot::ReadOnlyRoot(Workspace& workspace, const LayerStack& stack)
    : workspace_(workspace), dir_(workspace.root.tmp_dir(), build_prefix()) {
  rootfs_ = dir_.path() / "rootfs";
  ensure_dir(rootfs_, 0755);
  std::string top = materialize(workspace, stack);
  if (top.empty()) return;
  key_ = dir_.path().filename().string();
  auto mounts = workspace.snapshots.view(key_, top);
  try {
    mount_ = snapshot::mount(mounts.at(0), rootfs_);
  } catch (...) {
    mount_ = snapshot::Mount();
    workspace.snapshots.remove(key_);
    throw;
  }
}

ReadOnlyRoot::~ReadOnlyRoot() {
  mount_ = snapshot::Mount();
  if (key_.empty()) return;
  try {
    workspace_.snapshots.remove(key_);
  } catch (const Error& e) {
    log::warn("remove the build view {}: {}", key_, e.what());
  }
}

}  // namespace skiff::builder
