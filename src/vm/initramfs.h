// The initramfs skiff boots its VMs with: the static guest agent as /init
// and the kernel modules it needs (with their dependencies), nothing else.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vm/kernel.h"

namespace skiff::vm {

// The guest agent binary, built with the engine and embedded in it.
std::string_view agent_binary();

// What the agent needs from the kernel, in load order once dependencies are
// added: the virtio-mmio transport, the disk, the host channel, the root
// filesystem and the overlay on top.
inline const std::vector<std::string>& required_modules() {
  static const std::vector<std::string> modules = {"virtio_mmio", "virtio_blk", "virtio_console", "erofs", "overlay"};
  return modules;
}

struct ModuleFile {
  std::string name;             // "virtio_blk"
  std::filesystem::path path;   // the .ko, .ko.xz or .ko.zst in the modules dir
};

// The modules to load, dependencies first, leaving out what the kernel has
// built in. Reads modules.dep when the directory has one (an installed
// kernel), the modules' own .modinfo otherwise (a .deb has no modules.dep).
std::vector<ModuleFile> resolve_modules(const GuestKernel& kernel, const std::vector<std::string>& wanted);

// A module's bytes, decompressed when it ships as .ko.xz/.ko.zst/.ko.gz.
std::string read_module(const std::filesystem::path& path);

// A module without its appended signature: the guest kernel then skips an
// RSA verification per module at boot (it does not enforce signatures; the
// host already trusts these files, which came from a verified apt package).
std::string strip_module_signature(std::string module);

// Builds (once per kernel, module set and agent) a deterministic cpio
// (newc) archive under `cache_dir` and returns its path.
std::filesystem::path ensure_initramfs(const std::filesystem::path& cache_dir, const GuestKernel& kernel);

}  // namespace skiff::vm
