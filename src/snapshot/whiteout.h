// How tar entry names map onto a snapshot tree: cleaning a name into path
// components, and the OCI whiteout names (image-spec layer.md) with their
// overlayfs equivalents. Pure rules, no filesystem access.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skiff::snapshot {

inline constexpr std::string_view whiteout_prefix = ".wh.";
inline constexpr std::string_view opaque_whiteout_name = ".wh..wh..opq";
// overlayfs marks a directory that hides the lower layers' contents with
// this xattr; a deleted entry is a 0/0 character device.
inline constexpr const char* overlay_opaque_xattr = "trusted.overlay.opaque";
inline constexpr std::string_view overlay_xattr_prefix = "trusted.overlay.";

// A cleaned tar entry name: leading "/" and "./" dropped, empty and "."
// components dropped. No component is "..", contains NUL or exceeds NAME_MAX.
class EntryPath {
 public:
  // Throws Error(corrupt) saying why the name is refused.
  static EntryPath parse(std::string_view name);

  bool is_root() const { return components_.empty(); }
  const std::vector<std::string>& components() const { return components_; }
  const std::string& name() const { return components_.back(); }
  // "a/b/c"; "" for the root.
  const std::string& str() const { return joined_; }
  // "a/b" for "a/b/c"; "" for a top-level entry.
  std::string_view parent() const;

 private:
  std::vector<std::string> components_;
  std::string joined_;
};

enum class WhiteoutKind { none, remove, opaque };

struct Whiteout {
  WhiteoutKind kind = WhiteoutKind::none;
  std::string target;  // for remove: the name the whiteout deletes
};

// Classifies an entry's last component. Throws Error(corrupt) for names in the
// reserved ".wh." space that mean nothing (".wh.", ".wh..", ".wh..wh.x").
Whiteout classify_whiteout(std::string_view name);

// True for a name overlayfs or OCI reserve, which no layer may use for an
// intermediate directory.
bool is_whiteout_name(std::string_view name);

// The OCI name of a whiteout for `name` (".wh.NAME").
std::string whiteout_name_for(std::string_view name);

}  // namespace skiff::snapshot
