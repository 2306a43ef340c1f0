#include "base/paths.h"

#include <fnmatch.h>

#include <algorithm>

#include "core/strings.h"

namespace skiff::base {

const std::vector<std::string>& merged_usr_directories() {
  static const std::vector<std::string> dirs = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
  return dirs;
}

namespace {

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  for (auto& part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    out.push_back(std::move(part));
  }
  return out;
}

void apply_merged_usr(std::vector<std::string>& parts) {
  if (parts.empty()) return;
  const auto& dirs = merged_usr_directories();
  if (std::find(dirs.begin(), dirs.end(), parts.front()) != dirs.end()) parts.insert(parts.begin(), "usr");
}

bool match_components(const std::vector<std::string>& rule, size_t r, const std::vector<std::string>& path,
                      size_t p) {
  while (r < rule.size()) {
    if (rule[r] == "**") {
      // "**" takes zero or more components; try each split.
      for (size_t skip = p; skip <= path.size(); ++skip)
        if (match_components(rule, r + 1, path, skip)) return true;
      return false;
    }
    if (p >= path.size()) return false;
    if (::fnmatch(rule[r].c_str(), path[p].c_str(), 0) != 0) return false;
    ++r;
    ++p;
  }
  return p == path.size();
}

}  // namespace

std::optional<std::string> tree_path(std::string_view path) {
  auto parts = components(path);
  for (const auto& part : parts)
    if (part == "..") return std::nullopt;
  apply_merged_usr(parts);
  return join(parts, "/");
}

std::optional<std::string> invalid_rule_reason(std::string_view rule) {
  if (!rule.starts_with('/')) return "a path must be absolute (start with /)";
  if (rule == "/") return std::nullopt;
  if (rule.size() > 1 && rule.ends_with('/')) return "a path must not end with /";
  auto parts = split(rule.substr(1), '/');
  for (const auto& part : parts) {
    if (part.empty()) return "empty path component (//)";
    if (part == "." || part == "..") return "\".\" and \"..\" are not allowed in paths";
    if (part != "**" && part.find("**") != std::string::npos) return "\"**\" must be a whole path component";
  }
  return std::nullopt;
}

bool glob_match(std::string_view rule, std::string_view path) {
  auto rule_parts = components(rule);
  apply_merged_usr(rule_parts);
  auto path_parts = components(path);
  return match_components(rule_parts, 0, path_parts, 0);
}

bool has_glob(std::string_view rule) { return rule.find_first_of("*?[") != std::string_view::npos; }

}  // namespace skiff::base
