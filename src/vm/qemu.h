// The qemu command line of a skiff VM: a microvm with direct kernel boot,
// virtio-mmio devices only, and the agent's channel on an inherited socket.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vm/vm.h"

namespace skiff::vm {

struct QemuLaunch {
  std::filesystem::path kernel;
  std::filesystem::path initramfs;
  std::filesystem::path root_image;
  std::filesystem::path console_log;  // empty: no serial console at all
  Accelerator accel = Accelerator::tcg;
  std::uint64_t memory_mib = 512;
  unsigned cpus = 1;
  int channel_fd = 3;                 // the socket qemu inherits for the agent's port
  bool trace = false;                 // the agent reports its phases (for --log-level debug)
};

// The host TSC frequency in kHz (measured once), 0 if unknown.
std::uint64_t host_tsc_khz();

std::string kernel_command_line(const QemuLaunch& launch);
std::vector<std::string> qemu_arguments(const QemuLaunch& launch);

}  // namespace skiff::vm
