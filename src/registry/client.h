// A client for one OCI distribution registry (docker's registry API v2):
// manifests, blobs, uploads, with the registry's authentication (bearer
// token from the WWW-Authenticate challenge, or Basic) and docker's
// transport rules (HTTPS; plain HTTP allowed for 127.0.0.0/8, localhost and
// insecure registries). Thread-safe: parallel layer downloads share one.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/digest.h"
#include "registry/credentials.h"

namespace skiff {

struct RegistryOptions {
  // Registries reached over plain HTTP (or HTTPS without verification).
  std::vector<std::string> insecure_registries;
  // docker's certs.d layout: DIR/HOST[:PORT]/ca.crt, client.cert, client.key.
  std::filesystem::path certs_dir;
  // Credentials to use instead of those in the credential file (login).
  std::optional<Credentials> credentials;
  CredentialFile credential_file;
  // Ask for pull and push access (push, mount).
  bool push = false;
  // Uploads larger than this go in chunks (PATCH); smaller ones in one PUT.
  std::uint64_t chunk_size = 32 << 20;

  // From the engine config; certs_dir is $SKIFF_CERTS_DIR or /etc/skiff/certs.d.
  static RegistryOptions from(const Config& config);
};

// A registry as users type it for login/logout ("https://host:5000/")
// reduced to HOST[:PORT]; invalid_argument for anything else.
std::string registry_host_argument(std::string_view text);

// True for 127.0.0.0/8, ::1 and localhost, with or without a port.
bool is_loopback_registry(std::string_view domain);

struct ManifestHead {
  std::string media_type;  // Content-Type
  Digest digest;           // Docker-Content-Digest (empty if not sent)
  std::uint64_t size = 0;
};

struct FetchedManifest {
  std::string media_type;  // Content-Type, parameters stripped
  std::string bytes;
  Digest digest;  // of `bytes`, verified against a digest reference
};

// Receives a blob's bytes. `on_start(offset)` is called before the first
// byte with the offset the registry resumes from: the one asked for (206),
// or 0 when it sends the whole blob again (200).
struct BlobReceiver {
  std::function<void(std::uint64_t offset)> on_start;
  std::function<void(const char* data, size_t size)> on_data;
  const std::atomic<bool>* cancel = nullptr;  // set it to stop the transfer
};

class RegistryClient {
 public:
  RegistryClient(std::string domain, RegistryOptions options);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  const std::string& domain() const { return domain_; }

  // GET /v2/, authenticating if the registry asks: proves that the registry
  // answers and accepts the credentials (login).
  void check_login();

  // nullopt when the registry has no such manifest.
  std::optional<ManifestHead> head_manifest(std::string_view repository, std::string_view reference,
                                            const std::vector<std::string>& accept);
  // Refuses bodies over `max_size`; verifies a digest reference.
  FetchedManifest get_manifest(std::string_view repository, std::string_view reference,
                               const std::vector<std::string>& accept, size_t max_size);
  // Returns the digest the registry computed.
  Digest put_manifest(std::string_view repository, std::string_view reference, std::string_view media_type,
                      std::string_view bytes);

  // HEAD: the blob's size, or nullopt when the repository lacks it.
  std::optional<std::uint64_t> blob_size(std::string_view repository, const Digest& digest);
  // Streams the blob from `offset` (HTTP Range when > 0).
  void get_blob(std::string_view repository, const Digest& digest, std::uint64_t offset, const BlobReceiver& receiver);
  // Cross-repository mount: true when the registry linked the blob from
  // `from` without a transfer.
  bool mount_blob(std::string_view repository, const Digest& digest, std::string_view from);
  // Uploads `size` bytes produced by `read` (returns 0 at the end): one PUT
  // up to chunk_size, PATCH chunks then PUT above it.
  void upload_blob(std::string_view repository, const Digest& digest, std::uint64_t size,
                   const std::function<size_t(char*, size_t)>& read);

  struct State;  // connection, scheme, challenge and tokens (client.cpp)

 private:
  std::string domain_;
  RegistryOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace skiff
