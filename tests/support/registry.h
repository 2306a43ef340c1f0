// Registries for integration tests, all on 127.0.0.1 with random ports and
// private directories, stopped and removed with the object:
// - TestRegistry: a real docker-registry (plain HTTP, or TLS with its own
//   CA; no auth, htpasswd Basic auth, or bearer tokens from token_server.py),
//   seeded with skopeo;
// - FakeRegistry: scripted answers (500s, odd manifests) from fake_registry.py;
// - ThrottleProxy: slows a registry down so a pull can be killed half-way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/subprocess.h"

namespace skiff::test {

enum class RegistryAuth { none, basic, token };

struct RegistryConfig {
  bool tls = false;
  RegistryAuth auth = RegistryAuth::none;
};

// Starts `argv` with stdout and stderr appended to `log`, with `extra_env`
// (K=V) added to the environment.
ChildProcess spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                          const std::vector<std::string>& extra_env = {});
// Waits for a helper to write its port into `file`.
int wait_for_port_file(const std::filesystem::path& file, ChildProcess& process, const std::filesystem::path& log);
int free_port();

class TestRegistry {
 public:
  static constexpr const char* user = "tester";
  static constexpr const char* password = "s3cret-Pass";

  explicit TestRegistry(RegistryConfig config = {});
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  std::string ref(const std::string& repository) const { return host_ + "/" + repository; }
  // For SKIFF_CERTS_DIR: holds HOST:PORT/ca.crt when TLS is on.
  std::filesystem::path certs_dir() const { return dir_.path() / "certs.d"; }
  // The registry's log (with an access-log line per request).
  std::string log() const;
  // Where the registry stores a blob's bytes (to tamper with them).
  std::filesystem::path blob_data(const Digest& digest) const;
  // Copies oci:LAYOUT:TAG into the registry as REPOSITORY[:TAG] with skopeo
  // (every platform of an index).
  void seed(const std::filesystem::path& layout, const std::string& tag, const std::string& destination) const;
  // Env entries that make skiff trust this registry: SKIFF_CERTS_DIR.
  std::vector<std::string> env() const;
  const RegistryConfig& config() const { return config_; }

 private:
  RegistryConfig config_;
  TempDir dir_{"/var/tmp", "skiff-registry-"};
  std::string host_;
  ChildProcess token_server_;
  ChildProcess registry_;
};

class FakeRegistry {
 public:
  // routes: {"GET /v2/": {"status": 200, "headers": {...}, "body": "..."}, ...}
  explicit FakeRegistry(const Json& routes);
  const std::string& host() const { return host_; }
  // "METHOD PATH" per request served.
  std::vector<std::string> requests() const;

 private:
  TempDir dir_{"/var/tmp", "skiff-fake-registry-"};
  std::string host_;
  ChildProcess server_;
};

class ThrottleProxy {
 public:
  ThrottleProxy(const std::string& target, std::uint64_t bytes_per_second);
  const std::string& host() const { return host_; }
  std::uint64_t relayed() const;  // bytes sent to clients so far

 private:
  TempDir dir_{"/var/tmp", "skiff-proxy-"};
  std::string host_;
  ChildProcess server_;
};

}  // namespace skiff::test
