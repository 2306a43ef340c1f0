// The store root (/var/lib/skiff, --root, SKIFF_ROOT) and the metadata
// database every box keeps its tables in.
#pragma once

#include <filesystem>
#include <memory>

#include "core/db.h"

namespace skiff {

class Root {
 public:
  // Creates the directory (mode 0711) if needed.
  explicit Root(std::filesystem::path path);
  ~Root();
  Root(const Root&) = delete;
  Root& operator=(const Root&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path content_dir() const { return path_ / "content"; }
  std::filesystem::path snapshots_dir() const { return path_ / "snapshots"; }
  std::filesystem::path containers_dir() const { return path_ / "containers"; }
  std::filesystem::path cache_dir() const { return path_ / "cache"; }
  std::filesystem::path tmp_dir() const { return path_ / "tmp"; }

  // metadata.db, opened on first use.
  Database& db();

  // The default root: $SKIFF_ROOT or /var/lib/skiff.
  static std::filesystem::path default_path();

 private:
  std::filesystem::path path_;
  std::unique_ptr<Database> db_;
};

}  // namespace skiff
