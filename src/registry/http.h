// The HTTP layer of the registry client: one libcurl easy handle per
// request in flight, reused across requests for keep-alive. Bodies are
// either buffered (manifests, tokens, errors: small and capped) or streamed
// to a callback (blobs). Connection failures become `unavailable` errors
// naming the host; HTTP statuses are left to the caller.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"

namespace skiff::registry {

struct TlsSettings {
  bool verify = true;
  std::string ca_file;    // replaces the system bundle when set
  std::string cert_file;  // client certificate (certs.d/HOST/client.cert)
  std::string key_file;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // A small body sent as is (manifests, empty PUTs).
  std::string body;
  // A streamed body of `upload_size` bytes: fills the buffer, returns the
  // count (0 at the end). Set for blob uploads; `body` is ignored then.
  std::function<size_t(char*, size_t)> upload;
  std::uint64_t upload_size = 0;
  // Streamed response body of a 2xx answer: called with each chunk after
  // `on_status`. Without it, the body is buffered up to `max_body` bytes.
  std::function<void(long status)> on_status;
  std::function<void(const char*, size_t)> on_data;
  size_t max_body = 4 << 20;
  const std::atomic<bool>* cancel = nullptr;
  bool follow_redirects = true;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
  std::vector<std::string> www_authenticate;   // every WWW-Authenticate value
  std::string body;                            // buffered body (non-streamed or error answers)
  bool body_too_large = false;                 // the buffered body exceeded max_body
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  explicit HttpClient(TlsSettings tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws `unavailable` naming `host` when the request cannot be made
  // (resolution, connection, TLS, transfer cut short); exceptions thrown by
  // the callbacks abort the transfer and propagate unchanged.
  HttpResponse perform(const HttpRequest& request, const std::string& host);

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle> handle);

  TlsSettings tls_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// TLS-level failures (handshake, certificate): an insecure registry falls
// back to plain HTTP on these.
class TlsFailure : public Error {
 public:
  using Error::Error;
};

}  // namespace skiff::registry
