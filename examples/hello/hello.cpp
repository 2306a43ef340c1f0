// The quick start's app: a self-contained C++ program built on core and run
// on nano. It reports where it runs (hostname, user, kernel), proves the
// TLS library and the CA bundle are there, and can serve HTTP.
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

namespace {

std::string report() {
  utsname u{};
  ::uname(&u);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const passwd* pw = ::getpwuid(::getuid());
  // Loading the system CA bundle shows nano carries what TLS clients need.
  SSL_CTX* tls = SSL_CTX_new(TLS_client_method());
  bool ca_ok = tls && SSL_CTX_set_default_verify_paths(tls) == 1 &&
               X509_STORE_get0_objects(SSL_CTX_get_cert_store(tls)) != nullptr;
  int certificates = ca_ok ? sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(tls))) : 0;
  SSL_CTX_free(tls);
  std::ostringstream out;
  out << "hello from skiff\n"
      << "  hostname: " << host << "\n"
      << "  user:     " << (pw ? pw->pw_name : "?") << " (uid " << ::getuid() << ")\n"
      << "  kernel:   " << u.sysname << " " << u.release << " " << u.machine << "\n"
      << "  tls:      " << OpenSSL_version(OPENSSL_VERSION) << ", " << certificates << " CA certificates loaded\n";
  return out.str();
}

int serve(int port) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 16) != 0) {
    std::cerr << "hello: cannot listen on port " << port << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::cout << "hello: serving on port " << port << std::endl;
  for (;;) {
    int client = ::accept(listener, nullptr, nullptr);
    if (client < 0) continue;
    char request[4096];
    [[maybe_unused]] auto n = ::read(client, request, sizeof request);
    std::string body = report();
    std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
    [[maybe_unused]] auto w = ::write(client, response.data(), response.size());
    ::close(client);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--serve") return serve(std::stoi(argv[2]));
  std::cout << report();
  return 0;
}
