// Platforms (os/architecture/variant, os.version, os.features) and the
// policy that matches images to a host: choosing an entry of an index, and
// deciding whether an image can run here. Windows images follow Microsoft's
// version-compatibility rules, kept as data below; Linux images read
// os.version as the minimum kernel they need.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/host.h"
#include "core/json.h"

namespace skiff {

struct Platform {
  std::string os;            // "linux", "windows"
  std::string architecture;  // "amd64", "arm64", "arm", "386", …
  std::string variant;       // "v7", "v8", … (empty: none or the default)
  std::string os_version;    // windows: "10.0.20348.1850"; linux: minimum kernel
  std::vector<std::string> os_features;

  // "linux/arm64/v8", "windows/amd64 10.0.20348.1850".
  std::string str() const;
  Json to_json() const;
  // Reads an OCI platform object (a descriptor's "platform").
  static Platform from_json(const Json& json);

  // The platform this host runs natively.
  static Platform host();
  // "os/arch[/variant]", also "os(os.version)/arch[/variant]" (containerd's
  // form, to target a Windows build). Architecture aliases are normalised
  // (x86_64 -> amd64, aarch64 -> arm64). Throws invalid_argument.
  static Platform parse(std::string_view text);

  bool operator==(const Platform&) const = default;
};

enum class Isolation { process, vm };
Isolation parse_isolation(std::string_view text);  // process | vm | hyperv
std::string to_string(Isolation isolation);

// Windows releases by build number (Microsoft's compatibility page).
struct WindowsRelease {
  std::string_view name;
  int build;
};
std::span<const WindowsRelease> windows_releases();
// "Windows Server 2022 (ltsc2022)", or "" for a build not in the table.
std::string_view windows_release_name(int build);

struct WindowsVersion {
  int major = 0, minor = 0, build = 0, revision = 0;
  // "10.0.20348" or "10.0.20348.1850"; nullopt otherwise.
  static std::optional<WindowsVersion> parse(std::string_view text);
};

// Whether an image built for `image` runs on a Windows host at `host`:
// process isolation needs the host's build (hosts from 20348 on also take
// 20348 up to their own build; 14393 also needs the same revision), VM
// isolation takes any build up to the host's.
bool windows_compatible(const WindowsVersion& image, const WindowsVersion& host, Isolation isolation);

// What an index entry must match: a platform (os.version: the target
// Windows host build, or empty for "the newest") and the isolation the
// Windows rules apply for.
struct PlatformRequest {
  Platform platform = Platform::host();
  Isolation isolation = Isolation::process;
};

// Whether an entry's platform satisfies the request, ignoring os.version.
bool platform_matches(const Platform& offered, const Platform& wanted);

// Picks an index entry: os/architecture(/variant) first, then the exact
// host build, then the highest compatible os.version. Returns its position;
// throws `unsupported` listing what the index offers when nothing matches.
size_t select_platform(const std::vector<std::optional<Platform>>& offered, const PlatformRequest& request);

// Whether this Linux host can run an image of `image` platform.
struct Runnability {
  bool runnable = true;
  std::string reason;  // why not, with what to do
};
Runnability runnable_here(const Platform& image, Isolation isolation);

}  // namespace skiff
