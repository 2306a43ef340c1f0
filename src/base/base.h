// skiff's own base images, nano and core: their root filesystems, built
// reproducibly from Debian packages, and the image config that goes with
// them. What each flavour holds is data (images/<flavour>.slices, see
// images/README.md); this box fetches the packages with apt, cuts the
// slices out of them (or runs mmdebstrap for core), adds the generated
// files and makes the tree reproducible. Turning the tree into a layer and
// an image is the image store's job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/progress.h"

namespace skiff::base {

// The release used when none is named.
inline constexpr const char* default_release = "bookworm";

// Where the image definitions live: $SKIFF_IMAGES_DIR, else the source
// tree's images/ (a build-tree skiff), else /usr/share/skiff/images.
std::filesystem::path definitions_dir();

// The flavours there are definitions for ("core", "nano", "nano-noshell").
std::vector<std::string> flavours(const std::filesystem::path& dir = definitions_dir());

struct PackageVersion {
  std::string name, version;           // binary package: "libc6", "2.36-9+deb12u14"
  std::string source, source_version;  // its source package: "glibc", "2.36-9+deb12u14"
};

// The OCI image config fields of a base image.
struct ImageConfig {
  std::string user;
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
};

struct BaseImageSpec {
  std::string flavour;            // "nano-noshell"
  std::string image;              // repository: "nano"
  std::string variant;            // "noshell" or empty
  std::string release;            // "bookworm"
  std::vector<std::string> tags;  // "nano:bookworm-noshell", "nano:noshell"
  std::int64_t source_date_epoch = 0;  // every mtime in the tree is at or before it; the image's "created"
  std::string created;            // source_date_epoch as RFC 3339 UTC
  std::string os = "linux", architecture;  // OCI names ("amd64")
  std::vector<PackageVersion> packages;    // sorted by name
  ImageConfig config;

  // The OCI image config without rootfs/history (the image store adds those):
  // {"created", "architecture", "os", "config": {"User", "Env", "Cmd", …}}.
  Json to_oci_config() const;
};

struct BuildOptions {
  std::string release = default_release;
  std::filesystem::path cache_dir;  // the store's cache (<root>/cache): apt state and .deb files
  std::filesystem::path definitions_dir = base::definitions_dir();
  // Overrides the epoch (otherwise: the build date of the release's
  // base-files package, i.e. of its latest point release).
  std::optional<std::int64_t> source_date_epoch;
  bool refresh_lists = false;  // re-read the mirror's package lists even if the cached ones are recent
  Progress* progress = nullptr;
};

// Builds the root filesystem of `flavour` into `out_dir`, which must not
// exist or be an empty directory. The tree is assembled beside it and
// renamed into place, so `out_dir` is either complete or absent. Needs root
// (ownership, mmdebstrap).
BaseImageSpec build_rootfs(const std::string& flavour, const std::filesystem::path& out_dir,
                           const BuildOptions& options);

// Sizes of a root filesystem: what a user sees in `skiff images`.
struct TreeSize {
  std::uint64_t entries = 0;
  std::uint64_t unpacked_bytes = 0;  // sum of regular file sizes, hard links once
  std::uint64_t tar_bytes = 0;       // a deterministic (pax, sorted) tar of the tree
  std::uint64_t tar_gzip_bytes = 0;  // the same, gzip -6 without timestamp: a layer's size
};
TreeSize measure_tree(const std::filesystem::path& root);

// One line per entry, sorted by path: "path type mode uid:gid mtime size
// sha256-or-target". Two trees are the same when their listings are.
std::string tree_listing(const std::filesystem::path& root);
std::string tree_digest(const std::filesystem::path& root);  // sha256 of the listing

}  // namespace skiff::base
