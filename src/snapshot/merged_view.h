// A stack of snapshot directories read as overlayfs would show it, without
// mounting: the topmost layer holding a name wins, a 0/0 character device
// deletes the name below it, an opaque directory hides the directories
// below it. Used to flatten a chain (exports, VM root images, copied root
// filesystems) and, where overlayfs is missing, to diff a copied tree
// against its parents.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "core/fd.h"
#include "snapshot/tar_writer.h"

namespace skiff::snapshot {

class MergedView {
 public:
  // `layers`: snapshot fs directories, topmost first.
  explicit MergedView(const std::vector<std::string>& layers);

  struct Entry {
    std::string path;  // relative, "a/b"
    std::string name;  // last component
    struct stat st;
    int dir_fd;    // the directory holding it, in layer `layer`
    size_t layer;  // index into the layers, 0 = top
  };
  // Every visible entry, parents before children, siblings sorted.
  void walk(const std::function<void(const Entry&)>& visit);

  // The tree as one layer (no whiteouts).
  void write(TarWriter& writer);

  // Materialises the view into the empty directory `target_dir_fd`
  // (entries created as layer unpack creates them; file data copied with
  // copy_file_range, so reflink-capable filesystems share the blocks).
  void copy_into(int target_dir_fd);

  // Where overlayfs is missing: the differences between `tree` (a full
  // copy that was modified) and this view, as layer entries with whiteouts.
  void write_changes(const std::string& tree, TarWriter& writer);

 private:
  struct Source {
    size_t layer;
    int fd;
  };
  // The directories merged at one path, topmost first; owns descriptors
  // for everything below the roots.
  struct Sources {
    std::vector<Source> list;
    std::vector<UniqueFd> owned;
  };
  struct Pick {
    size_t source;
    struct stat st;
  };
  std::vector<std::pair<std::string, Pick>> visible_children(const Sources& sources);
  Sources child_sources(const Sources& sources, size_t from, const std::string& name);
  void walk_dir(const std::string& relative, const Sources& sources, const std::function<void(const Entry&)>& visit);
  void compare_dir(int tree_fd, const std::string& relative, const Sources& sources, TarWriter& writer);

  std::vector<UniqueFd> roots_;
};

// Adds the entry `name` of `dir_fd` to a layer, reading what its type needs.
void add_entry_from(TarWriter& writer, const std::string& path, int dir_fd, const std::string& name,
                    const struct stat& st);

}  // namespace skiff::snapshot
