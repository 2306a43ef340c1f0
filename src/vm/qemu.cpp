#include "vm/qemu.h"

#include <fmt/format.h>

#include <cstdlib>

namespace skiff::vm {

namespace {
// qemu option values escape a comma by doubling it.
std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    out.push_back(c);
    if (c == ',') out.push_back(',');
  }
  return out;
}
}  // namespace

std::string kernel_command_line(const QemuLaunch& launch) {
  // panic=-1 + reboot=t: a dying agent (pid 1) triple-faults the VM and
  // qemu (-no-reboot) exits at once. pci=off: microvm has no PCI; the
  // virtio-mmio devices come from ACPI (this kernel has no
  // virtio_mmio.device= support). The rest skips work a VM does not need.
  std::string line = launch.console_log.empty() ? "console=none" : "console=ttyS0";
  line += " quiet panic=-1 reboot=t pci=off rdinit=/init nomodeset";
  line += " tsc=reliable no_timer_check cryptomgr.notests random.trust_cpu=on";
  line += " i8042.noaux i8042.nokbd 8250.nr_uarts=1";
  if (launch.accel == Accelerator::tcg) {
    std::uint64_t khz = host_tsc_khz();
    if (khz > 0) line += fmt::format(" tsc_early_khz={}", khz);
  }
  if (launch.trace) line += " skiff_trace=1";
  // For debugging a guest (e.g. "loglevel=7 initcall_debug").
  if (const char* extra = std::getenv("SKIFF_VM_APPEND"); extra && *extra) line += std::string(" ") + extra;
  return line;
}

std::vector<std::string> qemu_arguments(const QemuLaunch& launch) {
  bool kvm = launch.accel == Accelerator::kvm;
  std::vector<std::string> args = {
      "qemu-system-x86_64",
      "-M",
      fmt::format("microvm,x-option-roms=off,pic=off,acpi=on,isa-serial={}", launch.console_log.empty() ? "off" : "on"),
      "-accel", kvm ? "kvm" : "tcg",
      "-cpu", kvm ? "host" : "max",
      "-m", fmt::format("{}M", launch.memory_mib),
      "-smp", fmt::format("{}", launch.cpus),
      "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
      "-kernel", launch.kernel.string(),
      "-initrd", launch.initramfs.string(),
      "-append", kernel_command_line(launch),
      "-drive", fmt::format("id=root,file={},format=raw,if=none,readonly=on,file.locking=off", escape(launch.root_image.string())),
      "-device", "virtio-blk-device,drive=root",
      "-device", "virtio-serial-device,max_ports=2",
      "-chardev", fmt::format("socket,id=agent,fd={}", launch.channel_fd),
      "-device", "virtserialport,chardev=agent,name=skiff",
  };
  if (!launch.console_log.empty()) {
    args.push_back("-serial");
    args.push_back("file:" + launch.console_log.string());
  }
  return args;
}

}  // namespace skiff::vm
