// Registry credentials in docker's client file, ~/.docker/config.json
// ($DOCKER_CONFIG/config.json when set): {"auths": {"HOST": {"auth":
// base64("user:password")}}}. skiff login/logout edit it in place, keeping
// every other key, atomically and with mode 0600.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace skiff {

struct Credentials {
  std::string username;
  std::string password;
};

class CredentialFile {
 public:
  // The default file: $DOCKER_CONFIG/config.json or $HOME/.docker/config.json.
  CredentialFile();
  explicit CredentialFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Looks up "HOST", then the "https://HOST" and "http://HOST[/v1/]" forms
  // docker also writes.
  std::optional<Credentials> find(std::string_view host) const;
  void store(std::string_view host, const Credentials& credentials) const;
  // False when the file held nothing for `host`.
  bool erase(std::string_view host) const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace skiff
