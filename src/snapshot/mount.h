// Mounts described as data (what the snapshotter returns, as containerd's
// mount.Mount) and an RAII handle that unmounts. Overlay mounts with many
// layers get past mount(2)'s one-page option limit: per-layer fsconfig
// "lowerdir+" on Linux >= 6.8, else short relative paths from a thread with
// its own working directory (unshare(CLONE_FS) + chdir, as containerd does).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::snapshot {

struct MountSpec {
  std::string type;    // "overlay" or "bind"
  std::string source;  // "overlay", or the directory to bind
  std::vector<std::string> options;  // "lowerdir=…", "upperdir=…", "ro", …

  // The lowerdir option's layers, topmost first (empty unless overlay).
  std::vector<std::string> lower_dirs() const;
  // "mount -t TYPE -o OPTIONS SOURCE" (for messages and the OCI spec).
  std::string str() const;
};

enum class OverlayMethod {
  automatic,      // plain mount(2) when the options fit, else the best that works
  plain,          // mount(2) with absolute paths
  lowerdir_plus,  // fsopen/fsconfig "lowerdir+" per layer (Linux >= 6.8)
  relative,       // mount(2) with paths relative to the layers' common parent
};

class Mount {
 public:
  Mount() = default;
  explicit Mount(std::filesystem::path target) : target_(std::move(target)) {}
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  Mount(Mount&& other) noexcept : target_(std::move(other.target_)) { other.target_.clear(); }
  Mount& operator=(Mount&& other) noexcept;
  // Unmounts; if the mount is busy, detaches it (MNT_DETACH) instead.
  ~Mount();

  const std::filesystem::path& target() const { return target_; }
  bool mounted() const { return !target_.empty(); }
  // Unmounts now and reports failure.
  void unmount();
  // Keeps the mount: the caller takes over.
  std::filesystem::path release();

 private:
  std::filesystem::path target_;
};

// Mounts `spec` on the existing directory `target`.
Mount mount(const MountSpec& spec, const std::filesystem::path& target,
            OverlayMethod method = OverlayMethod::automatic);

// Whether this kernel takes overlay layers one by one ("lowerdir+").
bool overlay_supports_lowerdir_plus();

}  // namespace skiff::snapshot
