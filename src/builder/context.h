// The trees COPY and ADD read from — the build context (with .dockerignore
// applied) or another stage's root filesystem — walked without following
// symlinks out of them, and content-hashed for the build cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "builder/dockerignore.h"
#include "core/digest.h"
#include "core/fd.h"

namespace skiff::builder {

struct TreeEntry {
  enum class Type { file, directory, symlink, other };
  std::string path;  // relative to the tree's root, '/'-separated: "src/main.cpp"
  Type type = Type::file;
  std::uint32_t mode = 0;  // permission and special bits (07777)
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::string link_target;  // symlinks
};

struct HashOptions {
  // Include uid/gid: COPY --from=stage keeps ownership; files from the
  // build context are owned by root (or --chown) in the image, so their
  // owners on the client do not matter.
  bool ownership = false;
  // COPY --exclude patterns (.dockerignore syntax), matched against paths
  // relative to each copied directory (or a copied file's base name).
  std::vector<std::string> excludes;
};

class SourceTree {
 public:
  // Throws not_found / invalid_argument naming `root`.
  explicit SourceTree(const std::filesystem::path& root, IgnoreMatcher ignore = {});

  // The build context at `root`: its ignore file is "<Dockerfile>.dockerignore"
  // next to the Dockerfile when that exists (BuildKit), else
  // "<root>/.dockerignore". `dockerfile` may be empty.
  static SourceTree context(const std::filesystem::path& root, const std::filesystem::path& dockerfile = {});

  const std::filesystem::path& root() const { return root_; }
  const IgnoreMatcher& ignore() const { return ignore_; }
  bool excluded(std::string_view path) const { return ignore_.excluded(path); }

  // Every entry below `dir` ("" : the whole tree) that is not excluded,
  // sorted, each directory before what it holds. A directory that is
  // excluded but holds re-included entries ("!" patterns) is listed too.
  std::vector<TreeEntry> walk(std::string_view dir = "") const;

  // What a client sends for a build: walk() plus the Dockerfile and the
  // ignore file themselves, which are sent even when .dockerignore excludes
  // them (docker does so), though COPY never sees them.
  std::vector<TreeEntry> files_to_send(const std::filesystem::path& dockerfile = {}) const;

  // The entry at `path` (a symlink is not followed); nullopt if absent or
  // excluded.
  std::optional<TreeEntry> stat(std::string_view path) const;

  // The path `path` designates once symlinks are followed inside the tree
  // (an absolute link target resolves against the tree's root, ".." stops
  // there). Throws invalid_argument for a symlink loop.
  std::string resolve(std::string_view path) const;

  // COPY/ADD sources: `pattern` is relative to the tree's root ("/" and ".."
  // cannot leave it), with Go filepath.Match wildcards in any component.
  // Returns the matching paths, sorted. Throws not_found when nothing
  // matches ("COPY src/*.c: no source files were found in the build
  // context" is the caller's wording; the message here names the path and
  // whether .dockerignore excludes it).
  std::vector<std::string> match(std::string_view pattern) const;

  // The content hash of copying `paths` (as match() returns them), in order:
  // for each, what the copy creates — a file under its base name, a
  // directory's entries relative to it, a top-level symlink followed —
  // with type, mode, size, owners (if asked), content digest or link
  // target; sorted; independent of timestamps. Excluded entries are left
  // out, as COPY leaves them out.
  Digest content_hash(const std::vector<std::string>& paths, const HashOptions& options = {}) const;

  // The digest of one regular file's content.
  Digest file_digest(std::string_view path) const;

  // ADD extracts a local source when it is a tar archive, plain or
  // compressed with gzip, bzip2, xz or zstd (docker decides by content, not
  // by name). libarchive reads the first header to decide.
  bool is_archive(std::string_view path) const;

  int fd() const { return root_fd_.get(); }

 private:
  std::filesystem::path root_;
  UniqueFd root_fd_;
  IgnoreMatcher ignore_;
};

}  // namespace skiff::builder
