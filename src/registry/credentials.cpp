#include "registry/credentials.h"

#include <cstdlib>

#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/strings.h"
#include "registry/auth.h"

namespace skiff {

namespace {

std::filesystem::path default_credential_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::filesystem::path(dir) / "config.json";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/root") / ".docker" / "config.json";
}

Json load(const std::filesystem::path& path) {
  auto text = read_file_if_exists(path);
  if (!text || trim(*text).empty()) return Json::object();
  Json j = parse_json(*text, path.string());
  if (!j.is_object()) fail(ErrorKind::corrupt, "{} is not a JSON object; fix or remove it", path.string());
  return j;
}

std::vector<std::string> host_keys(std::string_view host) {
  std::string h(host);
  return {h, "https://" + h, "http://" + h, "https://" + h + "/v1/", "http://" + h + "/v1/", "https://" + h + "/v2/"};
}

}  // namespace

CredentialFile::CredentialFile() : path_(default_credential_path()) {}

std::optional<Credentials> CredentialFile::find(std::string_view host) const {
  Json j = load(path_);
  if (!j.contains("auths") || !j["auths"].is_object()) return std::nullopt;
  const Json& auths = j["auths"];
  for (const auto& key : host_keys(host)) {
    if (!auths.contains(key)) continue;
    const Json& entry = auths[key];
    if (!entry.is_object()) continue;
    if (entry.contains("auth") && entry["auth"].is_string() && !entry["auth"].get<std::string>().empty()) {
      std::string decoded;
      try {
        decoded = registry::base64_decode(entry["auth"].get<std::string>());
      } catch (const Error&) {
        fail(ErrorKind::corrupt, "{}: the \"auth\" entry for {} is not base64; run `skiff login {}` again",
             path_.string(), key, host);
      }
      auto colon = decoded.find(':');
      if (colon == std::string::npos)
        fail(ErrorKind::corrupt, "{}: the \"auth\" entry for {} is not USER:PASSWORD; run `skiff login {}` again",
             path_.string(), key, host);
      return Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
    }
    if (entry.contains("username") && entry.contains("password"))
      return Credentials{entry.value("username", ""), entry.value("password", "")};
  }
  return std::nullopt;
}

void CredentialFile::store(std::string_view host, const Credentials& credentials) const {
  Json j = load(path_);
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = Json::object();
  for (const auto& key : host_keys(host)) j["auths"].erase(key);
  j["auths"][std::string(host)] = {{"auth", registry::base64_encode(credentials.username + ":" + credentials.password)}};
  ensure_dir(path_.parent_path(), 0700);
  write_file_atomic(path_, j.dump(1, '\t') + "\n", 0600);
}

bool CredentialFile::erase(std::string_view host) const {
  if (!std::filesystem::exists(path_)) return false;
  Json j = load(path_);
  if (!j.contains("auths") || !j["auths"].is_object()) return false;
  bool found = false;
  for (const auto& key : host_keys(host)) found = j["auths"].erase(key) > 0 || found;
  if (found) write_file_atomic(path_, j.dump(1, '\t') + "\n", 0600);
  return found;
}

}  // namespace skiff
