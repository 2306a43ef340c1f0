#include "runtime/sync.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "runtime/runtime.h"

namespace skiff::runtime {

namespace {

struct Header {
  SyncType type;
  std::int32_t value;
};

int report_socket = -1;
// The largest message: the state JSON handed to createContainer and
// startContainer hooks. Static, so untouched pages cost nothing.
char message_buffer[256 * 1024];

}  // namespace

int sync_send(int socket, SyncType type, std::int32_t value, const void* payload, std::size_t length, int fd) noexcept {
  Header header{type, value};
  iovec parts[2] = {{&header, sizeof header}, {const_cast<void*>(payload), length}};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = length ? 2 : 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  for (;;) {
    if (::sendmsg(socket, &msg, MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int sync_receive(int socket, SyncMessage& message, char* buffer, std::size_t capacity) noexcept {
  Header header{};
  iovec parts[2] = {{&header, sizeof header}, {buffer, capacity}};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = 2;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (n == 0) return -1;
  if (static_cast<std::size_t>(n) < sizeof header) return EPROTO;
  message.type = header.type;
  message.value = header.value;
  message.length = static_cast<std::size_t>(n) - sizeof header;
  message.fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&message.fd, CMSG_DATA(c), sizeof(int));
  }
  return 0;
}

void set_child_report_socket(int socket) noexcept { report_socket = socket; }
int child_report_socket() noexcept { return report_socket; }
char* child_buffer() noexcept { return message_buffer; }
std::size_t child_buffer_size() noexcept { return sizeof message_buffer; }

namespace {
[[noreturn]] void report_and_exit(int exit_code, int err, const char* format, va_list args) noexcept {
  char text[2048];
  int n = vsnprintf(text, sizeof text, format, args);
  if (n < 0) n = 0;
  if (static_cast<std::size_t>(n) >= sizeof text) n = sizeof text - 1;
  if (err != 0) {
    char reason[256];
    const char* why = strerror_r(err, reason, sizeof reason);
    n += snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ": %s", why);
    if (static_cast<std::size_t>(n) >= sizeof text) n = sizeof text - 1;
  }
  SyncType type = exit_code == 1 ? SyncType::error : SyncType::exec_error;
  std::int32_t value = exit_code == 1 ? err : exit_code;
  if (report_socket < 0 || sync_send(report_socket, type, value, text, static_cast<std::size_t>(n)) != 0) {
    // Nobody listens (the container was started by another process): the
    // container's stderr is the only place left to say it.
    char line[2100];
    int m = snprintf(line, sizeof line, "skiff-runtime: %s\n", text);
    if (m > 0) [[maybe_unused]] auto w = ::write(STDERR_FILENO, line, static_cast<std::size_t>(m) < sizeof line ? m : sizeof line - 1);
  }
  _exit(exit_code);
}
}  // namespace

void child_fail(int err, const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  report_and_exit(1, err, format, args);
}

void child_fail_with_code(int exit_code, int err, const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  report_and_exit(exit_code, err, format, args);
}

void throw_child_error(const std::string& context, const SyncMessage& message, const char* payload) {
  std::string text(payload, message.length);
  if (message.type == SyncType::exec_error)
    throw ExecError(message.value == 127 ? ErrorKind::not_found : ErrorKind::unauthorized,
                    context.empty() ? text : context + ": " + text, message.value);
  ErrorKind kind = ErrorKind::internal;
  switch (message.value) {
    case ENOENT: kind = ErrorKind::not_found; break;
    case EACCES:
    case EPERM: kind = ErrorKind::unauthorized; break;
    case EINVAL: kind = ErrorKind::invalid_argument; break;
    case ENOSYS:
    case EOPNOTSUPP: kind = ErrorKind::unsupported; break;
    case EEXIST:
    case EBUSY: kind = ErrorKind::conflict; break;
    default: break;
  }
  throw Error(kind, context.empty() ? text : context + ": " + text);
}

}  // namespace skiff::runtime
