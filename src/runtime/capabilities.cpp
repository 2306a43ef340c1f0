// Capability sets: clamped in the runtime to what it holds itself (this
// host has no CAP_SYS_RESOURCE, for one), applied in the child with raw
// capset/prctl calls.
#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strings.h"
#include "runtime/init.h"
#include "runtime/sync.h"

namespace skiff::runtime {

namespace {

struct CapabilityState {
  std::uint64_t effective = 0, permitted = 0, inheritable = 0;
};

CapabilityState current_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  CapabilityState state;
  if (::syscall(SYS_capget, &header, data) != 0) return state;
  state.effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
  state.permitted = data[0].permitted | (std::uint64_t{data[1].permitted} << 32);
  state.inheritable = data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32);
  return state;
}

std::uint64_t bounding_set() {
  std::uint64_t mask = 0;
  for (int cap = 0; cap <= last_capability() && cap < 64; ++cap)
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) mask |= std::uint64_t{1} << cap;
  return mask;
}

}  // namespace

CapabilitySets clamp_capabilities(const CapabilitySets& wanted) {
  auto current = current_capabilities();
  std::uint64_t kernel = last_capability() >= 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (last_capability() + 1)) - 1;
  std::uint64_t held = current.permitted & bounding_set() & kernel;
  std::uint64_t asked = wanted.bounding | wanted.effective | wanted.permitted | wanted.inheritable | wanted.ambient;
  if (std::uint64_t missing = asked & ~held) {
    log::debug("capabilities {} are not held by the runtime (or unknown to this kernel); the container does without them",
               join(capability_names(missing), ","));
  }
  CapabilitySets out = wanted;
  out.bounding &= held;
  out.effective &= held;
  out.permitted &= held;
  out.inheritable &= held;
  out.ambient &= held;
  // The kernel keeps ambient ⊆ permitted ∩ inheritable, effective ⊆ permitted.
  out.effective &= out.permitted;
  out.ambient &= out.permitted & out.inheritable;
  return out;
}

void drop_bounding_set(const ProcessPlan& plan) noexcept {
  if (!plan.capabilities) return;
  for (int cap = 0; cap <= plan.last_capability && cap < 64; ++cap) {
    if (plan.capabilities->bounding & (std::uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      child_fail(errno, "drop capability %d from the bounding set", cap);
  }
}

void apply_capabilities(const ProcessPlan& plan) noexcept {
  if (!plan.capabilities) return;
  const auto& caps = *plan.capabilities;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<std::uint32_t>(caps.effective);
  data[1].effective = static_cast<std::uint32_t>(caps.effective >> 32);
  data[0].permitted = static_cast<std::uint32_t>(caps.permitted);
  data[1].permitted = static_cast<std::uint32_t>(caps.permitted >> 32);
  data[0].inheritable = static_cast<std::uint32_t>(caps.inheritable);
  data[1].inheritable = static_cast<std::uint32_t>(caps.inheritable >> 32);
  if (::syscall(SYS_capset, &header, data) != 0) child_fail(errno, "set the capability sets");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    child_fail(errno, "clear the ambient capabilities");
  for (int cap = 0; cap <= plan.last_capability && cap < 64; ++cap) {
    if (!(caps.ambient & (std::uint64_t{1} << cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) child_fail(errno, "raise ambient capability %d", cap);
  }
}

}  // namespace skiff::runtime
