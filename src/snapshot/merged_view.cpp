#include "snapshot/merged_view.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "core/error.h"
#include "snapshot/fs_util.h"
#include "snapshot/whiteout.h"

namespace skiff::snapshot {

namespace {
bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool is_opaque(int dir_fd) {
  char value[4];
  return ::fgetxattr(dir_fd, overlay_opaque_xattr, value, sizeof value) == 1 && value[0] == 'y';
}

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

Xattrs portable_xattrs(Xattrs xattrs) {
  std::erase_if(xattrs, [](const auto& x) { return x.first.starts_with(overlay_xattr_prefix); });
  return xattrs;
}

Xattrs xattrs_of(int dir_fd, const std::string& name, const struct stat& st) {
  if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0)));
    if (!fd) fail_errno("open " + name);
    return portable_xattrs(read_xattrs_fd(fd.get()));
  }
  return portable_xattrs(read_xattrs_at(dir_fd, name));
}
}  // namespace

void add_entry_from(TarWriter& writer, const std::string& path, int dir_fd, const std::string& name,
                    const struct stat& st) {
  if (S_ISREG(st.st_mode)) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) fail_errno("open " + path);
    writer.add(path, st, fd.get(), "", read_xattrs_fd(fd.get()));
  } else if (S_ISLNK(st.st_mode)) {
    writer.add(path, st, -1, read_link_at(dir_fd, name), read_xattrs_at(dir_fd, name));
  } else {
    writer.add(path, st, -1, "", xattrs_of(dir_fd, name, st));
  }
}

MergedView::MergedView(const std::vector<std::string>& layers) {
  for (const auto& layer : layers) {
    UniqueFd fd(::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) fail_errno("open snapshot " + layer);
    roots_.push_back(std::move(fd));
  }
}

std::vector<std::pair<std::string, MergedView::Pick>> MergedView::visible_children(const Sources& sources) {
  std::map<std::string, Pick> picks;
  for (size_t i = 0; i < sources.list.size(); ++i) {
    for (auto& name : list_directory(sources.list[i].fd)) {
      if (picks.count(name)) continue;  // a layer above has it
      struct stat st;
      if (::fstatat(sources.list[i].fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("stat " + name);
      picks.emplace(std::move(name), Pick{i, st});
    }
  }
  std::vector<std::pair<std::string, Pick>> visible;
  for (auto& [name, pick] : picks)
    if (!is_whiteout(pick.st)) visible.emplace_back(name, pick);
  return visible;
}

MergedView::Sources MergedView::child_sources(const Sources& sources, size_t from, const std::string& name) {
  Sources children;
  for (size_t j = from; j < sources.list.size(); ++j) {
    struct stat st;
    if (::fstatat(sources.list[j].fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) break;  // a file or whiteout hides everything below
    UniqueFd fd(::openat(sources.list[j].fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) fail_errno("open " + name);
    bool opaque = is_opaque(fd.get());
    children.list.push_back({sources.list[j].layer, fd.get()});
    children.owned.push_back(std::move(fd));
    if (opaque) break;
  }
  return children;
}

void MergedView::walk_dir(const std::string& relative, const Sources& sources,
                          const std::function<void(const Entry&)>& visit) {
  for (const auto& [name, pick] : visible_children(sources)) {
    const Source& source = sources.list[pick.source];
    std::string path = join_path(relative, name);
    visit(Entry{path, name, pick.st, source.fd, source.layer});
    if (S_ISDIR(pick.st.st_mode)) walk_dir(path, child_sources(sources, pick.source, name), visit);
  }
}

void MergedView::walk(const std::function<void(const Entry&)>& visit) {
  Sources roots;
  for (size_t i = 0; i < roots_.size(); ++i) roots.list.push_back({i, roots_[i].get()});
  walk_dir("", roots, visit);
}

void MergedView::write(TarWriter& writer) {
  walk([&](const Entry& e) { add_entry_from(writer, e.path, e.dir_fd, e.name, e.st); });
}

// ---- comparing a copied tree with its parents --------------------------------

namespace {
bool same_metadata(int tree_dir, const std::string& name, const struct stat& a, int lower_dir, const struct stat& b) {
  if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) return false;
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid) return false;
  if (!S_ISDIR(a.st_mode)) {
    if (a.st_size != b.st_size || a.st_rdev != b.st_rdev) return false;
    // The copy kept every mtime; a write since then moved it.
    if (a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec) return false;
  }
  if (S_ISLNK(a.st_mode) && read_link_at(tree_dir, name) != read_link_at(lower_dir, name)) return false;
  return xattrs_of(tree_dir, name, a) == xattrs_of(lower_dir, name, b);
}
}  // namespace

void MergedView::compare_dir(int tree_fd, const std::string& relative, const Sources& sources, TarWriter& writer) {
  auto lower = visible_children(sources);
  std::map<std::string, Pick> lower_by_name(lower.begin(), lower.end());
  std::vector<std::pair<std::string, struct stat>> tree;
  for (auto& name : list_directory(tree_fd)) {
    struct stat st;
    if (::fstatat(tree_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) fail_errno("stat " + name);
    tree.emplace_back(std::move(name), st);
  }
  // Deletions first, as in an overlay diff.
  size_t t = 0;
  for (const auto& [name, pick] : lower) {
    while (t < tree.size() && tree[t].first < name) ++t;
    if (t < tree.size() && tree[t].first == name) continue;
    writer.add_whiteout(join_path(relative, whiteout_name_for(name)), pick.st);
  }
  for (const auto& [name, st] : tree) {
    std::string path = join_path(relative, name);
    auto it = lower_by_name.find(name);
    bool changed = true;
    Sources below;
    if (it != lower_by_name.end()) {
      const Source& source = sources.list[it->second.source];
      changed = !same_metadata(tree_fd, name, st, source.fd, it->second.st);
      if (S_ISDIR(st.st_mode) && S_ISDIR(it->second.st.st_mode)) below = child_sources(sources, it->second.source, name);
    }
    if (changed) add_entry_from(writer, path, tree_fd, name, st);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(tree_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) fail_errno("open " + path);
      compare_dir(sub.get(), path, below, writer);
    }
  }
}

void MergedView::write_changes(const std::string& tree, TarWriter& writer) {
  UniqueFd tree_fd(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tree_fd) fail_errno("open " + tree);
  Sources roots;
  for (size_t i = 0; i < roots_.size(); ++i) roots.list.push_back({i, roots_[i].get()});
  compare_dir(tree_fd.get(), "", roots, writer);
}

}  // namespace skiff::snapshot
