// A folder outside the store that hostile layers aim at. It holds one of
// each kind of entry; its state is recorded before a layer is applied and
// compared after, inode for inode and byte for byte.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/fs.h"
#include "snapshot/tree_state.h"

namespace skiff::test {

class Canary {
 public:
  // Creates `base`/canary and records it (and `base`'s own listing).
  explicit Canary(const std::filesystem::path& base);

  const std::filesystem::path& path() const { return path_; }
  // Differences since construction; empty when untouched.
  std::vector<std::string> changes() const;

 private:
  std::filesystem::path base_;
  std::filesystem::path path_;
  TreeState before_;
  std::vector<std::string> base_listing_;
};

}  // namespace skiff::test
