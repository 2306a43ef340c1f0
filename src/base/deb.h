// Reading Debian binary packages (.deb: an ar archive holding
// control.tar.* and data.tar.*, compressed with xz, zstd or gzip) with
// libarchive, and extracting chosen paths of data.tar into a RootTree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/tree.h"

namespace skiff::base {

struct DebInfo {
  std::string package, version, architecture;
  std::string source, source_version;  // the source package it was built from
  std::int64_t build_time = 0;          // newest mtime in control.tar: the build's SOURCE_DATE_EPOCH
};

// Reads the control fields (through dpkg-deb, Debian's own reader) and the
// build time of `deb`.
DebInfo read_deb_info(const std::filesystem::path& deb);

struct ExtractedEntry {
  std::string path;  // tree path, merged-/usr applied ("usr/lib/x86_64-linux-gnu/libc.so.6")
  enum class Type { file, directory, symlink, hardlink } type;
};

// Walks data.tar of `deb` and writes every entry `select(tree_path)` accepts
// into `tree`, owned by 0:0 with the package's mode bits. A hostile archive
// (".." paths, device nodes, links that try to leave the tree) is refused
// with a corrupt error; nothing is ever written outside the tree.
std::vector<ExtractedEntry> extract_deb(const std::filesystem::path& deb, RootTree& tree,
                                        const std::function<bool(const std::string&)>& select);

}  // namespace skiff::base
