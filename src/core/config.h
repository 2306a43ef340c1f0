// Engine settings from /etc/skiff/config.json (or $SKIFF_CONFIG), with
// environment overrides. Every field has a working default.
#pragma once

#include <string>
#include <vector>

namespace skiff {

struct Config {
  // Registry for short names ("debian"). Empty: short names are local-only.
  std::string default_registry;
  // Registries reached over plain HTTP besides 127.0.0.0/8 and localhost.
  std::vector<std::string> insecure_registries;
  // "process" or "vm": what `run` uses without --isolation.
  std::string default_isolation = "process";
  // Guest kernel (bzImage) for VM isolation; empty: Debian's cloud kernel,
  // fetched into the store on first use.
  std::string vm_kernel;
  // Parallel blob transfers per pull/push.
  int max_concurrent_downloads = 3;

  // Reads the file if it exists, then applies SKIFF_DEFAULT_REGISTRY,
  // SKIFF_INSECURE_REGISTRIES (comma-separated), SKIFF_ISOLATION and
  // SKIFF_VM_KERNEL.
  static Config load();
  static std::string default_path();
};

}  // namespace skiff
