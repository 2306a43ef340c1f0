// Errors that reach the user: one line naming what failed, on which object,
// and what to do about it. The kind lets front ends pick an exit code or an
// HTTP status without parsing the text.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace skiff {

enum class ErrorKind {
  invalid_argument,  // the user asked for something malformed
  not_found,         // no such image, container, blob, registry path
  conflict,          // name in use, image in use by a container
  unauthorized,      // registry refused our credentials
  unavailable,       // network, registry 5xx, missing kernel feature
  corrupt,           // digest mismatch, truncated or hostile data
  unsupported,       // media type, platform, feature we refuse
  internal,          // a bug or an unexpected system error
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> format,
                       Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

// Throws an internal error carrying strerror(errno) for a failed syscall.
[[noreturn]] void fail_errno(const std::string& what);
[[noreturn]] void fail_errno(int error_number, const std::string& what);

// Re-throws `e` with `context: ` in front, keeping its kind. Used to add the
// object name ("pull host/app:1") as an error travels up.
[[noreturn]] void rethrow_with_context(const Error& e, const std::string& context);

}  // namespace skiff
