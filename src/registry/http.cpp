#include "registry/http.h"

#include "registry/libcurl.h"

#include <algorithm>
#include <cctype>
#include <exception>

#include "core/strings.h"

namespace skiff::registry {

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  Handle() : curl(libcurl().easy_init()) {
    if (curl == nullptr) fail(ErrorKind::internal, "libcurl: cannot create a handle");
  }
  ~Handle() { libcurl().easy_cleanup(curl); }
};

namespace {


// State shared with libcurl's callbacks for one transfer.
struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  bool status_seen = false;
  bool streaming = false;
  std::exception_ptr error;
  std::uint64_t uploaded = 0;
  std::string_view pending_body;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): start over.
    t->response.headers.clear();
    t->response.www_authenticate.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value(trim(line.substr(colon + 1)));
  if (name == "www-authenticate") t->response.www_authenticate.push_back(value);
  t->response.headers[name] = std::move(value);
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * count;
  try {
    if (t->request->cancel && t->request->cancel->load(std::memory_order_relaxed)) return 0;
    if (!t->status_seen) {
      t->status_seen = true;
      libcurl().easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->response.status);
      t->streaming = t->request->on_data && t->response.status >= 200 && t->response.status < 300;
      if (t->streaming && t->request->on_status) t->request->on_status(t->response.status);
    }
    if (t->streaming) {
      t->request->on_data(data, bytes);
      return bytes;
    }
    if (t->response.body.size() + bytes > t->request->max_body) {
      t->response.body_too_large = true;
      return 0;
    }
    t->response.body.append(data, bytes);
    return bytes;
  } catch (...) {
    t->error = std::current_exception();
    return 0;
  }
}

size_t on_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    if (t->request->cancel && t->request->cancel->load(std::memory_order_relaxed)) return CURL_READFUNC_ABORT;
    if (t->request->upload) {
      size_t n = t->request->upload(buffer, size * count);
      t->uploaded += n;
      return n;
    }
    size_t n = std::min(size * count, t->pending_body.size());
    std::copy_n(t->pending_body.data(), n, buffer);
    t->pending_body.remove_prefix(n);
    return n;
  } catch (...) {
    t->error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

[[noreturn]] void fail_transport(CURLcode code, const char* detail, const std::string& host, const HttpRequest& r) {
  std::string what = *detail ? detail : libcurl().easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      fail(ErrorKind::unavailable, "registry {} is unreachable: unknown host; check the name", host);
    case CURLE_COULDNT_CONNECT:
      fail(ErrorKind::unavailable, "registry {} is unreachable: {}; check that it is running", host, what);
    case CURLE_OPERATION_TIMEDOUT:
      fail(ErrorKind::unavailable, "registry {} timed out ({}); try again", host, what);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
      throw TlsFailure(ErrorKind::unavailable,
                       fmt::format("TLS connection to registry {} failed: {}; put its CA certificate in "
                                   "certs.d/{}/ca.crt or, for a plain-HTTP registry, use --insecure-registry {}",
                                   host, what, host, host));
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      fail(ErrorKind::unavailable, "registry {}: {} {} was cut short ({}); run the command again to resume",
           host, r.method, r.url, what);
    default:
      fail(ErrorKind::unavailable, "registry {}: {} {} failed: {}", host, r.method, r.url, what);
  }
}

}  // namespace

HttpClient::HttpClient(TlsSettings tls) : tls_(std::move(tls)) {
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      libcurl().easy_reset(handle->curl);
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

HttpResponse HttpClient::perform(const HttpRequest& request, const std::string& host) {
  auto handle = acquire();
  CURL* curl = handle->curl;
  Transfer t;
  t.request = &request;
  t.curl = curl;
  t.pending_body = request.body;
  char error_text[CURL_ERROR_SIZE] = "";

  libcurl().easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  libcurl().easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  libcurl().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  libcurl().easy_setopt(curl, CURLOPT_USERAGENT, "skiff/" SKIFF_REGISTRY_VERSION);
  libcurl().easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 byte/s for a minute) fails instead of hanging.
  libcurl().easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  libcurl().easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  libcurl().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  libcurl().easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  libcurl().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  libcurl().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  libcurl().easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  libcurl().easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  libcurl().easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  libcurl().easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  libcurl().easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
  libcurl().easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
  if (!tls_.ca_file.empty()) libcurl().easy_setopt(curl, CURLOPT_CAINFO, tls_.ca_file.c_str());
  if (!tls_.cert_file.empty()) libcurl().easy_setopt(curl, CURLOPT_SSLCERT, tls_.cert_file.c_str());
  if (!tls_.key_file.empty()) libcurl().easy_setopt(curl, CURLOPT_SSLKEY, tls_.key_file.c_str());

  if (request.method == "HEAD") {
    libcurl().easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "PATCH" || request.method == "POST") {
    std::uint64_t size = request.upload ? request.upload_size : request.body.size();
    libcurl().easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    libcurl().easy_setopt(curl, CURLOPT_READFUNCTION, on_upload);
    libcurl().easy_setopt(curl, CURLOPT_READDATA, &t);
    libcurl().easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    if (request.method != "PUT") libcurl().easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    libcurl().easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = libcurl().slist_append(headers, h.c_str());
  // libcurl would otherwise wait for "100 Continue" before every upload.
  headers = libcurl().slist_append(headers, "Expect:");
  libcurl().easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = libcurl().easy_perform(curl);
  libcurl().slist_free_all(headers);
  libcurl().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t.response.status);
  release(std::move(handle));

  if (t.error) std::rethrow_exception(t.error);
  if (code == CURLE_WRITE_ERROR && t.response.body_too_large) return std::move(t.response);
  if (code != CURLE_OK) {
    if (request.cancel && request.cancel->load()) fail(ErrorKind::unavailable, "{} {}: cancelled", request.method, request.url);
    fail_transport(code, error_text, host, request);
  }
  // An empty 2xx body never reached on_body: report the status anyway.
  if (!t.status_seen && request.on_status && t.response.status >= 200 && t.response.status < 300)
    request.on_status(t.response.status);
  return std::move(t.response);
}

}  // namespace skiff::registry
