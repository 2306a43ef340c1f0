#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "base/paths.h"
#include "base/steps.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"

namespace skiff::base {

namespace {

std::string tree_path_of(const std::string& absolute) { return tree_path(absolute).value_or(""); }

void write_accounts(const ImageDefinition& definition, RootTree& tree) {
  if (definition.users.empty() && definition.groups.empty()) return;
  std::string passwd, group;
  for (const auto& u : definition.users)
    passwd += fmt::format("{}:x:{}:{}:{}:{}:{}\n", u.name, u.uid, u.gid, u.gecos, u.home, u.shell);
  for (const auto& g : definition.groups) group += fmt::format("{}:x:{}:{}\n", g.name, g.gid, join(g.members, ","));
  tree.write_file("etc/passwd", passwd, 0644);
  tree.write_file("etc/group", group, 0644);
}

void write_applets(const ImageDefinition& definition, RootTree& tree) {
  for (const auto& set : definition.applets) {
    std::string binary = tree_path_of(set.binary);
    auto st = tree.status(binary);
    if (!st || !S_ISREG(st->st_mode))
      fail(ErrorKind::invalid_argument, "{}: applets: {} is not a file in the tree; select it in its package",
           set.where.str(), set.binary);
    auto slash = binary.rfind('/');
    std::string dir = slash == std::string::npos ? "" : binary.substr(0, slash);
    std::string target = binary.substr(slash + 1);
    for (const auto& name : set.names) {
      std::string link = dir.empty() ? name : dir + "/" + name;
      if (link == binary) continue;
      auto existing = tree.status(link);
      if (existing && !S_ISLNK(existing->st_mode))
        fail(ErrorKind::conflict, "{}: applet {}: /{} already exists and is not a link", set.where.str(), name, link);
      tree.symlink(link, target);
    }
  }
}

// update-ca-certificates with the ca-certificates package's default
// selection (its postinst enables every certificate it ships): the .crt
// files under /usr/share/ca-certificates in C-locale order, each ending in
// a newline, concatenated.
void generate_ca_bundle(const ImageDefinition& definition, RootTree& tree) {
  namespace fs = std::filesystem;
  fs::path dir = tree.root() / "usr/share/ca-certificates";
  std::vector<std::string> certs;
  std::error_code ec;
  if (fs::is_symlink(dir, ec))
    fail(ErrorKind::corrupt, "generate ca-bundle: /usr/share/ca-certificates is a symlink; refusing to follow it");
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink() || !it->is_regular_file()) continue;
    if (it->path().extension() != ".crt") continue;
    certs.push_back(it->path().lexically_relative(tree.root()).string());
  }
  if (certs.empty())
    fail(ErrorKind::invalid_argument,
         "{}: generate ca-bundle: no certificates under /usr/share/ca-certificates; select "
         "/usr/share/ca-certificates/**/*.crt in package ca-certificates",
         definition.file.string());
  std::sort(certs.begin(), certs.end());  // byte order, as `sort` in the C locale
  std::string bundle;
  for (const auto& cert : certs) {
    std::string pem = tree.read_file(cert);
    bundle += pem;
    if (!pem.empty() && pem.back() != '\n') bundle += '\n';
  }
  tree.write_file("etc/ssl/certs/ca-certificates.crt", bundle, 0644);
}

std::map<std::string, std::string> parse_os_release(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    fields[line.substr(0, eq)] = value;
  }
  return fields;
}

// os-release(5) of the image, derived from Debian's (base-files):
// ID=skiff, ID_LIKE=debian, VARIANT_ID=<flavour>, Debian's version fields.
void generate_os_release(const ImageDefinition& definition, const std::string& flavour, RootTree& tree) {
  auto st = tree.status("usr/lib/os-release");
  if (!st || !S_ISREG(st->st_mode))
    fail(ErrorKind::invalid_argument,
         "{}: generate os-release: /usr/lib/os-release is missing; select it in package base-files",
         definition.file.string());
  auto debian = parse_os_release(tree.read_file("usr/lib/os-release"));
  std::string based_on = debian.contains("PRETTY_NAME") ? debian["PRETTY_NAME"] : "Debian GNU/Linux";
  std::string name = "skiff " + definition.image;
  std::string text;
  text += fmt::format("PRETTY_NAME=\"skiff {}, based on {}\"\n", flavour, based_on);
  text += fmt::format("NAME=\"{}\"\n", name);
  text += "ID=skiff\n";
  text += "ID_LIKE=debian\n";
  text += fmt::format("VARIANT=\"{}\"\n", flavour);
  text += fmt::format("VARIANT_ID={}\n", flavour);
  for (const char* key : {"VERSION_ID", "VERSION", "VERSION_CODENAME"})
    if (debian.contains(key)) text += fmt::format("{}=\"{}\"\n", key, debian[key]);
  if (!debian.contains("VERSION_CODENAME")) text += fmt::format("VERSION_CODENAME={}\n", definition.release);
  tree.write_file("usr/lib/os-release", text, 0644);
  auto link = tree.status("etc/os-release");
  if (!link) tree.symlink("etc/os-release", "../usr/lib/os-release");
}

}  // namespace

void apply_directives(const ImageDefinition& definition, RootTree& tree) {
  for (const auto& d : definition.directories) tree.make_directory(tree_path_of(d.path), d.mode, d.uid, d.gid);
  for (const auto& s : definition.symlinks) tree.symlink(tree_path_of(s.path), s.target);
  for (const auto& f : definition.files) tree.write_file(tree_path_of(f.path), read_file(f.source), f.mode);
  write_accounts(definition, tree);
  write_applets(definition, tree);
}

void run_generators(const ImageDefinition& definition, const std::string& flavour, RootTree& tree) {
  for (const auto& name : definition.generators) {
    if (name == "ca-bundle") generate_ca_bundle(definition, tree);
    else if (name == "os-release") generate_os_release(definition, flavour, tree);
    else fail(ErrorKind::internal, "generator {} has no implementation", name);
  }
}

void apply_removals(const ImageDefinition& definition, RootTree& tree) {
  if (definition.removals.empty()) return;
  namespace fs = std::filesystem;
  std::vector<std::string> doomed;
  for (auto it = fs::recursive_directory_iterator(tree.root()); it != fs::recursive_directory_iterator(); ++it) {
    std::string path = it->path().lexically_relative(tree.root()).string();
    bool match = std::any_of(definition.removals.begin(), definition.removals.end(),
                             [&](const PathRule& r) { return glob_match(r.glob, path); });
    if (!match) continue;
    doomed.push_back(path);
    if (it->is_directory() && !it->is_symlink()) it.disable_recursion_pending();
  }
  for (const auto& path : doomed) tree.remove(path);
}

}  // namespace skiff::base
