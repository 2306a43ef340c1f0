#include "snapshot/canary.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace skiff::test {

namespace {
std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

void must(int rc, const std::string& what) {
  if (rc != 0) throw std::runtime_error("canary: " + what);
}
}  // namespace

Canary::Canary(const std::filesystem::path& base) : base_(base), path_(base / "canary") {
  namespace fs = std::filesystem;
  fs::create_directories(path_ / "dir" / "deeper");
  write_file_atomic(path_ / "file", "canary secret\n", 0644, false);
  write_file_atomic(path_ / "dir" / "inner", "inner secret\n", 0600, false);
  write_file_atomic(path_ / "dir" / "deeper" / "deepest", "deepest\n", 0640, false);
  write_file_atomic(path_ / "suid", "#!/bin/sh\n", 04755, false);
  must(::chmod((path_ / "suid").c_str(), 04755), "chmod suid");
  write_file_atomic(path_ / "xattr", "xattr holder\n", 0644, false);
  must(::setxattr((path_ / "xattr").c_str(), "user.canary", "1", 1, 0), "setxattr");
  must(::symlink("file", (path_ / "link").c_str()), "symlink");
  must(::mkfifo((path_ / "fifo").c_str(), 0600), "mkfifo");
  must(::link((path_ / "file").c_str(), (path_ / "hardlink").c_str()), "link");
  fs::create_directories(path_ / "readonly");
  must(::chmod((path_ / "readonly").c_str(), 0555), "chmod readonly");
  // Old times: a touched entry shows a new mtime as well as a new ctime.
  struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
  for (const char* name : {"file", "dir/inner", "suid", "xattr", "readonly"})
    must(::utimensat(AT_FDCWD, (path_ / name).c_str(), old, AT_SYMLINK_NOFOLLOW), "utimensat");
  before_ = record_tree(path_);
  base_listing_ = listing(base_);
}

std::vector<std::string> Canary::changes() const {
  auto diffs = compare_trees(before_, record_tree(path_));
  auto now = listing(base_);
  for (const auto& name : now)
    if (std::find(base_listing_.begin(), base_listing_.end(), name) == base_listing_.end() && name != "work")
      diffs.push_back("next to the canary: " + name + " appeared");
  return diffs;
}

}  // namespace skiff::test
