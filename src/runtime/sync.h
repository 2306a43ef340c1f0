// The runtime and the container's init talk over a SOCK_SEQPACKET pair:
// one message per step, file descriptors (the pty master) passed along.
// The child side is async-signal-safe: fixed buffers, raw syscalls, no
// allocation, no exceptions (the parent may have had threads whose locks
// the child inherited).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace skiff::runtime {

enum class SyncType : std::uint32_t {
  go = 1,           // parent → child: placed in the cgroup, maps written; carries the state JSON for hooks
  hooks_request,    // child → parent: namespaces and mounts exist, run prestart/createRuntime hooks
  hooks_done,       // parent → child
  pty,              // child → parent: the pty master (fd attached)
  ready,            // child → parent: created; waiting for start
  start,            // parent → child (run/exec mode; create/start uses the exec fifo)
  error,            // child → parent: value = errno, payload = message
  exec_error,       // child → parent: the program cannot run; value = 126/127, payload = message
};

struct SyncMessage {
  SyncType type{};
  std::int32_t value = 0;
  std::size_t length = 0;  // payload bytes received
  int fd = -1;             // attached descriptor, if any
};

// Sends one message (payload may be empty; fd -1 for none). Returns 0 or errno.
int sync_send(int socket, SyncType type, std::int32_t value = 0, const void* payload = nullptr,
              std::size_t length = 0, int fd = -1) noexcept;
// Receives one message into `buffer`. Returns 0, errno, or -1 on end of file.
int sync_receive(int socket, SyncMessage& message, char* buffer, std::size_t capacity) noexcept;

// Child side: where failures are reported. Set once, first thing in the child.
void set_child_report_socket(int socket) noexcept;
int child_report_socket() noexcept;
// Reports "<what>: <strerror(err)>" (err 0: just the text) to the parent,
// and on the process's stderr when no parent listens, then _exit(1).
[[noreturn]] void child_fail(int err, const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));
// The same with the exit status a failed exec has in a shell (126, 127).
[[noreturn]] void child_fail_with_code(int exit_code, int err, const char* format, ...) noexcept
    __attribute__((format(printf, 3, 4)));
// Fixed storage for messages the child receives (the state JSON for hooks).
char* child_buffer() noexcept;
std::size_t child_buffer_size() noexcept;

// Parent side: throws the child's error (kind from its errno) with `context`.
[[noreturn]] void throw_child_error(const std::string& context, const SyncMessage& message, const char* payload);

}  // namespace skiff::runtime
