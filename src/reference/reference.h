// Image references: [DOMAIN/]PATH[:TAG][@DIGEST], parsed and normalised as
// docker's distribution/reference does. skiff names no registry itself: a
// short name ("debian") resolves against the configured default registry
// (with docker's "library/" rule for one-component names), or, with none
// configured, to the local namespace "localhost/" as podman does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace skiff {

struct ReferencePolicy {
  // "host[:port]" for short names; empty: short names are local-only.
  std::string default_registry;
};

class Reference {
 public:
  // Throws invalid_argument naming the bad part ("invalid reference
  // \"Foo/bar\": repository name must be lowercase").
  static Reference parse(std::string_view text, const ReferencePolicy& policy = {});

  const std::string& domain() const { return domain_; }  // "127.0.0.1:5000"
  const std::string& path() const { return path_; }      // "team/app"
  // Empty when only a digest was given; "latest" when neither was.
  const std::string& tag() const { return tag_; }
  const std::string& digest() const { return digest_; }  // "" or "sha256:…"
  // True when the text named no registry and the default was filled in.
  bool short_name() const { return short_name_; }
  // True for the local namespace (no registry behind it).
  bool local() const { return domain_ == local_domain; }

  std::string name() const { return domain_ + "/" + path_; }  // repository
  std::string str() const;                                     // name[:tag][@digest]
  // The manifest reference to ask a registry for: the digest if given, else the tag.
  std::string manifest_reference() const { return digest_.empty() ? tag_ : digest_; }
  // The short form users type: without the default registry, "library/" or "localhost/".
  std::string familiar_name(const ReferencePolicy& policy = {}) const;

  Reference with_tag(std::string tag) const;
  Reference with_digest(std::string digest) const;
  Reference without_digest() const;

  bool operator==(const Reference&) const = default;

  static constexpr std::string_view local_domain = "localhost";

 private:
  std::string domain_, path_, tag_, digest_;
  bool short_name_ = false;
};

// True if `text` could be the start of an image ID ("3f1a2b", "sha256:3f1a…").
bool looks_like_id_prefix(std::string_view text);

}  // namespace skiff
