#include "core/host.h"

#include <sys/utsname.h>

#include <charconv>

#include <fmt/format.h>

namespace skiff {

namespace {
const utsname& uname_once() {
  static const utsname value = [] {
    utsname u{};
    ::uname(&u);
    return u;
  }();
  return value;
}
}  // namespace

std::string host_os() { return "linux"; }

std::string host_architecture() {
  std::string_view machine = uname_once().machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine.starts_with("armv") || machine == "arm") return "arm";
  if (machine == "i386" || machine == "i686") return "386";
  if (machine == "ppc64le") return "ppc64le";
  if (machine == "s390x") return "s390x";
  if (machine == "riscv64") return "riscv64";
  return std::string(machine);
}

std::string host_variant() {
  std::string_view machine = uname_once().machine;
  if (machine == "aarch64" || machine == "arm64") return "v8";
  if (machine.starts_with("armv7")) return "v7";
  if (machine.starts_with("armv6")) return "v6";
  return "";
}

std::string kernel_release() { return uname_once().release; }

std::optional<KernelVersion> KernelVersion::parse(std::string_view text) {
  KernelVersion v;
  int* fields[] = {&v.major, &v.minor, &v.patch};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  int parsed = 0;
  for (int* field : fields) {
    auto [next, ec] = std::from_chars(p, end, *field);
    if (ec != std::errc()) break;
    ++parsed;
    p = next;
    if (p == end || *p != '.') break;
    ++p;
  }
  if (parsed < 2) return std::nullopt;
  return v;
}

std::string KernelVersion::str() const { return fmt::format("{}.{}.{}", major, minor, patch); }

KernelVersion host_kernel_version() {
  return KernelVersion::parse(kernel_release()).value_or(KernelVersion{});
}

}  // namespace skiff
