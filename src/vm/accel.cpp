// Which accelerator runs the VM: KVM when the CPU has hardware
// virtualisation, qemu's TCG emulation otherwise.
#include <time.h>
#include <x86intrin.h>

#include <cstdlib>
#include <mutex>
#include <mutex>

#include "core/error.h"
#include "core/host_features.h"
#include "core/log.h"
#include "core/log.h"
#include "vm/qemu.h"
#include "vm/vm.h"

namespace skiff::vm {

std::string to_string(Accelerator accel) {
  switch (accel) {
    case Accelerator::automatic: return "auto";
    case Accelerator::kvm: return "kvm";
    case Accelerator::tcg: return "tcg";
  }
  return "auto";
}

Accelerator parse_accelerator(std::string_view text) {
  if (text == "auto" || text.empty()) return Accelerator::automatic;
  if (text == "kvm") return Accelerator::kvm;
  if (text == "tcg") return Accelerator::tcg;
  fail(ErrorKind::invalid_argument, "VM accelerator \"{}\": use auto, kvm or tcg", text);
}

AcceleratorChoice choose_accelerator(Accelerator requested) {
  if (requested == Accelerator::automatic) {
    const char* env = std::getenv("SKIFF_VM_ACCEL");
    if (env && *env) {
      requested = parse_accelerator(env);
      if (requested != Accelerator::automatic) return {requested, std::string("chosen by SKIFF_VM_ACCEL=") + env};
    }
  } else {
    return {requested, "chosen explicitly"};
  }
  switch (detect_kvm()) {
    case KvmStatus::usable: return {Accelerator::kvm, "KVM with hardware virtualisation"};
    case KvmStatus::paravirtual:
      return {Accelerator::tcg,
              "/dev/kvm is paravirtual (PVM: no vmx/svm), which cannot boot a stock kernel; using TCG emulation"};
    case KvmStatus::unavailable: break;
  }
  return {Accelerator::tcg, "no usable /dev/kvm; using TCG emulation"};
}

void warn_if_emulated(const AcceleratorChoice& choice) {
  if (choice.accel != Accelerator::tcg) return;
  static std::once_flag warned;
  std::call_once(warned, [&] {
    log::warn("VM isolation runs emulated ({}): a VM starts in seconds, not milliseconds", choice.reason);
  });
}

// Under TCG the guest reads the host's TSC, but calibrating it against the
// emulated PIT fails on a busy host and leaves the kernel without a clock
// (it hangs). Measuring it here and passing tsc_early_khz avoids both the
// calibration and the hang.
std::uint64_t host_tsc_khz() {
  static const std::uint64_t khz = [] {
    auto now_ns = [] {
      timespec t;
      ::clock_gettime(CLOCK_MONOTONIC_RAW, &t);
      return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(t.tv_nsec);
    };
    // A (clock, tsc) pair read back to back, retried when preempted between.
    auto sample = [&](std::uint64_t& ns, std::uint64_t& tsc) {
      for (int attempt = 0; attempt < 50; ++attempt) {
        std::uint64_t before = now_ns();
        tsc = __rdtsc();
        std::uint64_t after = now_ns();
        ns = before / 2 + after / 2;
        if (after - before < 20000) return;
      }
    };
    std::uint64_t ns0, tsc0, ns1, tsc1;
    sample(ns0, tsc0);
    timespec pause{0, 10 * 1000 * 1000};
    ::nanosleep(&pause, nullptr);
    sample(ns1, tsc1);
    if (ns1 <= ns0 || tsc1 <= tsc0) return std::uint64_t(0);
    return static_cast<std::uint64_t>(static_cast<double>(tsc1 - tsc0) * 1e6 / static_cast<double>(ns1 - ns0));
  }();
  return khz;
}

}  // namespace skiff::vm
