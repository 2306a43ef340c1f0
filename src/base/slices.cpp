#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/deb.h"
#include "base/paths.h"
#include "base/steps.h"
#include "core/error.h"

namespace skiff::base {

void make_merged_usr(RootTree& tree) {
  for (const char* dir : {"usr/bin", "usr/sbin", "usr/lib", "usr/lib64"}) tree.make_directory(dir, 0755);
  for (const char* dir : {"bin", "sbin", "lib", "lib64"}) tree.symlink(dir, std::string("usr/") + dir);
}

void extract_slices(const ImageDefinition& definition, const std::vector<FetchedPackage>& packages,
                    RootTree& tree, Progress* progress) {
  for (const auto& slice : definition.packages) {
    if (slice.rules.empty()) continue;  // listed to pin and label it (and feed generators), nothing to extract
    auto fetched = std::find_if(packages.begin(), packages.end(), [&](auto& p) { return p.name == slice.name; });
    if (fetched == packages.end()) fail(ErrorKind::internal, "package {} was not fetched", slice.name);
    if (progress) progress->update(slice.name, "Extracting");

    std::vector<size_t> hits(slice.rules.size(), 0);
    auto select = [&](const std::string& path) {
      std::vector<size_t> matched;
      for (size_t i = 0; i < slice.rules.size(); ++i) {
        if (!glob_match(slice.rules[i].glob, path)) continue;
        if (slice.rules[i].exclude) return false;
        matched.push_back(i);
      }
      for (size_t i : matched) ++hits[i];
      return !matched.empty();
    };
    std::vector<ExtractedEntry> entries;
    try {
      entries = extract_deb(fetched->deb, tree, select);
    } catch (const Error& e) {
      rethrow_with_context(e, fmt::format("{}: package {} {}", slice.where.str(), slice.name, fetched->version));
    }
    for (size_t i = 0; i < slice.rules.size(); ++i) {
      if (slice.rules[i].exclude || hits[i] > 0) continue;
      fail(ErrorKind::invalid_argument, "{}: {} matches nothing in {} {}: fix the path or drop it",
           slice.rules[i].where.str(), slice.rules[i].glob, slice.name, fetched->version);
    }
    if (progress) progress->finish(slice.name, fmt::format("Extracted {} entries", entries.size()));
  }
}

}  // namespace skiff::base
