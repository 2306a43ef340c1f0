// Path vocabulary shared by the slice rules and the .deb extractor: every
// path inside a root filesystem is spelled one way, relative to the root,
// with Debian's merged-/usr layout applied (bookworm's packages still ship
// /lib/x86_64-linux-gnu/libc.so.6; the tree holds it at usr/lib/…, reached
// through the /lib -> usr/lib link).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::base {

// The top-level directories that are links into /usr on a merged-/usr
// system: bin, sbin, lib, lib32, lib64, libx32.
const std::vector<std::string>& merged_usr_directories();

// "./lib/x86_64-linux-gnu/libc.so.6" or "/lib/…" -> "usr/lib/x86_64-linux-gnu/libc.so.6";
// "./" -> "" (the root itself). nullopt for a path that is not confined to
// the root: a ".." component (hostile or broken archive).
std::optional<std::string> tree_path(std::string_view path);

// Whether a rule path is well formed: absolute, no "." / ".." / empty
// components, "**" only as a whole component. Returns the reason it is not.
std::optional<std::string> invalid_rule_reason(std::string_view rule);

// Matches a tree path ("usr/lib/libc.so.6", root = "") against a rule glob
// ("/usr/lib/*.so.*"): "*", "?" and "[…]" within one component (fnmatch),
// "**" for any number of components, including none.
bool glob_match(std::string_view rule, std::string_view path);

// Whether `rule` has glob characters at all (a literal rule that matches
// nothing is a typo or a package change worth an error).
bool has_glob(std::string_view rule);

}  // namespace skiff::base
