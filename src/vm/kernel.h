// Guest kernels: Debian's cloud kernel fetched with apt into the store, or
// one the user names; what version it is, and whether it serves an image.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host.h"

namespace skiff::vm {

struct GuestKernel {
  std::string release;                   // what `uname -r` shows inside: "6.1.0-56-cloud-amd64"
  KernelVersion version;                 // the upstream version, for policy: 6.1.192
  std::filesystem::path image;           // bzImage (vmlinuz)
  std::filesystem::path pvh_image;       // the same kernel unpacked (vmlinux with a PVH entry); empty if none
  std::filesystem::path modules_dir;     // lib/modules/<release>; empty when all is built in
  std::filesystem::path config;          // the kernel's .config, when known
  std::string source;                    // "debian linux-image-6.1.0-56-cloud-amd64 6.1.192-2" or a path
};

// Reads the release and version from a bzImage's setup header (the string
// `uname -a` prints). Throws `corrupt` when `image` is not a bzImage.
GuestKernel describe_kernel(const std::filesystem::path& image,
                            const std::filesystem::path& modules_dir = {});

// Unpacks the kernel inside a bzImage to `out` (an ELF vmlinux) when it has
// a PVH entry point, so qemu can boot it directly: under TCG the
// decompressor costs over a second per boot. False (nothing written) when
// the kernel cannot be booted that way.
bool extract_pvh_image(const std::filesystem::path& bzimage, const std::filesystem::path& out);

// Kernels unpacked under <root>/vm/kernels/<release>/ {vmlinuz, vmlinux, config, modules/}.
class KernelCache {
 public:
  explicit KernelCache(std::filesystem::path dir);

  std::vector<GuestKernel> list() const;          // newest version first
  std::optional<GuestKernel> newest() const;

  // `apt-get download` of `package` (a metapackage is followed to the
  // versioned image package it depends on), unpacked with libarchive.
  // Replaces nothing that is already cached; safe against concurrent calls.
  GuestKernel fetch(const std::string& package = "linux-image-cloud-amd64");

  // The newest cached kernel, fetching one when none is.
  GuestKernel ensure();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// Kernel policy for Linux images: `os.version` is the minimum kernel the
// image needs (empty: any).
bool kernel_satisfies(const GuestKernel& kernel, std::string_view minimum);
// Throws `unsupported` with the policy in the message when it does not.
void check_kernel_requirement(const GuestKernel& kernel, std::string_view minimum);

}  // namespace skiff::vm
