#include "core/digest.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff {

TEST(Digest, HashesKnownVectors) {
  EXPECT_EQ(sha256_of("").str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, IncrementalEqualsOneShot) {
  Hasher h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.digest(), sha256_of("abc"));
  h.update("d");  // keeps going after digest()
  EXPECT_EQ(h.digest(), sha256_of("abcd"));
}

TEST(Digest, ParsesAndRejects) {
  auto d = Digest::parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d.algorithm(), "sha256");
  EXPECT_EQ(d.short_hex(), "ba7816bf8f01");
  EXPECT_THROW(Digest::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), Error);
  EXPECT_THROW(Digest::parse("sha256:abc"), Error);
  EXPECT_THROW(Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e"), Error);
  EXPECT_THROW(Digest::parse("nocolon"), Error);
  EXPECT_FALSE(Digest::valid("sha256:../../etc/passwd"));
}

}  // namespace skiff
