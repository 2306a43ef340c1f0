#include "cli/context.h"

namespace skiff::cli {

Root& Context::root() {
  if (!root_) root_ = std::make_unique<Root>(root_path.empty() ? Root::default_path() : std::filesystem::path(root_path));
  return *root_;
}

}  // namespace skiff::cli
