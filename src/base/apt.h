// Fetching Debian packages with apt, for any release, through the host's
// own apt configuration: its mirrors (read from its sources, never written
// into skiff), keyrings and proxies. Each release gets a private apt state
// under the cache (<cache>/apt/<release>/: a sources.list with the host's
// mirrors and the release's suites, package lists, an empty dpkg status),
// so the host's lists and dpkg database are never touched and a release the
// host does not run works the same way as its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/progress.h"

namespace skiff::base {

// One line of the host's apt sources, as apt itself reports it.
struct AptSource {
  std::string uri;    // "http://…/debian/"
  std::string suite;  // "bookworm-security"
  std::string component;
};

// The host's Debian sources for the release it runs (suites named after its
// codename: bookworm, bookworm-updates, bookworm-security), from
// `apt-get indextargets`. Throws unavailable if there are none.
std::vector<AptSource> host_debian_sources();

// The host's sources moved to `release`: the codename part of each suite is
// replaced ("bookworm-security" -> "trixie-security").
std::vector<AptSource> sources_for_release(const std::vector<AptSource>& host, const std::string& release);

struct FetchedPackage {
  std::string name, version, architecture;
  std::string source, source_version;
  std::int64_t build_time = 0;
  std::filesystem::path deb;  // in the cache
  std::string sha256;
};

class AptRepository {
 public:
  // `cache_dir` is the store's cache directory (<root>/cache).
  AptRepository(std::string release, const std::filesystem::path& cache_dir);

  const std::string& release() const { return release_; }
  const std::vector<AptSource>& sources() const { return sources_; }
  std::filesystem::path debs_dir() const;

  // Makes sure the release's package lists are present (downloads them when
  // missing, older than a day, or `force`). A release the mirror does not
  // carry is an error naming it.
  void update(bool force, Progress* progress);

  // The candidate version of each package, downloaded into debs_dir() unless
  // a copy with the right SHA-256 is there already. Order follows `names`.
  std::vector<FetchedPackage> fetch(const std::vector<std::string>& names, Progress* progress);

 private:
  std::vector<FetchedPackage> fetch_once(const std::vector<std::string>& names, Progress* progress);
  std::vector<std::string> apt_options() const;
  std::filesystem::path state_dir() const;
  bool lists_present() const;

  std::string release_;
  std::filesystem::path cache_dir_;
  std::vector<AptSource> sources_;
  bool updated_ = false;          // lists checked in this process
  bool lists_refreshed_ = false;  // and downloaded afresh
};

}  // namespace skiff::base
