#include "core/humanize.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace skiff {

TEST(Humanize, SizesAsDockerPrintsThem) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(5242880), "5.24MB");
  EXPECT_EQ(human_size(110000000), "110MB");
  EXPECT_EQ(human_size(2500000000ull), "2.5GB");
}

TEST(Humanize, ParsesMemorySizes) {
  EXPECT_EQ(parse_size("64m"), 64ull << 20);
  EXPECT_EQ(parse_size("1g"), 1ull << 30);
  EXPECT_EQ(parse_size("512k"), 512ull << 10);
  EXPECT_EQ(parse_size("100"), 100u);
  EXPECT_EQ(parse_size("1.5g"), (3ull << 30) / 2);
  EXPECT_THROW(parse_size("lots"), Error);
  EXPECT_THROW(parse_size("64q"), Error);
  EXPECT_THROW(parse_size(""), Error);
}

TEST(Humanize, TimeAgo) {
  using namespace std::chrono;
  auto now = system_clock::now();
  EXPECT_EQ(time_ago(now, now), "Less than a second ago");
  EXPECT_EQ(time_ago(now - seconds(75), now), "About a minute ago");
  EXPECT_EQ(time_ago(now - hours(3), now), "3 hours ago");
  EXPECT_EQ(time_ago(now - hours(24 * 20), now), "2 weeks ago");
}

TEST(Humanize, Rfc3339RoundTrip) {
  auto t = parse_rfc3339("2026-11-28T03:14:02.123456789Z");
  EXPECT_EQ(format_rfc3339(t), "2026-11-28T03:14:02.123456789Z");
  EXPECT_EQ(parse_rfc3339("2026-11-28T05:14:02+02:00"), parse_rfc3339("2026-11-28T03:14:02Z"));
  EXPECT_EQ(format_rfc3339(parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
  EXPECT_THROW(parse_rfc3339("yesterday"), Error);
  EXPECT_THROW(parse_rfc3339("2026-11-28T03:14:02"), Error);
}

}  // namespace skiff
