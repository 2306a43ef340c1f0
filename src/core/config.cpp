#include "core/config.h"

#include <cstdlib>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/strings.h"

namespace skiff {

std::string Config::default_path() {
  const char* env = std::getenv("SKIFF_CONFIG");
  return env && *env ? env : "/etc/skiff/config.json";
}

Config Config::load() {
  Config config;
  std::string path = default_path();
  if (auto text = read_file_if_exists(path)) {
    Json j = parse_json(*text, path);
    try {
      config.default_registry = j.value("default-registry", config.default_registry);
      config.insecure_registries = j.value("insecure-registries", config.insecure_registries);
      config.default_isolation = j.value("isolation", config.default_isolation);
      config.vm_kernel = j.value("vm-kernel", config.vm_kernel);
      config.max_concurrent_downloads = j.value("max-concurrent-downloads", config.max_concurrent_downloads);
    } catch (const Json::exception& e) {
      fail(ErrorKind::invalid_argument, "{}: {}; fix the file or remove it", path, e.what());
    }
  }
  if (const char* r = std::getenv("SKIFF_DEFAULT_REGISTRY")) config.default_registry = r;
  if (const char* r = std::getenv("SKIFF_INSECURE_REGISTRIES"); r && *r)
    for (auto& entry : split(r, ',')) config.insecure_registries.push_back(entry);
  if (const char* i = std::getenv("SKIFF_ISOLATION"); i && *i) config.default_isolation = i;
  if (const char* k = std::getenv("SKIFF_VM_KERNEL"); k && *k) config.vm_kernel = k;
  if (config.default_isolation == "hyperv") config.default_isolation = "vm";
  if (config.default_isolation != "process" && config.default_isolation != "vm")
    fail(ErrorKind::invalid_argument, "isolation \"{}\" in {}: use process or vm", config.default_isolation, path);
  if (config.max_concurrent_downloads < 1) config.max_concurrent_downloads = 1;
  return config;
}

}  // namespace skiff
