#include "image/platform.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/error.h"
#include "core/strings.h"

namespace skiff {

namespace {

// Microsoft's "Windows container version compatibility" table.
constexpr std::array<WindowsRelease, 7> releases = {{
    {"Windows Server 2016", 14393},
    {"Windows Server 2019 / 1809 (ltsc2019)", 17763},
    {"Windows 20H2", 19042},
    {"Windows Server 2022 (ltsc2022)", 20348},
    {"Windows 11 22H2", 22621},
    {"Windows Annual Channel 23H2", 25398},
    {"Windows Server 2025 (ltsc2025) / Windows 11 24H2", 26100},
}};
// Hosts from this LTSC build on run process-isolated images from it up to
// their own build; older hosts need the exact build.
constexpr int forward_compatible_ltsc = 20348;
// The one release whose revision (4th field) must also match.
constexpr int revision_sensitive_build = 14393;

std::string normalize_architecture(std::string arch, std::string& variant) {
  if (arch == "x86_64" || arch == "x86-64") arch = "amd64";
  else if (arch == "aarch64") arch = "arm64";
  else if (arch == "i386" || arch == "i686") arch = "386";
  else if (arch == "armhf" || arch == "armv7l") {
    arch = "arm";
    if (variant.empty()) variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    if (variant.empty()) variant = "v6";
  }
  return arch;
}

// Variants compared on equal footing: arm64's v8 and amd64's v1 are the
// defaults, arm without one is v7.
std::string normalized_variant(const std::string& arch, const std::string& variant) {
  if (arch == "arm64" && variant == "v8") return "";
  if (arch == "amd64" && variant == "v1") return "";
  if (arch == "arm" && variant.empty()) return "v7";
  return variant;
}

std::optional<int> variant_level(const std::string& variant) {
  if (variant.size() < 2 || variant[0] != 'v') return std::nullopt;
  int level = 0;
  auto [end, ec] = std::from_chars(variant.data() + 1, variant.data() + variant.size(), level);
  if (ec != std::errc() || end != variant.data() + variant.size()) return std::nullopt;
  return level;
}

// 0 = exact; higher = acceptable but worse; nullopt = no.
std::optional<int> variant_rank(const Platform& offered, const Platform& wanted) {
  std::string o = normalized_variant(offered.architecture, offered.variant);
  std::string w = normalized_variant(wanted.architecture, wanted.variant);
  if (o == w) return 0;
  if (w.empty()) return 1;   // no preference: any variant will do
  if (o.empty()) return 2;   // the baseline build runs everywhere
  auto ol = variant_level(o), wl = variant_level(w);
  if (ol && wl && *ol < *wl) return 3 + (*wl - *ol);
  return std::nullopt;
}

bool valid_word(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

std::tuple<int, int, int, int> version_key(const WindowsVersion& v) { return {v.major, v.minor, v.build, v.revision}; }

}  // namespace

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  if (!os_version.empty()) s += " " + os_version;
  return s;
}

Json Platform::to_json() const {
  Json j = {{"os", os}, {"architecture", architecture}};
  if (!variant.empty()) j["variant"] = variant;
  if (!os_version.empty()) j["os.version"] = os_version;
  if (!os_features.empty()) j["os.features"] = os_features;
  return j;
}

Platform Platform::from_json(const Json& j) {
  Platform p;
  if (!j.is_object()) return p;
  auto text = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  p.os = text("os");
  p.variant = text("variant");
  p.architecture = normalize_architecture(text("architecture"), p.variant);
  p.os_version = text("os.version");
  if (j.contains("os.features") && j["os.features"].is_array())
    for (const auto& f : j["os.features"])
      if (f.is_string()) p.os_features.push_back(f.get<std::string>());
  return p;
}

Platform Platform::host() {
  Platform p;
  p.os = host_os();
  p.variant = host_variant();
  p.architecture = normalize_architecture(host_architecture(), p.variant);
  p.variant = normalized_variant(p.architecture, p.variant);
  return p;
}

Platform Platform::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    fail(ErrorKind::invalid_argument, "invalid platform \"{}\": {}; expected OS/ARCH[/VARIANT] such as linux/amd64, "
         "linux/arm64/v8 or windows(10.0.20348)/amd64", text, why);
  };
  std::string lowered(trim(text));
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  auto parts = split(lowered, '/');
  if (parts.size() > 3) bad("too many parts");
  Platform p;
  std::string os = parts[0];
  if (auto open = os.find('('); open != std::string::npos) {
    if (os.back() != ')') bad("unclosed os.version");
    p.os_version = os.substr(open + 1, os.size() - open - 2);
    os.resize(open);
    if (!WindowsVersion::parse(p.os_version) && !KernelVersion::parse(p.os_version))
      bad("os.version \"" + p.os_version + "\" is not a version such as 10.0.20348");
  }
  if (!valid_word(os)) bad("missing or invalid OS");
  p.os = os;
  if (parts.size() >= 2) {
    if (!valid_word(parts[1])) bad("missing or invalid architecture");
    p.architecture = parts[1];
  } else {
    p.architecture = host_architecture();
  }
  if (parts.size() == 3) {
    if (!valid_word(parts[2])) bad("invalid variant");
    p.variant = parts[2];
  }
  p.architecture = normalize_architecture(p.architecture, p.variant);
  return p;
}

Isolation parse_isolation(std::string_view text) {
  if (text == "process" || text == "default") return Isolation::process;
  if (text == "vm" || text == "hyperv") return Isolation::vm;
  fail(ErrorKind::invalid_argument, "invalid isolation \"{}\": use process or vm (alias hyperv)", text);
}

std::string to_string(Isolation isolation) { return isolation == Isolation::process ? "process" : "vm"; }

std::span<const WindowsRelease> windows_releases() { return releases; }

std::string_view windows_release_name(int build) {
  for (const auto& r : releases)
    if (r.build == build) return r.name;
  return {};
}

std::optional<WindowsVersion> WindowsVersion::parse(std::string_view text) {
  auto parts = split(text, '.');
  if (parts.size() != 3 && parts.size() != 4) return std::nullopt;
  int values[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    auto& part = parts[i];
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), values[i]);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) return std::nullopt;
  }
  return WindowsVersion{values[0], values[1], values[2], values[3]};
}

bool windows_compatible(const WindowsVersion& image, const WindowsVersion& host, Isolation isolation) {
  if (image.major != host.major || image.minor != host.minor) return false;
  if (isolation == Isolation::vm) return image.build <= host.build;
  if (image.build == host.build)
    return host.build != revision_sensitive_build || image.revision == host.revision;
  return host.build >= forward_compatible_ltsc && image.build >= forward_compatible_ltsc && image.build < host.build;
}

bool platform_matches(const Platform& offered, const Platform& wanted) {
  return offered.os == wanted.os && offered.architecture == wanted.architecture &&
         variant_rank(offered, wanted).has_value();
}

size_t select_platform(const std::vector<std::optional<Platform>>& offered, const PlatformRequest& request) {
  const Platform& wanted = request.platform;
  auto host_build = wanted.os == "windows" ? WindowsVersion::parse(wanted.os_version) : std::nullopt;
  std::optional<size_t> best;
  // Lower is better: variant rank, then not the exact host build, then the
  // newer os.version first.
  std::tuple<int, int, std::tuple<int, int, int, int>> best_key;
  for (size_t i = 0; i < offered.size(); ++i) {
    if (!offered[i] || !platform_matches(*offered[i], wanted)) continue;
    const Platform& p = *offered[i];
    int rank = *variant_rank(p, wanted);
    int not_exact = 1;
    std::tuple<int, int, int, int> newer{0, 0, 0, 0};
    if (p.os == "windows") {
      auto version = WindowsVersion::parse(p.os_version);
      if (host_build) {
        if (!version || !windows_compatible(*version, *host_build, request.isolation)) continue;
        not_exact = version->build == host_build->build ? 0 : 1;
      }
      if (version) {
        auto [a, b, c, d] = version_key(*version);
        newer = {-a, -b, -c, -d};
      }
    }
    std::tuple key{rank, not_exact, newer};
    if (!best || key < best_key) {
      best = i;
      best_key = key;
    }
  }
  if (best) return *best;
  std::vector<std::string> offers;
  for (const auto& p : offered)
    if (p) offers.push_back(p->str());
  std::string wanted_text = wanted.str();
  fail(ErrorKind::unsupported, "no matching manifest for {} in the manifest list entries; it offers {}; choose one with "
       "--platform", wanted_text, offers.empty() ? std::string("no platforms") : join(offers, ", "));
}

Runnability runnable_here(const Platform& image, Isolation isolation) {
  Platform host = Platform::host();
  if (image.os != host.os) {
    std::string detail;
    if (image.os == "windows") {
      auto v = WindowsVersion::parse(image.os_version);
      auto name = v ? windows_release_name(v->build) : std::string_view();
      detail = name.empty() ? "" : fmt::format(" ({})", name);
      if (std::find(image.os_features.begin(), image.os_features.end(), "win32k") != image.os_features.end())
        detail += ", needs win32k";
    }
    std::string rule;
    if (image.os == "windows")
      rule = isolation == Isolation::process
                 ? "; on Windows, process isolation needs the host's own build (hosts from 10.0.20348 on also take "
                   "10.0.20348 up to their build)"
                 : "; on Windows, Hyper-V isolation takes any build up to the host's, never a newer one";
    return {false, fmt::format("a {} image ({}{}) needs a {} host{}; skiff runs Linux images (also under "
                               "--isolation=vm) and can only pull and inspect this one",
                               image.os, image.str(), detail, image.os == "windows" ? "Windows" : image.os, rule)};
  }
  if (!image.architecture.empty() && image.architecture != host.architecture)
    return {false, fmt::format("the image is built for {}/{}, this host is {}/{}; pull the {} variant with --platform {}",
                               image.os, image.architecture, host.os, host.architecture, host.architecture,
                               host.os + "/" + host.architecture)};
  if (!image.os_version.empty() && isolation == Isolation::process) {
    auto needed = KernelVersion::parse(image.os_version);
    auto running = host_kernel_version();
    if (needed && running < *needed)
      return {false, fmt::format("the image needs Linux {} or newer (os.version), the host runs {}; run it with "
                                 "--isolation=vm", needed->str(), running.str())};
  }
  return {};
}

}  // namespace skiff
