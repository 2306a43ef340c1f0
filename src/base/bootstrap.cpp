#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "base/steps.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/strings.h"
#include "core/subprocess.h"

namespace skiff::base {

namespace {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandOptions with_epoch(std::int64_t epoch) {
  CommandOptions options;
  options.extra_env.push_back(fmt::format("SOURCE_DATE_EPOCH={}", epoch));
  return options;
}

}  // namespace

void bootstrap_tree(const ImageDefinition& definition, AptRepository& repository, std::int64_t epoch,
                    const std::filesystem::path& target, Progress* progress) {
  if (!find_program("mmdebstrap"))
    fail(ErrorKind::unavailable, "{}: bootstrap needs mmdebstrap: apt-get install mmdebstrap",
         definition.file.string());
  auto debs = repository.debs_dir();
  ensure_dir(debs);
  std::string cache = shell_quote(debs.string());

  std::vector<std::string> argv = {
      "mmdebstrap",
      "--variant=" + definition.bootstrap,
      std::string("--mode=") + (::geteuid() == 0 ? "root" : "unshare"),
      "--format=directory",
      "--aptopt=Acquire::Languages \"none\"",
      // Reuse the release's .deb cache, and fill it: the next build downloads nothing.
      "--skip=essential/unlink",
      "--skip=download/empty",
      "--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
      "--setup-hook=for f in " + cache + "/*.deb; do [ -e \"$f\" ] && cp \"$f\" \"$1\"/var/cache/apt/archives/; done; true",
      "--customize-hook=for f in \"$1\"/var/cache/apt/archives/*.deb; do b=${f##*/}; [ -e " + cache +
          "/\"$b\" ] || { cp \"$f\" " + cache + "/.\"$b\".part && mv " + cache + "/.\"$b\".part " + cache +
          "/\"$b\"; }; done; true",
  };
  // dpkg's fsyncs are most of a bootstrap's time, and worthless for a tree
  // that is thrown away if the build fails: mmdebstrap's eatmydata hook
  // halves the build when libeatmydata is installed.
  // (The hook's cleanup needs dpkg-architecture; its library lands in
  // ld.so.cache, so the cache is rebuilt once the hook has removed it.)
  const std::filesystem::path eatmydata_hook = "/usr/share/mmdebstrap/hooks/eatmydata";
  if (std::filesystem::is_directory(eatmydata_hook) && find_program("eatmydata") &&
      find_program("dpkg-architecture")) {
    argv.push_back("--hook-dir=" + eatmydata_hook.string());
    argv.push_back("--customize-hook=chroot \"$1\" /sbin/ldconfig");
  }
  argv.push_back(repository.release());
  argv.push_back(target.string());
  // The repository's suites, grouped as one-line sources.
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> components;
  for (const auto& s : repository.sources()) {
    auto key = std::pair{s.uri, s.suite};
    if (!components.contains(key)) order.push_back(key);
    components[key].push_back(s.component);
  }
  for (const auto& key : order)
    argv.push_back(fmt::format("deb {} {} {}", key.first, key.second, join(components[key], " ")));

  if (progress) progress->update(definition.image, fmt::format("mmdebstrap --variant={} {}", definition.bootstrap, repository.release()));
  FileLock lock(debs / ".bootstrap.lock");
  auto result = run_command(argv, with_epoch(epoch));
  if (result.exit_code != 0) {
    std::string last;
    std::istringstream in(result.err);
    for (std::string line; std::getline(in, line);)
      if (!trim(line).empty()) last = line;
    fail(ErrorKind::unavailable, "mmdebstrap {} {} failed (exit {}): {}", definition.bootstrap, repository.release(),
         result.exit_code, last);
  }
  if (progress) progress->finish(definition.image, "Bootstrapped");
}

std::vector<PackageVersion> installed_packages(const std::filesystem::path& root) {
  auto out = check_output({"dpkg-query", "--admindir=" + (root / "var/lib/dpkg").string(), "-W",
                           "-f=${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\n"});
  std::vector<PackageVersion> packages;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto f = split(line, '\t');
    if (f.size() != 4) continue;
    packages.push_back({f[0], f[1], f[2], f[3]});
  }
  return packages;
}

}  // namespace skiff::base
