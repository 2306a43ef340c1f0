// docker's "Are you sure you want to continue? [y/N]" for commands that
// delete (prune): asked on a terminal only; scripts pass -f or pipe.
#pragma once

#include <string>

namespace skiff::cli {

bool confirmed(const std::string& question);

}  // namespace skiff::cli
