#include "snapshot/whiteout.h"

#include <climits>

#include "core/error.h"

namespace skiff::snapshot {

EntryPath EntryPath::parse(std::string_view name) {
  EntryPath path;
  if (name.find('\0') != std::string_view::npos) fail(ErrorKind::corrupt, "name contains a NUL byte");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view component = name.substr(start, end - start);
    start = end + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..")
      fail(ErrorKind::corrupt, "name has a \"..\" component: a layer may not reach outside its root");
    if (component.size() > NAME_MAX)
      fail(ErrorKind::corrupt, "a component is {} bytes long (the limit is {})", component.size(), NAME_MAX);
    path.components_.emplace_back(component);
  }
  for (size_t i = 0; i + 1 < path.components_.size(); ++i) {
    if (is_whiteout_name(path.components_[i]))
      fail(ErrorKind::corrupt, "directory component \"{}\" is a whiteout name", path.components_[i]);
  }
  for (const auto& c : path.components_) {
    if (!path.joined_.empty()) path.joined_ += '/';
    path.joined_ += c;
  }
  if (path.joined_.size() >= PATH_MAX)
    fail(ErrorKind::corrupt, "name is {} bytes long (the limit is {})", path.joined_.size(), PATH_MAX - 1);
  return path;
}

std::string_view EntryPath::parent() const {
  if (components_.size() <= 1) return {};
  return std::string_view(joined_).substr(0, joined_.size() - components_.back().size() - 1);
}

bool is_whiteout_name(std::string_view name) { return name.starts_with(whiteout_prefix); }

Whiteout classify_whiteout(std::string_view name) {
  if (!is_whiteout_name(name)) return {};
  if (name == opaque_whiteout_name) return {WhiteoutKind::opaque, {}};
  std::string_view target = name.substr(whiteout_prefix.size());
  if (target.empty() || target == "." || target == "..")
    fail(ErrorKind::corrupt, "whiteout \"{}\" names no entry", name);
  if (is_whiteout_name(target))
    fail(ErrorKind::corrupt, "whiteout \"{}\" uses the reserved \".wh..wh.\" prefix", name);
  return {WhiteoutKind::remove, std::string(target)};
}

std::string whiteout_name_for(std::string_view name) { return std::string(whiteout_prefix) + std::string(name); }

}  // namespace skiff::snapshot
