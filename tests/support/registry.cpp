#include "support/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/skiff_cli.h"

extern char** environ;

namespace skiff::test {

namespace {

std::filesystem::path script(const std::string& name) { return std::filesystem::path(SKIFF_TEST_SUPPORT_DIR) / name; }

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

void openssl(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.directory = dir;
  check_output(argv, options);
}

// A CA, and a certificate it signs for `names` (SANs) with `stem`.key/.crt.
void make_certificate(const std::filesystem::path& dir, const std::string& stem, const std::string& subject_alt_names) {
  if (!std::filesystem::exists(dir / "ca.crt")) {
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=skiff test CA"}, dir);
  }
  write_file_atomic(dir / (stem + ".ext"), "subjectAltName=" + subject_alt_names + "\n", 0644, false);
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", stem + ".key", "-out", stem + ".csr", "-subj",
           "/CN=127.0.0.1"}, dir);
  openssl({"x509", "-req", "-in", stem + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
           stem + ".crt", "-days", "2", "-extfile", stem + ".ext"}, dir);
}

}  // namespace

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

ChildProcess spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                          const std::vector<std::string>& extra_env) {
  auto program = find_program(argv[0]);
  if (!program) fail(ErrorKind::not_found, "{}: not installed (scripts/deps)", argv[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program->c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail_errno(rc, "spawn " + argv[0]);
  return ChildProcess(pid);
}

int wait_for_port_file(const std::filesystem::path& file, ChildProcess& process, const std::filesystem::path& log) {
  for (int i = 0; i < 400; ++i) {
    if (auto text = read_file_if_exists(file); text && !text->empty()) return std::stoi(*text);
    if (auto exited = process.poll())
      fail(ErrorKind::unavailable, "helper exited with {}: {}", *exited, read_file_if_exists(log).value_or(""));
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  fail(ErrorKind::unavailable, "helper did not start: {}", read_file_if_exists(log).value_or(""));
}

TestRegistry::TestRegistry(RegistryConfig config) : config_(config) {
  const auto& dir = dir_.path();
  int port = free_port();
  host_ = fmt::format("127.0.0.1:{}", port);
  ensure_dir(dir / "data");
  ensure_dir(dir / "tls");
  std::string yaml = fmt::format(
      "version: 0.1\n"
      "log:\n  level: info\n  accesslog:\n    disabled: false\n"
      "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
      "http:\n  addr: {}\n",
      (dir / "data").string(), host_);
  if (config.tls) {
    make_certificate(dir / "tls", "registry", "IP:127.0.0.1,DNS:localhost");
    yaml += fmt::format("  tls:\n    certificate: {}\n    key: {}\n", (dir / "tls/registry.crt").string(),
                        (dir / "tls/registry.key").string());
    ensure_dir(certs_dir() / host_);
    std::filesystem::copy_file(dir / "tls/ca.crt", certs_dir() / host_ / "ca.crt");
  }
  if (config.auth == RegistryAuth::basic) {
    check_output({"htpasswd", "-Bbc", (dir / "htpasswd").string(), user, password});
    yaml += fmt::format("auth:\n  htpasswd:\n    realm: skiff-test\n    path: {}\n", (dir / "htpasswd").string());
  } else if (config.auth == RegistryAuth::token) {
    // The token signing certificate doubles as the registry's trust root.
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.crt", "-days",
             "2", "-subj", "/CN=skiff test token issuer"}, dir / "tls");
    token_server_ = spawn_logged({"python3", script("token_server.py").string(), (dir / "token.port").string(),
                                  (dir / "tls/token.key").string(), (dir / "tls/token.crt").string(), user, password,
                                  "skiff-test-issuer", "skiff-test-registry"},
                                 dir / "token.log");
    int token_port = wait_for_port_file(dir / "token.port", token_server_, dir / "token.log");
    yaml += fmt::format(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: skiff-test-registry\n"
        "    issuer: skiff-test-issuer\n    rootcertbundle: {}\n",
        token_port, (dir / "tls/token.crt").string());
  }
  write_file_atomic(dir / "config.yml", yaml, 0644, false);
  registry_ = spawn_logged({"docker-registry", "serve", (dir / "config.yml").string()}, dir / "registry.log");
  for (int i = 0; i < 400; ++i) {
    if (port_open(port)) return;
    if (auto exited = registry_.poll())
      fail(ErrorKind::unavailable, "docker-registry exited with {}: {}", *exited, log());
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  fail(ErrorKind::unavailable, "docker-registry did not start: {}", log());
}

TestRegistry::~TestRegistry() {
  registry_.kill(SIGTERM);
  registry_.wait();
  token_server_.kill(SIGTERM);
  token_server_.wait();
}

std::string TestRegistry::log() const { return read_file_if_exists(dir_.path() / "registry.log").value_or(""); }

std::filesystem::path TestRegistry::blob_data(const Digest& digest) const {
  return dir_.path() / "data/docker/registry/v2/blobs" / digest.algorithm() / digest.hex().substr(0, 2) / digest.hex() /
         "data";
}

void TestRegistry::seed(const std::filesystem::path& layout, const std::string& tag,
                        const std::string& destination) const {
  std::vector<std::string> argv = {"skopeo", "copy", "--all", "--dest-tls-verify=false", "--src-tls-verify=false"};
  if (config_.auth != RegistryAuth::none) argv.push_back(fmt::format("--dest-creds={}:{}", user, password));
  argv.push_back("oci:" + layout.string() + ":" + tag);
  argv.push_back("docker://" + host_ + "/" + destination);
  CommandOptions options;
  // skopeo must not pick up the test's credential files or policies.
  options.extra_env = {"REGISTRY_AUTH_FILE=" + (dir_.path() / "skopeo-auth.json").string()};
  write_file_atomic(dir_.path() / "skopeo-auth.json", "{}", 0600, false);
  write_file_atomic(dir_.path() / "policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})", 0644, false);
  argv.insert(argv.begin() + 1, "--policy=" + (dir_.path() / "policy.json").string());
  check_output(argv, options);
}

std::vector<std::string> TestRegistry::env() const { return {"SKIFF_CERTS_DIR=" + certs_dir().string()}; }

FakeRegistry::FakeRegistry(const Json& routes) {
  write_file_atomic(dir_.path() / "routes.json", routes.dump(), 0644, false);
  server_ = spawn_logged({"python3", script("fake_registry.py").string(), (dir_.path() / "port").string(),
                          (dir_.path() / "routes.json").string()},
                         dir_.path() / "server.log");
  host_ = fmt::format("127.0.0.1:{}", wait_for_port_file(dir_.path() / "port", server_, dir_.path() / "server.log"));
}

std::vector<std::string> FakeRegistry::requests() const {
  auto text = read_file_if_exists(dir_.path() / "port.log").value_or("");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

ThrottleProxy::ThrottleProxy(const std::string& target, std::uint64_t bytes_per_second) {
  auto colon = target.rfind(':');
  server_ = spawn_logged({"python3", script("throttle_proxy.py").string(), (dir_.path() / "port").string(),
                          target.substr(0, colon), target.substr(colon + 1), std::to_string(bytes_per_second)},
                         dir_.path() / "proxy.log");
  host_ = fmt::format("127.0.0.1:{}", wait_for_port_file(dir_.path() / "port", server_, dir_.path() / "proxy.log"));
}

std::uint64_t ThrottleProxy::relayed() const {
  auto text = read_file_if_exists(dir_.path() / "port.bytes");
  return text && !text->empty() ? std::stoull(*text) : 0;
}

}  // namespace skiff::test
