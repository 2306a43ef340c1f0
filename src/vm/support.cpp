// What the rest of skiff asks the VM box without running a VM: where its
// caches live, which kernel it would boot, and whether VMs work here.
#include <fmt/format.h>
#include <sys/stat.h>

#include "core/digest.h"

#include "core/error.h"
#include "core/fs.h"
#include "core/subprocess.h"
#include "vm/vm.h"

namespace skiff::vm {

fs::path vm_dir(const Root& root) { return root.path() / "vm"; }

KernelCache kernel_cache(const Root& root) { return KernelCache(vm_dir(root) / "kernels"); }

GuestKernel select_kernel(const Root& root, const KernelChoice& choice) {
  if (!choice.kernel.empty()) {
    GuestKernel kernel = describe_kernel(choice.kernel, choice.modules_dir);
    // Modules not named: the ones beside it, in the store's layout
    // (<release>/{vmlinuz,modules}) or Debian's (/boot/vmlinuz-R, /lib/modules/R).
    if (kernel.modules_dir.empty()) {
      for (const auto& dir : {choice.kernel.parent_path() / "modules", fs::path("/lib/modules") / kernel.release})
        if (fs::is_directory(dir)) {
          kernel.modules_dir = dir;
          break;
        }
    }
    for (const auto& config : {choice.kernel.parent_path() / ("config-" + kernel.release), choice.kernel.parent_path() / "config"})
      if (kernel.config.empty() && fs::exists(config)) kernel.config = config;
    // The unpacked (PVH) form boots faster; derive it once per kernel file.
    struct stat st {};
    ::stat(choice.kernel.c_str(), &st);
    fs::path pvh_dir = vm_dir(root) / "kernels" / ".pvh";
    fs::path pvh = pvh_dir / (sha256_of(fmt::format("{}\n{}\n{}\n{}", fs::absolute(choice.kernel).string(), st.st_size,
                                                    st.st_mtim.tv_sec, st.st_mtim.tv_nsec)).hex().substr(0, 32) + ".vmlinux");
    fs::path none = pvh;
    none += ".none";  // remembers kernels that have no PVH entry
    if (fs::exists(pvh)) {
      kernel.pvh_image = pvh;
    } else if (!fs::exists(none)) {
      ensure_dir(pvh_dir);
      if (extract_pvh_image(choice.kernel, pvh)) kernel.pvh_image = pvh;
      else write_file_atomic(none, "", 0644, false);
    }
    return kernel;
  }
  if (!choice.modules_dir.empty() || !choice.initramfs.empty())
    fail(ErrorKind::invalid_argument, "a modules directory or initramfs needs its kernel: give --vm-kernel too");
  return kernel_cache(root).ensure();
}

VmSupport vm_support(const Root& root) {
  VmSupport support;
  support.accel = choose_accelerator();
  if (auto qemu = find_program("qemu-system-x86_64")) support.qemu = qemu->string();
  support.erofs_tools = find_program("mkfs.erofs").has_value();
  support.kernel = kernel_cache(root).newest();
  support.usable = !support.qemu.empty() && support.erofs_tools;
  std::string accel = support.accel.accel == Accelerator::kvm ? "kvm" : "tcg (emulated: starts in seconds)";
  if (!support.usable) {
    support.detail = fmt::format("unavailable: {}", support.qemu.empty() ? "apt-get install qemu-system-x86" : "apt-get install erofs-utils");
  } else {
    support.detail = fmt::format("{}; guest kernel {}", accel,
                                 support.kernel ? support.kernel->release + " cached" : "not cached (fetched on first use)");
  }
  return support;
}

}  // namespace skiff::vm
