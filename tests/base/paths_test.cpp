#include "base/paths.h"

#include <gtest/gtest.h>

namespace skiff::base {
namespace {

TEST(Paths, TreePathAppliesMergedUsr) {
  EXPECT_EQ(tree_path("./lib/x86_64-linux-gnu/libc.so.6"), "usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(tree_path("./lib64/ld-linux-x86-64.so.2"), "usr/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(tree_path("./bin/busybox"), "usr/bin/busybox");
  EXPECT_EQ(tree_path("./sbin"), "usr/sbin");
  EXPECT_EQ(tree_path("/usr/lib/os-release"), "usr/lib/os-release");
  EXPECT_EQ(tree_path("./etc//ssl/./certs/"), "etc/ssl/certs");
  EXPECT_EQ(tree_path("./library/x"), "library/x");  // only whole components
  EXPECT_EQ(tree_path("./"), "");
}

TEST(Paths, TreePathRefusesDotDot) {
  EXPECT_EQ(tree_path("../etc/passwd"), std::nullopt);
  EXPECT_EQ(tree_path("./usr/../../etc"), std::nullopt);
}

TEST(Paths, GlobMatching) {
  EXPECT_TRUE(glob_match("/usr/lib/*-linux-gnu*/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(glob_match("/usr/lib/*-linux-gnu*/libc.so.6", "usr/lib/arm-linux-gnueabihf/libc.so.6"));
  EXPECT_FALSE(glob_match("/usr/lib/*/libc.so.6", "usr/lib/a/b/libc.so.6"));
  EXPECT_TRUE(glob_match("/usr/lib/**/libc.so.6", "usr/lib/a/b/libc.so.6"));
  EXPECT_TRUE(glob_match("/usr/lib/**/libc.so.6", "usr/lib/libc.so.6"));
  EXPECT_TRUE(glob_match("/usr/share/zoneinfo/**", "usr/share/zoneinfo"));
  EXPECT_TRUE(glob_match("/usr/share/zoneinfo/**", "usr/share/zoneinfo/Europe/Paris"));
  EXPECT_FALSE(glob_match("/usr/share/zoneinfo/**", "usr/share/zoneinfo-extra"));
  EXPECT_TRUE(glob_match("/usr/lib*/**/ld-linux*.so.*", "usr/lib64/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(glob_match("/usr/lib*/**/ld-linux*.so.*", "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(glob_match("/usr/lib/libstdc++.so.6*", "usr/lib/libstdc++.so.6.0.30"));
  EXPECT_TRUE(glob_match("/usr/lib/lib[cm].so.6", "usr/lib/libm.so.6"));
  EXPECT_TRUE(glob_match("/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"));  // merged-/usr
  EXPECT_FALSE(glob_match("/etc/passwd", "etc/passwd-"));
}

TEST(Paths, RuleValidation) {
  EXPECT_EQ(invalid_rule_reason("/usr/lib/**"), std::nullopt);
  EXPECT_NE(invalid_rule_reason("usr/lib"), std::nullopt);
  EXPECT_NE(invalid_rule_reason("/usr//lib"), std::nullopt);
  EXPECT_NE(invalid_rule_reason("/usr/lib/"), std::nullopt);
  EXPECT_NE(invalid_rule_reason("/usr/./lib"), std::nullopt);
  EXPECT_NE(invalid_rule_reason("/usr/x**"), std::nullopt);
}

}  // namespace
}  // namespace skiff::base
