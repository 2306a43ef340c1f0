#include "engine/vm_control.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/thread.h"
#include "vm/attach.h"

namespace skiff::engine {

namespace proto = vm::protocol;
using proto::MessageType;

namespace {

constexpr const char* kSocketName = "vm.sock";
constexpr int kPassedFds = 3;  // stdin, stdout, stderr of an exec

// Unix socket paths are limited to 108 bytes and a store root can be deep:
// the path goes through a descriptor of the container directory instead
// (as conmon does for its attach socket).
struct SocketAddress {
  UniqueFd dir;
  sockaddr_un address{};
  explicit SocketAddress(const std::filesystem::path& container_dir)
      : dir(::open(container_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    if (!dir) fail_errno("open " + container_dir.string());
    address.sun_family = AF_UNIX;
    fmt::format_to_n(address.sun_path, sizeof address.sun_path - 1, "/proc/self/fd/{}/{}", dir.get(), kSocketName);
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address); }
};

UniqueFd unix_socket() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail_errno("socket");
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool send_frame(int fd, MessageType type, std::string_view payload) {
  return send_all(fd, proto::encode_frame(type, 0, payload));
}

// Reads the next frame, collecting descriptors passed along with it.
// Returns nullopt on EOF, error, a corrupt stream, or when one of the
// `stops` descriptors polls readable.
std::optional<proto::Frame> read_frame(int fd, proto::FrameReader& reader, std::initializer_list<int> stops = {},
                                       std::vector<UniqueFd>* fds = nullptr) {
  for (;;) {
    bool corrupt = false;
    if (auto frame = reader.next(corrupt)) return frame;
    if (corrupt) return std::nullopt;
    pollfd p[3] = {{fd, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
    nfds_t count = 1;
    for (int stop : stops) p[count++].fd = stop;
    if (::poll(p, count, -1) < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    for (nfds_t i = 1; i < count; ++i)
      if (p[i].revents) return std::nullopt;
    char buffer[8192];
    iovec iov{buffer, sizeof buffer};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kPassedFds)];
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (fds) fds->emplace_back(received);
        else ::close(received);
      }
    }
    reader.feed(buffer, static_cast<size_t>(n));
  }
}

std::int32_t payload_i32(const proto::Frame& frame) {
  return frame.payload.size() == 4 ? static_cast<std::int32_t>(proto::get_u32(frame.payload.data())) : 0;
}

UniqueFd connect_control(const std::filesystem::path& container_dir) {
  SocketAddress address(container_dir);
  UniqueFd fd = unix_socket();
  if (::connect(fd.get(), address.get(), sizeof address.address) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      fail(ErrorKind::conflict, "the VM of container {} is not running (no owner listens on its {})",
           container_dir.filename().string().substr(0, 12), kSocketName);
    fail_errno("connect to the VM owner of " + container_dir.filename().string().substr(0, 12));
  }
  return fd;
}

}  // namespace

// ---- the owner's side ----------------------------------------------------------

struct VmControlServer::State {
  vm::VmBox& box;
  std::filesystem::path socket_path;
  UniqueFd listener;
  UniqueFd stop;  // readable once the server is shutting down
  std::thread acceptor;
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mutex;
  std::list<Connection> connections;

  explicit State(vm::VmBox& b) : box(b) {}
  void accept_loop();
  void serve(UniqueFd connection);
  void serve_exec(int connection, proto::FrameReader& reader, const proto::Frame& request, std::vector<UniqueFd> fds);
};

VmControlServer::VmControlServer(const std::filesystem::path& container_dir, vm::VmBox& box)
    : state_(std::make_unique<State>(box)) {
  auto& s = *state_;
  s.socket_path = container_dir / kSocketName;
  SocketAddress address(container_dir);
  ::unlink(s.socket_path.c_str());  // left by an owner that was killed
  s.listener = unix_socket();
  if (::bind(s.listener.get(), address.get(), sizeof address.address) != 0) fail_errno("bind " + s.socket_path.string());
  ::chmod(s.socket_path.c_str(), 0600);
  if (::listen(s.listener.get(), 16) != 0) fail_errno("listen on " + s.socket_path.string());
  s.stop.reset(::eventfd(0, EFD_CLOEXEC));
  if (!s.stop) fail_errno("eventfd");
  s.acceptor = start_thread_without_signals([&s] { s.accept_loop(); });  // its threads inherit that
}

VmControlServer::~VmControlServer() {
  auto& s = *state_;
  std::uint64_t one = 1;
  (void)!::write(s.stop.get(), &one, sizeof one);
  s.acceptor.join();
  for (auto& c : s.connections) c.thread.join();
  ::unlink(s.socket_path.c_str());
}

void VmControlServer::State::accept_loop() {
  for (;;) {
    pollfd p[2] = {{listener.get(), POLLIN, 0}, {stop.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) continue;
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(connection.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != ::geteuid()) {
      log::warn("VM control: refused a connection from uid {}", peer.uid);
      continue;
    }
    std::lock_guard lock(mutex);
    connections.remove_if([](Connection& c) {
      if (!c.done) return false;
      c.thread.join();
      return true;
    });
    auto& slot = connections.emplace_back();
    slot.thread = std::thread([this, &slot, fd = std::move(connection)]() mutable {
      serve(std::move(fd));
      slot.done = true;
    });
  }
}

void VmControlServer::State::serve(UniqueFd connection) {
  proto::FrameReader reader;
  std::vector<UniqueFd> fds;
  auto request = read_frame(connection.get(), reader, {stop.get()}, &fds);
  if (!request) return;
  try {
    switch (request->type) {
      case MessageType::signal:
        box.kill(payload_i32(*request));
        return;
      case MessageType::exec:
        serve_exec(connection.get(), reader, *request, std::move(fds));
        return;
      default:
        send_frame(connection.get(), MessageType::error, "unknown request");
        return;
    }
  } catch (const Error& e) {
    send_frame(connection.get(), MessageType::error, e.what());
  }
}

void VmControlServer::State::serve_exec(int connection, proto::FrameReader& reader, const proto::Frame& request,
                                        std::vector<UniqueFd> fds) {
  auto spec = proto::decode_spec(request.payload);
  if (!spec || fds.size() != kPassedFds) {
    send_frame(connection, MessageType::error, "malformed exec request");
    return;
  }
  vm::Stdio stdio{spec->open_stdin ? fds[0].get() : -1, fds[1].get(), fds[2].get()};
  std::uint32_t id = box.exec(*spec, stdio);
  fds.clear();  // the box holds its own copies

  UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
  if (!exited) fail_errno("eventfd");
  int code = 137;
  std::thread waiter([&] {
    code = box.wait_exec(id);
    std::uint64_t one = 1;
    (void)!::write(exited.get(), &one, sizeof one);
  });
  // Until it exits: the caller's signals and window sizes. A caller that
  // goes away takes its process with it, as a killed `docker exec` does;
  // so does the server's shutdown.
  bool caller_gone = false;
  for (;;) {
    auto frame = read_frame(connection, reader, {exited.get(), stop.get()});
    if (!frame) {
      pollfd p{exited.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) break;  // it exited
      caller_gone = true;
      box.kill_exec(id, SIGKILL);
      break;
    }
    if (frame->type == MessageType::signal) box.kill_exec(id, payload_i32(*frame));
    else if (frame->type == MessageType::resize && frame->payload.size() == 8)
      box.resize_exec(id, static_cast<std::uint16_t>(proto::get_u32(frame->payload.data())),
                      static_cast<std::uint16_t>(proto::get_u32(frame->payload.data() + 4)));
  }
  waiter.join();
  if (caller_gone) return;
  if (auto errors = box.process_errors(id); !errors.empty()) send_frame(connection, MessageType::error, errors);
  send_frame(connection, MessageType::exit, proto::encode_i32(code));
}

// ---- the callers' side ---------------------------------------------------------

void vm_control_kill(const std::filesystem::path& container_dir, int signal) {
  UniqueFd connection = connect_control(container_dir);
  if (!send_frame(connection.get(), MessageType::signal, proto::encode_i32(signal)))
    fail(ErrorKind::unavailable, "the VM owner of {} went away", container_dir.filename().string().substr(0, 12));
  proto::FrameReader reader;
  while (auto frame = read_frame(connection.get(), reader))
    if (frame->type == MessageType::error) fail(ErrorKind::unavailable, "{}", frame->payload);
}

int vm_control_exec(const std::filesystem::path& container_dir, vm::Process process, const vm::Stdio& stdio) {
  UniqueFd connection = connect_control(container_dir);
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) fail_errno("open /dev/null");
  int terminal = vm::user_terminal();
  if (process.terminal) std::tie(process.rows, process.cols) = vm::terminal_size(terminal);

  std::string frame = proto::encode_frame(MessageType::exec, 0, proto::encode_spec(process));
  auto or_devnull = [&](int fd) { return fd < 0 ? devnull.get() : fd; };
  int passed[kPassedFds] = {process.open_stdin ? or_devnull(stdio.in) : devnull.get(), or_devnull(stdio.out),
                            or_devnull(stdio.err)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof passed)] = {};
  iovec iov{frame.data(), frame.size()};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof passed);
  std::memcpy(CMSG_DATA(c), passed, sizeof passed);
  ssize_t sent;
  do sent = ::sendmsg(connection.get(), &message, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) fail_errno("send the exec request");
  if (static_cast<size_t>(sent) < frame.size() && !send_all(connection.get(), std::string_view(frame).substr(sent)))
    fail(ErrorKind::unavailable, "the VM owner went away");

  int fd = connection.get();
  std::string errors;
  std::optional<int> code;
  {
    // The attachment thread is the only writer from here on.
    vm::Attachment attached(process.terminal ? terminal : -1,
                            {[fd](int signal) { send_frame(fd, MessageType::signal, proto::encode_i32(signal)); },
                             [fd](std::uint16_t rows, std::uint16_t cols) {
                               send_frame(fd, MessageType::resize, proto::encode_resize(rows, cols));
                             }});
    proto::FrameReader reader;
    while (!code) {
      auto reply = read_frame(fd, reader);
      if (!reply) break;
      if (reply->type == MessageType::error) errors += (errors.empty() ? "" : "\n") + reply->payload;
      else if (reply->type == MessageType::exit) code = payload_i32(*reply);
    }
  }
  if (!code) fail(ErrorKind::unavailable, "exec: {}", errors.empty() ? "the VM stopped before the process exited" : errors);
  if (!errors.empty()) fmt::print(stderr, "skiff: {}\n", errors);
  return *code;
}

}  // namespace skiff::engine
