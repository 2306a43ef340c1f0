#include "reference/reference.h"

#include <cctype>

#include "core/digest.h"
#include "core/error.h"

namespace skiff {

namespace {

constexpr size_t max_name_length = 255;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

// domain := host[:port]; host := domain-name | IPv4 | [IPv6]
bool valid_domain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view host = d;
  if (d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view inside = d.substr(1, close - 1);
    if (inside.empty() || inside.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) return false;
    std::string_view rest = d.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() == 1) return false;
    return rest.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
  }
  auto colon = d.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    host = d.substr(0, colon);
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    std::string_view label = host.substr(start, end - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    start = end + 1;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return is_alnum(c) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
  fail(ErrorKind::invalid_argument, "invalid reference \"{}\": {}", text, why);
}

}  // namespace

Reference Reference::parse(std::string_view text, const ReferencePolicy& policy) {
  if (text.empty()) invalid(text, "empty name; give an image such as nano or 127.0.0.1:5000/team/app:1.2");
  Reference ref;
  std::string_view rest = text;

  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    if (!Digest::valid(digest))
      invalid(text, "digest \"" + std::string(digest) + "\" is not ALGORITHM:HEX (e.g. sha256:<64 lowercase hex digits>)");
    ref.digest_ = digest;
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that is after the last '/' (a ':' before it is a port).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!valid_tag(tag))
      invalid(text, "tag \"" + std::string(tag) + "\" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -");
    ref.tag_ = tag;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) invalid(text, "missing repository name");

  std::string_view path = rest;
  auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
      if (!valid_domain(first)) invalid(text, "registry \"" + std::string(first) + "\" is not HOST[:PORT]");
      ref.domain_ = first;
      path = rest.substr(first_slash + 1);
    }
  }
  if (path.empty()) invalid(text, "missing repository name after the registry");
  for (char c : path)
    if (c >= 'A' && c <= 'Z') invalid(text, "repository name must be lowercase");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (!valid_path_component(component))
      invalid(text, "path component \"" + std::string(component) +
                        "\" must be lowercase letters and digits separated by '.', '_', '__' or '-'");
    start = end + 1;
  }
  ref.path_ = path;

  if (ref.domain_.empty()) {
    ref.short_name_ = true;
    if (policy.default_registry.empty()) {
      ref.domain_ = local_domain;
    } else {
      ref.domain_ = policy.default_registry;
      if (ref.path_.find('/') == std::string::npos) ref.path_ = "library/" + ref.path_;
    }
  }
  if (ref.name().size() > max_name_length)
    invalid(text, "repository name is longer than 255 characters");
  if (ref.tag_.empty() && ref.digest_.empty()) ref.tag_ = "latest";
  return ref;
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag_.empty()) s += ":" + tag_;
  if (!digest_.empty()) s += "@" + digest_;
  return s;
}

std::string Reference::familiar_name(const ReferencePolicy& policy) const {
  if (local()) return path_;
  if (!policy.default_registry.empty() && domain_ == policy.default_registry) {
    std::string_view p = path_;
    if (p.starts_with("library/") && p.find('/', 8) == std::string_view::npos) p.remove_prefix(8);
    return std::string(p);
  }
  return name();
}

Reference Reference::with_tag(std::string tag) const {
  Reference r = *this;
  r.tag_ = std::move(tag);
  return r;
}

Reference Reference::with_digest(std::string digest) const {
  Reference r = *this;
  r.digest_ = std::move(digest);
  return r;
}

Reference Reference::without_digest() const {
  Reference r = *this;
  r.digest_.clear();
  if (r.tag_.empty()) r.tag_ = "latest";
  return r;
}

bool looks_like_id_prefix(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.empty() || text.size() > 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace skiff
