#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace skiff {

void fail_errno(const std::string& what) { fail_errno(errno, what); }

void fail_errno(int error_number, const std::string& what) {
  ErrorKind kind = ErrorKind::internal;
  switch (error_number) {
    case ENOENT: kind = ErrorKind::not_found; break;
    case EEXIST:
    case EBUSY: kind = ErrorKind::conflict; break;
    case EACCES:
    case EPERM: kind = ErrorKind::unauthorized; break;
    case ENOSYS:
    case EOPNOTSUPP: kind = ErrorKind::unsupported; break;
    default: break;
  }
  throw Error(kind, what + ": " + std::strerror(error_number));
}

void rethrow_with_context(const Error& e, const std::string& context) {
  throw Error(e.kind(), context + ": " + e.what());
}

}  // namespace skiff
