// A pipe as two RAII descriptors, both O_CLOEXEC.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fd.h"

namespace skiff {

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

}  // namespace skiff
