// The steps build_rootfs strings together, one concern per file:
// slices.cpp cuts packages, generate.cpp writes the files no package
// ships, bootstrap.cpp runs mmdebstrap. Internal to the base box.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/apt.h"
#include "base/base.h"
#include "base/definition.h"
#include "base/tree.h"

namespace skiff::base {

// The merged-/usr skeleton: usr/{bin,sbin,lib,lib64} and the /bin, /sbin,
// /lib, /lib64 links to them.
void make_merged_usr(RootTree& tree);

// Extracts each package's selected paths. A rule that selects nothing is an
// error naming its line: the package changed or the rule has a typo.
void extract_slices(const ImageDefinition& definition, const std::vector<FetchedPackage>& packages,
                    RootTree& tree, Progress* progress);

// `dir`, `symlink`, `file`, `user`/`group` (/etc/passwd, /etc/group) and
// `applets` directives, in that order.
void apply_directives(const ImageDefinition& definition, RootTree& tree);

// `generate NAME`: ca-bundle (/etc/ssl/certs/ca-certificates.crt as
// update-ca-certificates makes it from the default selection) and os-release.
void run_generators(const ImageDefinition& definition, const std::string& flavour, RootTree& tree);

// `remove GLOB` directives.
void apply_removals(const ImageDefinition& definition, RootTree& tree);

// core: mmdebstrap --variant=<bootstrap> into `target` (which must not
// exist) from the repository's mirrors, reusing and filling its .deb cache.
void bootstrap_tree(const ImageDefinition& definition, AptRepository& repository, std::int64_t epoch,
                    const std::filesystem::path& target, Progress* progress);

// The packages dpkg records as installed in a bootstrapped tree.
std::vector<PackageVersion> installed_packages(const std::filesystem::path& root);

}  // namespace skiff::base
