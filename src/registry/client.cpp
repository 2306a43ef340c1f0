#include "registry/client.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"
#include "registry/auth.h"
#include "registry/http.h"

namespace skiff {

using registry::Challenge;
using registry::HttpRequest;
using registry::HttpResponse;

RegistryOptions RegistryOptions::from(const Config& config) {
  RegistryOptions options;
  options.insecure_registries = config.insecure_registries;
  const char* certs = std::getenv("SKIFF_CERTS_DIR");
  options.certs_dir = certs && *certs ? certs : "/etc/skiff/certs.d";
  // For registries (or proxies) that cap a request's body.
  if (const char* chunk = std::getenv("SKIFF_UPLOAD_CHUNK_SIZE"); chunk && *chunk) {
    char* end = nullptr;
    unsigned long long bytes = std::strtoull(chunk, &end, 10);
    if (*end != '\0' || bytes < 64 * 1024)
      fail(ErrorKind::invalid_argument, "SKIFF_UPLOAD_CHUNK_SIZE={}: give a number of bytes, at least 65536", chunk);
    options.chunk_size = bytes;
  }
  return options;
}

namespace {

// "host:port" -> "host"; "[::1]:5000" -> "::1".
std::string host_part(std::string_view domain) {
  if (domain.starts_with("[")) {
    auto close = domain.find(']');
    return std::string(domain.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto colon = domain.rfind(':');
  return std::string(colon == std::string_view::npos ? domain : domain.substr(0, colon));
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string media_type_of(const HttpResponse& response) {
  std::string type = response.header("content-type");
  if (auto semicolon = type.find(';'); semicolon != std::string::npos) type.resize(semicolon);
  return std::string(trim(type));
}

// The registry's own explanation ({"errors":[{"code":…,"message":…}]}), if any.
std::string registry_message(const HttpResponse& response) {
  if (response.body.empty() || response.body_too_large) return {};
  try {
    Json j = Json::parse(response.body);
    if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
      const Json& e = j["errors"][0];
      std::string code = e.value("code", "");
      std::string message = e.value("message", "");
      if (!code.empty() && !message.empty()) return code + ": " + message;
      return code.empty() ? message : code;
    }
  } catch (const Json::exception&) {
  }
  return {};
}

std::string status_text(long status) {
  switch (status) {
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 416: return "416 Range Not Satisfiable";
    case 429: return "429 Too Many Requests";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    case 504: return "504 Gateway Timeout";
    default: return std::to_string(status);
  }
}

bool parse_ipv4(const std::string& host, in_addr& out) { return ::inet_pton(AF_INET, host.c_str(), &out) == 1; }

}  // namespace

std::string registry_host_argument(std::string_view input) {
  std::string text(trim(input));
  for (std::string_view scheme : {"https://", "http://"})
    if (text.starts_with(scheme)) text.erase(0, scheme.size());
  while (!text.empty() && text.back() == '/') text.pop_back();
  if (text.ends_with("/v1") || text.ends_with("/v2")) text.resize(text.size() - 3);
  bool valid = !text.empty() && text.find_first_of("/@ \t") == std::string::npos;
  if (!valid) fail(ErrorKind::invalid_argument, "invalid registry \"{}\": give HOST[:PORT]", input);
  return text;
}

bool is_loopback_registry(std::string_view domain) {
  std::string host = host_part(domain);
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  return parse_ipv4(host, address) && (ntohl(address.s_addr) >> 24) == 127;
}

struct RegistryClient::State {
  std::mutex mutex;
  bool probed = false;
  std::string base;  // "https://host:port"
  std::unique_ptr<registry::HttpClient> http;
  std::optional<Challenge> challenge;
  std::map<std::string, registry::Token> tokens;  // by scope list
  std::once_flag credentials_loaded;
  std::optional<Credentials> credentials;
};

RegistryClient::RegistryClient(std::string domain, RegistryOptions options)
    : domain_(std::move(domain)), options_(std::move(options)), state_(std::make_unique<State>()) {}

RegistryClient::~RegistryClient() = default;

namespace {

class Session {
 public:
  Session(const std::string& domain, const RegistryOptions& options, RegistryClient::State& state)
      : domain_(domain), options_(options), state_(state) {}

  // Decides the scheme (and TLS settings) with a GET /v2/, once.
  void probe() {
    std::lock_guard lock(state_.mutex);
    if (state_.probed) return;
    bool insecure = is_loopback_registry(domain_);
    for (const auto& r : options_.insecure_registries)
      if (r == domain_ || r == host_part(domain_)) insecure = true;

    registry::TlsSettings tls;
    std::filesystem::path certs = options_.certs_dir / domain_;
    if (!options_.certs_dir.empty() && std::filesystem::exists(certs / "ca.crt")) tls.ca_file = certs / "ca.crt";
    if (!options_.certs_dir.empty() && std::filesystem::exists(certs / "client.cert")) {
      tls.cert_file = certs / "client.cert";
      tls.key_file = certs / "client.key";
    }
    // As docker: an insecure registry's certificate is not verified unless
    // a CA was given for it.
    tls.verify = !insecure || !tls.ca_file.empty();

    HttpResponse response;
    try {
      state_.http = std::make_unique<registry::HttpClient>(tls);
      state_.base = "https://" + domain_;
      response = ping();
    } catch (const Error& e) {
      // A CA given for the registry means it speaks TLS: no plain fallback.
      if (!insecure || !tls.ca_file.empty()) throw;
      log::debug("{}: HTTPS failed ({}); trying plain HTTP", domain_, e.what());
      state_.http = std::make_unique<registry::HttpClient>(registry::TlsSettings{});
      state_.base = "http://" + domain_;
      response = ping();
      // Plain HTTP to a TLS server: the TLS error was the real one.
      if (response.status == 400) throw;
    }
    if (response.status == 401) {
      learn_challenge(response);
      if (!state_.challenge)
        fail(ErrorKind::unauthorized, "registry {} asks for authentication it does not describe (no usable "
             "WWW-Authenticate challenge)", domain_);
    } else if (response.status == 404) {
      fail(ErrorKind::unavailable, "{} does not serve the registry API (GET /v2/ answered 404); check the registry name",
           domain_);
    } else if (response.status >= 300) {
      fail_status(response, "GET /v2/");
    }
    state_.probed = true;
  }

  HttpResponse send(HttpRequest request, const std::string& path, const std::vector<std::string>& scopes) {
    probe();
    request.url = path.starts_with("http://") || path.starts_with("https://") ? path : state_.base + path;
    HttpResponse response;
    for (int attempt = 0; attempt < 2; ++attempt) {
      HttpRequest r = request;
      if (auto header = authorization(scopes)) r.headers.push_back(*header);
      response = state_.http->perform(r, domain_);
      // An upload body cannot be replayed; the POST before it settles auth.
      if (response.status != 401 || attempt == 1 || request.upload) break;
      // The token expired or lacks a scope the registry now names: learn
      // the new challenge and try once more.
      std::lock_guard lock(state_.mutex);
      learn_challenge(response);
      if (!state_.challenge) break;
      state_.tokens.erase(join(scopes, " "));
      if (state_.challenge->scheme == "basic" && !credentials()) break;
    }
    return response;
  }

  std::optional<Credentials> credentials() {
    std::call_once(state_.credentials_loaded, [this] {
      state_.credentials = options_.credentials ? options_.credentials : options_.credential_file.find(domain_);
    });
    return state_.credentials;
  }

  [[noreturn]] void fail_status(const HttpResponse& response, const std::string& what) {
    std::string said = registry_message(response);
    std::string detail = said.empty() ? status_text(response.status) : status_text(response.status) + ", " + said;
    bool have_credentials = credentials().has_value();
    switch (response.status) {
      case 401:
        if (have_credentials)
          fail(ErrorKind::unauthorized, "{}: registry {} refused the stored credentials ({}); run `skiff login {}` again",
               what, domain_, detail, domain_);
        fail(ErrorKind::unauthorized, "{}: registry {} requires authentication ({}); run `skiff login {}`", what,
             domain_, detail, domain_);
      case 403:
        fail(ErrorKind::unauthorized, "{}: registry {} denied access ({}); check the name, or `skiff login {}` as a "
             "user allowed to use it", what, domain_, detail, domain_);
      case 404:
        fail(ErrorKind::not_found, "{}: not found in registry {} ({})", what, domain_, detail);
      case 429:
        fail(ErrorKind::unavailable, "{}: registry {} is rate-limiting requests ({}); try again later", what, domain_,
             detail);
      default:
        if (response.status >= 500)
          fail(ErrorKind::unavailable, "{}: registry {} failed ({}); try again later", what, domain_, detail);
        fail(ErrorKind::invalid_argument, "{}: registry {} refused the request ({})", what, domain_, detail);
    }
  }

  const std::string& base() const { return state_.base; }

 private:
  HttpResponse ping() {
    HttpRequest request;
    request.url = state_.base + "/v2/";
    request.max_body = 64 << 10;
    return state_.http->perform(request, domain_);
  }

  // Takes the first challenge skiff can answer: bearer, else basic.
  void learn_challenge(const HttpResponse& response) {
    std::optional<Challenge> basic;
    for (const auto& header : response.www_authenticate) {
      for (auto& c : registry::parse_challenges(header)) {
        if (c.scheme == "bearer" && !c.param("realm").empty()) {
          state_.challenge = c;
          return;
        }
        if (c.scheme == "basic" && !basic) basic = c;
      }
    }
    if (basic) state_.challenge = basic;
  }

  std::optional<std::string> authorization(const std::vector<std::string>& scopes) {
    std::lock_guard lock(state_.mutex);
    if (!state_.challenge) return std::nullopt;
    if (state_.challenge->scheme == "basic") {
      auto c = credentials();
      if (!c) return std::nullopt;
      return "Authorization: Basic " + registry::base64_encode(c->username + ":" + c->password);
    }
    std::string key = join(scopes, " ");
    auto it = state_.tokens.find(key);
    if (it != state_.tokens.end() && it->second.expires > std::chrono::steady_clock::now())
      return "Authorization: Bearer " + it->second.value;
    registry::Token token = fetch_token(scopes);
    std::string header = "Authorization: Bearer " + token.value;
    state_.tokens[key] = std::move(token);
    return header;
  }

  registry::Token fetch_token(const std::vector<std::string>& scopes) {
    std::string realm = state_.challenge->param("realm");
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    std::vector<std::string> query;
    if (auto service = state_.challenge->param("service"); !service.empty()) query.push_back("service=" + percent_encode(service));
    for (const auto& scope : scopes) query.push_back("scope=" + percent_encode(scope));
    auto c = credentials();
    if (c) query.push_back("account=" + percent_encode(c->username));
    url += join(query, "&");
    HttpRequest request;
    request.url = url;
    request.max_body = 1 << 20;
    if (c) request.headers.push_back("Authorization: Basic " + registry::base64_encode(c->username + ":" + c->password));
    HttpResponse response = state_.http->perform(request, domain_);
    if (response.status == 401 || response.status == 403) {
      if (c)
        fail(ErrorKind::unauthorized, "registry {} refused the credentials of \"{}\" (token service {} answered {}); "
             "run `skiff login {}` again", domain_, c->username, realm, status_text(response.status), domain_);
      fail(ErrorKind::unauthorized, "registry {} requires authentication (token service {} answered {}); run "
           "`skiff login {}`", domain_, realm, status_text(response.status), domain_);
    }
    if (response.status != 200)
      fail(ErrorKind::unavailable, "registry {}: token service {} answered {}; try again later", domain_, realm,
           status_text(response.status));
    return registry::parse_token_response(response.body, realm);
  }

  const std::string& domain_;
  const RegistryOptions& options_;
  RegistryClient::State& state_;
};

std::string accept_header(const std::vector<std::string>& accept) { return "Accept: " + join(accept, ", "); }

std::string with_query(const std::string& location, const std::string& query) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

#define SESSION Session session(domain_, options_, *state_)

void RegistryClient::check_login() {
  SESSION;
  HttpRequest request;
  request.max_body = 64 << 10;
  // A token for no repository proves the credentials to a token service;
  // Basic registries check them on /v2/ itself.
  HttpResponse response = session.send(request, "/v2/", {});
  if (response.status != 200) session.fail_status(response, "login to " + domain_);
}

std::optional<ManifestHead> RegistryClient::head_manifest(std::string_view repository, std::string_view reference,
                                                          const std::vector<std::string>& accept) {
  SESSION;
  HttpRequest request;
  request.method = "HEAD";
  request.headers.push_back(accept_header(accept));
  auto response = session.send(request, fmt::format("/v2/{}/manifests/{}", repository, reference),
                               {registry::repository_scope(repository, options_.push)});
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) session.fail_status(response, fmt::format("manifest {}:{}", repository, reference));
  ManifestHead head;
  head.media_type = media_type_of(response);
  if (auto d = response.header("docker-content-digest"); Digest::valid(d)) head.digest = Digest::parse(d);
  if (auto length = response.header("content-length"); !length.empty()) head.size = std::strtoull(length.c_str(), nullptr, 10);
  return head;
}

FetchedManifest RegistryClient::get_manifest(std::string_view repository, std::string_view reference,
                                             const std::vector<std::string>& accept, size_t max_size) {
  SESSION;
  std::string what = fmt::format("manifest {}{}{}", repository, reference.find(':') == std::string_view::npos ? ":" : "@", reference);
  HttpRequest request;
  request.headers.push_back(accept_header(accept));
  request.max_body = max_size;
  auto response = session.send(request, fmt::format("/v2/{}/manifests/{}", repository, reference),
                               {registry::repository_scope(repository, options_.push)});
  if (response.status != 200) session.fail_status(response, what);
  if (response.body_too_large)
    fail(ErrorKind::unsupported, "{}: larger than {} bytes, the limit for manifests; refused", what, max_size);
  FetchedManifest manifest;
  manifest.media_type = media_type_of(response);
  manifest.bytes = std::move(response.body);
  if (Digest::valid(reference)) {
    Digest wanted = Digest::parse(reference);
    Hasher hasher(wanted.algorithm());
    hasher.update(manifest.bytes);
    manifest.digest = hasher.digest();
    if (manifest.digest != wanted)
      fail(ErrorKind::corrupt, "{}: digest mismatch (got {}): the registry served different content; nothing was stored",
           what, manifest.digest.str());
  } else {
    manifest.digest = sha256_of(manifest.bytes);
    auto said = response.header("docker-content-digest");
    if (Digest::valid(said) && said.starts_with("sha256:") && said != manifest.digest.str())
      fail(ErrorKind::corrupt, "{}: the registry announced digest {} but served content with digest {}; nothing was stored",
           what, said, manifest.digest.str());
  }
  return manifest;
}

Digest RegistryClient::put_manifest(std::string_view repository, std::string_view reference,
                                    std::string_view media_type, std::string_view bytes) {
  SESSION;
  HttpRequest request;
  request.method = "PUT";
  request.headers.push_back("Content-Type: " + std::string(media_type));
  request.body = std::string(bytes);
  auto response = session.send(request, fmt::format("/v2/{}/manifests/{}", repository, reference),
                               {registry::repository_scope(repository, true)});
  if (response.status != 201 && response.status != 200)
    session.fail_status(response, fmt::format("push manifest {}:{}", repository, reference));
  if (auto d = response.header("docker-content-digest"); Digest::valid(d)) return Digest::parse(d);
  return sha256_of(bytes);
}

std::optional<std::uint64_t> RegistryClient::blob_size(std::string_view repository, const Digest& digest) {
  SESSION;
  HttpRequest request;
  request.method = "HEAD";
  auto response = session.send(request, fmt::format("/v2/{}/blobs/{}", repository, digest.str()),
                               {registry::repository_scope(repository, options_.push)});
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) session.fail_status(response, fmt::format("blob {} of {}", digest.str(), repository));
  return std::strtoull(response.header("content-length").c_str(), nullptr, 10);
}

void RegistryClient::get_blob(std::string_view repository, const Digest& digest, std::uint64_t offset,
                              const BlobReceiver& receiver) {
  SESSION;
  std::string what = fmt::format("blob {} of {}", digest.str(), repository);
  for (int attempt = 0; attempt < 2; ++attempt) {
    HttpRequest request;
    request.max_body = 64 << 10;
    request.cancel = receiver.cancel;
    if (offset > 0) request.headers.push_back(fmt::format("Range: bytes={}-", offset));
    std::uint64_t start = offset;
    request.on_status = [&](long status) { receiver.on_start(status == 206 ? start : 0); };
    request.on_data = receiver.on_data;
    auto response = session.send(request, fmt::format("/v2/{}/blobs/{}", repository, digest.str()),
                                 {registry::repository_scope(repository, options_.push)});
    if (response.status == 416 && offset > 0) {
      offset = 0;  // the registry cannot resume there: start over
      continue;
    }
    if (response.status < 200 || response.status >= 300) session.fail_status(response, what);
    return;
  }
}

bool RegistryClient::mount_blob(std::string_view repository, const Digest& digest, std::string_view from) {
  SESSION;
  HttpRequest request;
  request.method = "POST";
  auto response = session.send(
      request, fmt::format("/v2/{}/blobs/uploads/?mount={}&from={}", repository, digest.str(), from),
      {registry::repository_scope(repository, true), registry::repository_scope(from, false)});
  if (response.status == 201) return true;
  if (response.status == 202) {
    // The registry opened an upload instead; close it, upload_blob opens its own.
    if (auto location = response.header("location"); !location.empty()) {
      HttpRequest cancel;
      cancel.method = "DELETE";
      try {
        session.send(cancel, location, {registry::repository_scope(repository, true)});
      } catch (const Error&) {
      }
    }
    return false;
  }
  session.fail_status(response, fmt::format("mount blob {} from {} into {}", digest.str(), from, repository));
}

void RegistryClient::upload_blob(std::string_view repository, const Digest& digest, std::uint64_t size,
                                 const std::function<size_t(char*, size_t)>& read) {
  SESSION;
  std::string what = fmt::format("upload blob {} to {}", digest.str(), repository);
  std::vector<std::string> scopes = {registry::repository_scope(repository, true)};
  HttpRequest start;
  start.method = "POST";
  auto response = session.send(start, fmt::format("/v2/{}/blobs/uploads/", repository), scopes);
  if (response.status != 202) session.fail_status(response, what);
  std::string location = response.header("location");
  if (location.empty()) fail(ErrorKind::unavailable, "{}: registry {} opened an upload without a Location", what, domain_);

  auto next_location = [&](const HttpResponse& r) {
    std::string l = r.header("location");
    if (!l.empty()) location = l;
  };
  if (size <= options_.chunk_size) {
    HttpRequest put;
    put.method = "PUT";
    put.headers = {"Content-Type: application/octet-stream"};
    put.upload = read;
    put.upload_size = size;
    response = session.send(put, with_query(location, "digest=" + digest.str()), scopes);
    if (response.status != 201) session.fail_status(response, what);
    return;
  }
  std::uint64_t offset = 0;
  while (offset < size) {
    std::uint64_t length = std::min<std::uint64_t>(options_.chunk_size, size - offset);
    std::uint64_t remaining = length;
    HttpRequest patch;
    patch.method = "PATCH";
    patch.headers = {"Content-Type: application/octet-stream",
                     fmt::format("Content-Range: {}-{}", offset, offset + length - 1)};
    patch.upload = [&](char* buffer, size_t max) -> size_t {
      size_t n = read(buffer, static_cast<size_t>(std::min<std::uint64_t>(max, remaining)));
      remaining -= n;
      return n;
    };
    patch.upload_size = length;
    response = session.send(patch, location, scopes);
    if (response.status != 202) session.fail_status(response, what);
    next_location(response);
    offset += length;
  }
  HttpRequest put;
  put.method = "PUT";
  put.headers = {"Content-Type: application/octet-stream"};
  response = session.send(put, with_query(location, "digest=" + digest.str()), scopes);
  if (response.status != 201) session.fail_status(response, what);
}

}  // namespace skiff
