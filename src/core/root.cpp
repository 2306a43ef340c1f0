#include "core/root.h"

#include <cstdlib>

#include "core/fs.h"

namespace skiff {

Root::Root(std::filesystem::path path) : path_(std::move(path)) {
  if (path_.is_relative()) path_ = std::filesystem::absolute(path_);
  ensure_dir(path_, 0711);
}

Root::~Root() = default;

Database& Root::db() {
  if (!db_) db_ = std::make_unique<Database>(path_ / "metadata.db");
  return *db_;
}

std::filesystem::path Root::default_path() {
  const char* env = std::getenv("SKIFF_ROOT");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path("/var/lib/skiff");
}

}  // namespace skiff
