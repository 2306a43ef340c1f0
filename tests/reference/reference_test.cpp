#include "reference/reference.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff {

namespace {
const ReferencePolicy hub{"registry.test"};  // a stand-in default registry
const std::string digest = "sha256:" + std::string(64, 'a');

std::string error_of(const std::string& text) {
  try {
    Reference::parse(text, hub);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    return e.what();
  }
  ADD_FAILURE() << "\"" << text << "\" parsed";
  return "";
}
}  // namespace

TEST(Reference, NormalisesShortNamesAgainstTheDefaultRegistry) {
  auto r = Reference::parse("debian", hub);
  EXPECT_EQ(r.str(), "registry.test/library/debian:latest");
  EXPECT_TRUE(r.short_name());
  EXPECT_EQ(r.familiar_name(hub), "debian");
  EXPECT_EQ(Reference::parse("library/debian:bookworm", hub).str(), "registry.test/library/debian:bookworm");
  EXPECT_EQ(Reference::parse("team/app", hub).str(), "registry.test/team/app:latest");
  EXPECT_EQ(Reference::parse("team/app", hub).familiar_name(hub), "team/app");
}

TEST(Reference, ShortNamesAreLocalWithoutADefaultRegistry) {
  auto r = Reference::parse("nano");
  EXPECT_EQ(r.str(), "localhost/nano:latest");
  EXPECT_TRUE(r.local());
  EXPECT_EQ(r.familiar_name(), "nano");
  EXPECT_EQ(Reference::parse("nano:noshell").str(), "localhost/nano:noshell");
  EXPECT_TRUE(Reference::parse("localhost/nano").local());
  EXPECT_FALSE(Reference::parse("localhost:5000/nano").local());
}

TEST(Reference, ExplicitRegistries) {
  auto r = Reference::parse("127.0.0.1:5000/team/app:1.2", hub);
  EXPECT_EQ(r.domain(), "127.0.0.1:5000");
  EXPECT_EQ(r.path(), "team/app");
  EXPECT_EQ(r.tag(), "1.2");
  EXPECT_FALSE(r.short_name());
  EXPECT_EQ(r.familiar_name(hub), "127.0.0.1:5000/team/app");
  EXPECT_EQ(Reference::parse("localhost:5000/app", hub).domain(), "localhost:5000");
  EXPECT_EQ(Reference::parse("[::1]:5000/app", hub).domain(), "[::1]:5000");
  EXPECT_EQ(Reference::parse("host.example/app", hub).path(), "app");  // no library/ on other hosts
}

TEST(Reference, Digests) {
  auto by_digest = Reference::parse("host.example/app@" + digest, hub);
  EXPECT_EQ(by_digest.tag(), "");
  EXPECT_EQ(by_digest.digest(), digest);
  EXPECT_EQ(by_digest.manifest_reference(), digest);
  EXPECT_EQ(by_digest.str(), "host.example/app@" + digest);
  auto both = Reference::parse("host.example/app:tag@" + digest, hub);
  EXPECT_EQ(both.tag(), "tag");
  EXPECT_EQ(both.manifest_reference(), digest);
  EXPECT_EQ(both.without_digest().str(), "host.example/app:tag");
}

TEST(Reference, SeparatorsInPaths) {
  EXPECT_NO_THROW(Reference::parse("a_b/c__d/e.f/g-h/i---j", hub));
  EXPECT_NO_THROW(Reference::parse("app:v1.2_rc-3", hub));
}

TEST(Reference, ErrorsNameTheBadPart) {
  EXPECT_NE(error_of("").find("empty name"), std::string::npos);
  EXPECT_NE(error_of("Debian").find("lowercase"), std::string::npos);
  EXPECT_NE(error_of("app:").find("tag \"\""), std::string::npos);
  EXPECT_NE(error_of("app:-bad").find("tag \"-bad\""), std::string::npos);
  EXPECT_NE(error_of("app:" + std::string(129, 'a')).find("tag"), std::string::npos);
  EXPECT_NE(error_of("app@sha256:xyz").find("digest \"sha256:xyz\""), std::string::npos);
  EXPECT_NE(error_of("app@md5:abc").find("digest"), std::string::npos);
  EXPECT_NE(error_of("team//app").find("path component \"\""), std::string::npos);
  EXPECT_NE(error_of("team/app-").find("path component \"app-\""), std::string::npos);
  EXPECT_NE(error_of("-team/app").find("path component"), std::string::npos);
  EXPECT_NE(error_of("host:port/app").find("registry \"host:port\""), std::string::npos);
  EXPECT_NE(error_of("host.example/").find("missing repository name"), std::string::npos);
  EXPECT_NE(error_of(":tag").find("missing repository name"), std::string::npos);
  EXPECT_NE(error_of("a/" + std::string(260, 'b')).find("255"), std::string::npos);
  EXPECT_NE(error_of("app name").find("path component"), std::string::npos);
}

TEST(Reference, IdPrefixes) {
  EXPECT_TRUE(looks_like_id_prefix("3f1a2b"));
  EXPECT_TRUE(looks_like_id_prefix("sha256:3f1a"));
  EXPECT_FALSE(looks_like_id_prefix("nano"));
  EXPECT_FALSE(looks_like_id_prefix(""));
}

}  // namespace skiff
