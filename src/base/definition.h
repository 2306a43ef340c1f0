// An image definition: the data file (images/<flavour>.slices) that says
// which Debian packages a base image is cut from, which paths of each are
// kept, and what is added on top. The format is documented in
// images/README.md; this is its parsed form, already narrowed to one release.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace skiff::base {

// "images/nano.slices:12", for error messages.
struct SourceLine {
  std::filesystem::path file;
  int line = 0;
  std::string str() const;
};

struct PathRule {
  std::string glob;      // canonical absolute path glob: "/usr/lib/x86_64-linux-gnu/libc.so.6"
  bool exclude = false;  // "!" prefix: drop what the include rules matched
  SourceLine where;
};

struct PackageSlice {
  std::string name;  // Debian binary package
  std::vector<PathRule> rules;
  SourceLine where;  // its first `package` line
};

struct DirectoryEntry {
  std::string path;
  mode_t mode = 0755;
  uid_t uid = 0;
  gid_t gid = 0;
  SourceLine where;
};

struct SymlinkEntry {
  std::string path, target;
  SourceLine where;
};

struct FileEntry {
  std::string path;
  mode_t mode = 0644;
  std::filesystem::path source;  // resolved against the definition file's directory
  SourceLine where;
};

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home, shell, gecos;
};

struct Group {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

struct AppletSet {
  std::string binary;  // "/usr/bin/busybox"
  std::vector<std::string> names;
  SourceLine where;
};

// The OCI image config fields the definition sets (`config KEY VALUE`).
struct ConfigFields {
  std::string user;
  std::string working_dir;
  std::vector<std::string> env;  // K=V, in file order; a later K replaces an earlier one
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
};

struct ImageDefinition {
  std::filesystem::path file;  // the top-level definition file
  std::string release;         // the release it was narrowed to
  std::string image;           // repository name: "nano"
  std::string variant;         // tag suffix: "noshell" (empty for none)
  std::string description;
  std::string bootstrap;       // mmdebstrap variant ("minbase"); empty: built from slices
  std::vector<PackageSlice> packages;  // in file order, one per package name
  std::vector<DirectoryEntry> directories;
  std::vector<SymlinkEntry> symlinks;
  std::vector<FileEntry> files;
  std::vector<Account> users;
  std::vector<Group> groups;
  std::vector<AppletSet> applets;
  std::vector<std::string> generators;  // "ca-bundle", "os-release", in file order
  std::vector<PathRule> removals;       // `remove GLOB`, applied last
  ConfigFields config;

  const PackageSlice* find_package(const std::string& name) const;
};

// The generators `generate NAME` may name.
const std::vector<std::string>& known_generators();

// Reads `file` (and what it includes) for `release`. Every mistake is an
// invalid_argument error starting with "FILE:LINE: ".
ImageDefinition load_definition(const std::filesystem::path& file, const std::string& release);

}  // namespace skiff::base
