// The container's root filesystem as the guest sees it: a read-only erofs
// image of the flattened rootfs directory, built once per content key and
// cached under <root>/vm/images/. While an uncached image is being built the
// VM already boots: qemu opens a sparse placeholder that mkfs.erofs then
// fills in place (the guest mounts it only when told the image is ready).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace skiff::vm {

// The tree the image is built from: a directory, or a function that fills
// an empty one (see VmConfig::make_rootfs).
struct RootSource {
  std::filesystem::path dir;
  std::function<void(const std::filesystem::path&)> make;
};

class RootImage {
 public:
  // Starts the build (in the background) unless the image is cached.
  // `key` names the content (e.g. the image's top chain ID); empty means
  // uncached: the image goes into `scratch_dir` and is deleted with it.
  RootImage(const std::filesystem::path& cache_dir, RootSource source, const std::string& key,
            const std::filesystem::path& scratch_dir);
  ~RootImage();
  RootImage(const RootImage&) = delete;
  RootImage& operator=(const RootImage&) = delete;

  // A path qemu can open now; its content is complete once ready() returned.
  const std::filesystem::path& path() const;
  // Waits for the build; throws its error if it failed.
  void wait_ready();
  bool cached() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The cache's images (complete ones) and the space they take.
struct CachedRootImages {
  size_t images = 0;
  std::uint64_t bytes = 0;
};
// Those whose key is in `keys` (all of them when `keys` is null).
CachedRootImages cached_root_images(const std::filesystem::path& cache_dir, const std::set<std::string>* keys = nullptr);

// Garbage collection of the cache: removes every image whose key is not in
// `keep` (and builds left by a killed skiff), except those being built now.
CachedRootImages prune_root_images(const std::filesystem::path& cache_dir, const std::set<std::string>& keep);

}  // namespace skiff::vm
