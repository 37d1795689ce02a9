#include "core/clock.h"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(ClockTest, FormatsAndParsesDates) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1782000000123), "2026-06-21T00:00:00.123Z");
  auto d = ParseDate("2025-07-01", "effective_from");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(FormatDate(*d), "2025-07-01");
  EXPECT_FALSE(ParseDate("2025-02-29", "x").ok());
  EXPECT_TRUE(ParseDate("2024-02-29", "x").ok());
  auto bad = ParseDate("2025-13-01", "effective_from");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "effective_from");
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock c(1000);
  c.Advance(500);
  EXPECT_EQ(c.NowMillis(), 1500);
}

}  // namespace
}  // namespace tl
