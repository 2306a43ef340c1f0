// Facts about the host the engine runs on, in OCI vocabulary.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace skiff {

// The OCI/Go names: "linux", "amd64"/"arm64"/"arm"..., variant "v8", "v7"...
std::string host_os();
std::string host_architecture();
std::string host_variant();
std::string kernel_release();  // uname -r

struct KernelVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  // Accepts "6.1", "6.1.0", "6.1.0-18-cloud-amd64", "5.10.0+"; nullopt if
  // it does not start with MAJOR.MINOR.
  static std::optional<KernelVersion> parse(std::string_view text);
  std::string str() const;
  auto operator<=>(const KernelVersion&) const = default;
};

KernelVersion host_kernel_version();

}  // namespace skiff
