#include "core/clock.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <vector>

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

// The digit-by-digit formatting against the C library's, over times before 1970, around leap days
// and up to the last millisecond of 9999; years outside 0-9999 fall back to snprintf.
TEST(ClockTest, FormatsTimesLikeTheCLibrary) {
  auto reference = [](int64_t ms) {
    time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int64_t millis = ms - static_cast<int64_t>(secs) * 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
    return std::string(buf);
  };
  std::vector<int64_t> times = {0, -1, -86400000, 951782400000 /* 2000-02-29 */, 1709164799999, 253402300799999};
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; ++i) {  // xorshift over 1900..2200
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    times.push_back(-2208988800000LL + static_cast<int64_t>(x % 9467020800000ULL));
  }
  for (int64_t t : times) EXPECT_EQ(FormatRfc3339(t), reference(t)) << t;
  EXPECT_EQ(FormatRfc3339(253402300800000), "10000-01-01T00:00:00.000Z");
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock c(1000);
  c.Advance(500);
  EXPECT_EQ(c.NowMillis(), 1500);
}

}  // namespace
}  // namespace tl
