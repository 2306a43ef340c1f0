#include "snapshot/tree_state.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "core/digest.h"
#include "core/fs.h"

namespace skiff::test {

namespace {
std::vector<std::pair<std::string, std::string>> xattrs_of(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  char names[65536];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  if (n <= 0) return out;
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    char value[65536];
    ssize_t v = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
    out.emplace_back(name, v >= 0 ? std::string(value, static_cast<size_t>(v)) : "<unreadable>");
  }
  std::sort(out.begin(), out.end());
  return out;
}

void walk(const std::filesystem::path& root, const std::string& relative, TreeState& state) {
  std::filesystem::path path = relative.empty() ? root : root / relative;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  EntryState e;
  e.inode = st.st_ino;
  e.device = st.st_dev;
  e.mode = st.st_mode;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.links = st.st_nlink;
  e.size = st.st_size;
  e.blocks = st.st_blocks;
  e.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  e.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
  e.rdev = st.st_rdev;
  e.xattrs = xattrs_of(path.string());
  if (S_ISREG(st.st_mode)) e.content_hash = sha256_of(read_file(path)).str();
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n >= 0) e.link_target.assign(target, static_cast<size_t>(n));
  }
  state[relative] = e;
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> children;
    for (const auto& child : std::filesystem::directory_iterator(path)) children.push_back(child.path().filename());
    std::sort(children.begin(), children.end());
    for (const auto& child : children) walk(root, relative.empty() ? child : relative + "/" + child, state);
  }
}

std::string describe_mode(mode_t mode) { return fmt::format("{:o}", mode); }
}  // namespace

TreeState record_tree(const std::filesystem::path& root) {
  TreeState state;
  walk(root, "", state);
  std::map<std::pair<dev_t, ino_t>, std::string> first;
  for (auto& [path, e] : state) {
    if (S_ISDIR(e.mode) || e.links < 2) continue;
    auto [it, inserted] = first.emplace(std::make_pair(e.device, e.inode), path);
    e.hardlink_group = it->second;
  }
  return state;
}

std::vector<std::string> compare_trees(const TreeState& before, const TreeState& after, const CompareOptions& o) {
  std::vector<std::string> diffs;
  for (const auto& [path, b] : before) {
    if (path.empty() && !o.root_entry) continue;
    auto it = after.find(path);
    std::string name = path.empty() ? "(root)" : path;
    if (it == after.end()) {
      diffs.push_back(name + ": missing");
      continue;
    }
    const EntryState& a = it->second;
    auto differ = [&](const std::string& what, const std::string& x, const std::string& y) {
      if (x != y) diffs.push_back(fmt::format("{}: {} {} -> {}", name, what, x, y));
    };
    differ("mode", describe_mode(b.mode), describe_mode(a.mode));
    differ("owner", fmt::format("{}:{}", b.uid, b.gid), fmt::format("{}:{}", a.uid, a.gid));
    if (!S_ISDIR(b.mode)) differ("size", std::to_string(b.size), std::to_string(a.size));
    differ("content", b.content_hash, a.content_hash);
    differ("symlink target", b.link_target, a.link_target);
    differ("rdev", std::to_string(b.rdev), std::to_string(a.rdev));
    std::string bx, ax;
    for (const auto& [k, v] : b.xattrs) bx += k + "=" + v + ";";
    for (const auto& [k, v] : a.xattrs) ax += k + "=" + v + ";";
    differ("xattrs", bx, ax);
    differ("hard link group", b.hardlink_group, a.hardlink_group);
    if (o.blocks && S_ISREG(b.mode)) differ("allocated blocks", std::to_string(b.blocks), std::to_string(a.blocks));
    // An overlay whiteout's own times are never visible.
    bool whiteout = S_ISCHR(b.mode) && b.rdev == 0;
    if (o.mtimes && (o.directory_mtimes || !S_ISDIR(b.mode)) && !whiteout) {
      long long unit = o.mtime_seconds ? 1000000000LL : 1;
      differ("mtime", std::to_string(b.mtime_ns / unit), std::to_string(a.mtime_ns / unit));
    }
    if (o.inodes_and_ctime) {
      differ("inode", std::to_string(b.inode), std::to_string(a.inode));
      differ("links", std::to_string(b.links), std::to_string(a.links));
      differ("ctime", std::to_string(b.ctime_ns), std::to_string(a.ctime_ns));
      differ("mtime", std::to_string(b.mtime_ns), std::to_string(a.mtime_ns));
    }
  }
  for (const auto& [path, a] : after)
    if (!before.count(path)) diffs.push_back((path.empty() ? "(root)" : path) + ": added");
  return diffs;
}

}  // namespace skiff::test
