#include "core/lunar_calendar.h"

#include <gtest/gtest.h>

namespace tl {
namespace {

CivilDate D(int y, int m, int d) {
  return CivilDate{y, m, d};
}

TEST(LunarCalendarTest, TetNguyenDan) {
  // Tết (lunar 1/1) as published in Vietnamese calendars.
  const struct {
    int year;
    CivilDate tet;
  } kTet[] = {
      {1985, D(1985, 1, 21)},  // Vietnam (UTC+7) a month before China (20 February 1985)
      {2007, D(2007, 2, 17)},  // Vietnam a day before China (18 February 2007)
      {2020, D(2020, 1, 25)}, {2021, D(2021, 2, 12)}, {2022, D(2022, 2, 1)},  {2023, D(2023, 1, 22)},
      {2024, D(2024, 2, 10)}, {2025, D(2025, 1, 29)}, {2026, D(2026, 2, 17)}, {2027, D(2027, 2, 6)},
  };
  for (const auto& t : kTet) {
    auto r = LunarToSolar(t.year, 1, 1, false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, t.tet) << t.year << " got " << FormatCivilDate(*r);
    EXPECT_EQ(SolarToLunar(t.tet), (LunarDate{t.year, 1, 1, false})) << t.year;
  }
}

TEST(LunarCalendarTest, HungKingsDay) {
  // Giỗ Tổ Hùng Vương, 10/3 lunar.
  const struct {
    int year;
    CivilDate date;
  } kDays[] = {{2023, D(2023, 4, 29)},
               {2024, D(2024, 4, 18)},
               {2025, D(2025, 4, 7)},
               {2026, D(2026, 4, 26)},
               {2027, D(2027, 4, 16)}};
  for (const auto& h : kDays) {
    auto r = LunarToSolar(h.year, 3, 10, false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, h.date) << h.year << " got " << FormatCivilDate(*r);
    EXPECT_EQ(SolarToLunar(h.date.year, h.date.month, h.date.day), (LunarDate{h.year, 3, 10, false}));
  }
}

TEST(LunarCalendarTest, LeapMonths) {
  // 2023 (Quý Mão) had a leap 2nd month, 2025 (Ất Tỵ) a leap 6th month; 2024 and 2026 none; 2028 a leap 5th.
  EXPECT_EQ(LeapMonthOf(2020), 4);
  EXPECT_EQ(LeapMonthOf(2023), 2);
  EXPECT_EQ(LeapMonthOf(2024), 0);
  EXPECT_EQ(LeapMonthOf(2025), 6);
  EXPECT_EQ(LeapMonthOf(2026), 0);
  EXPECT_EQ(LeapMonthOf(2028), 5);

  auto leap2 = LunarToSolar(2023, 2, 1, true);
  ASSERT_TRUE(leap2.ok()) << leap2.status().ToString();
  EXPECT_EQ(*leap2, D(2023, 3, 22));
  EXPECT_EQ(SolarToLunar(2023, 3, 22), (LunarDate{2023, 2, 1, true}));
  EXPECT_EQ(SolarToLunar(2023, 3, 21), (LunarDate{2023, 2, 30, false}));  // the ordinary 2nd month's last day
  auto ordinary2 = LunarToSolar(2023, 2, 1, false);
  ASSERT_TRUE(ordinary2.ok());
  EXPECT_EQ(*ordinary2, D(2023, 2, 20));

  auto leap6 = LunarToSolar(2025, 6, 1, true);
  ASSERT_TRUE(leap6.ok()) << leap6.status().ToString();
  EXPECT_EQ(*leap6, D(2025, 7, 25));
  EXPECT_EQ(SolarToLunar(2025, 7, 25), (LunarDate{2025, 6, 1, true}));
  EXPECT_EQ(SolarToLunar(2025, 7, 24), (LunarDate{2025, 6, 30, false}));
  // The month after a leap month keeps counting: Mid-Autumn (15/8) 2025 fell on 6 October.
  auto mid_autumn = LunarToSolar(2025, 8, 15, false);
  ASSERT_TRUE(mid_autumn.ok());
  EXPECT_EQ(*mid_autumn, D(2025, 10, 6));

  EXPECT_EQ(LunarToSolar(2025, 5, 1, true).status().field(), "leap");  // 2025's leap month is the 6th
  EXPECT_EQ(LunarToSolar(2024, 6, 1, true).status().field(), "leap");  // 2024 has no leap month
}

TEST(LunarCalendarTest, YearBoundaries) {
  // Lunar months 11 and 12 straddle the Gregorian new year and belong to the previous lunar year.
  EXPECT_EQ(SolarToLunar(2025, 1, 28), (LunarDate{2024, 12, 29, false}));  // 2025 had no "30 Tết"
  EXPECT_EQ(SolarToLunar(2024, 2, 9), (LunarDate{2023, 12, 30, false}));
  EXPECT_EQ(SolarToLunar(2026, 2, 16), (LunarDate{2025, 12, 29, false}));
  EXPECT_EQ(SolarToLunar(2024, 1, 1), (LunarDate{2023, 11, 20, false}));
  auto len = LunarMonthLength(2024, 12, false);
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 29);
  EXPECT_EQ(LunarToSolar(2024, 12, 30, false).status().field(), "lunar_day");
  auto thirty = LunarToSolar(2023, 12, 30, false);
  ASSERT_TRUE(thirty.ok());
  EXPECT_EQ(*thirty, D(2024, 2, 9));
}

TEST(LunarCalendarTest, RejectsImpossibleDates) {
  EXPECT_EQ(LunarToSolar(2025, 13, 1, false).status().field(), "lunar_month");
  EXPECT_EQ(LunarToSolar(2025, 0, 1, false).status().field(), "lunar_month");
  EXPECT_EQ(LunarToSolar(2025, 1, 0, false).status().field(), "lunar_day");
  EXPECT_EQ(LunarToSolar(2025, 1, 31, false).status().field(), "lunar_day");
  EXPECT_EQ(LunarToSolar(1700, 1, 1, false).status().field(), "lunar_year");
}

TEST(LunarCalendarTest, RoundTripsEveryDay1900To2100) {
  // Every Gregorian day maps to a lunar date that maps back; lunar days advance by one, months have 29–30
  // days.
  LunarDate prev = SolarToLunar(1899, 12, 31);
  for (int64_t d = DaysSinceEpoch({1900, 1, 1}); d <= DaysSinceEpoch({2100, 12, 31}); ++d) {
    const CivilDate date = CivilDateFromDays(d);
    const LunarDate l = SolarToLunar(date);
    auto back = LunarToSolar(l.year, l.month, l.day, l.leap);
    ASSERT_TRUE(back.ok()) << FormatCivilDate(date) << ": " << back.status().ToString();
    ASSERT_EQ(*back, date);
    if (l.day == 1) {
      ASSERT_TRUE(prev.day == 29 || prev.day == 30) << FormatCivilDate(date);
      ASSERT_TRUE(l.leap || (l.month == prev.month % 12 + 1)) << FormatCivilDate(date);
      ASSERT_TRUE(!l.leap || (l.month == prev.month && !prev.leap)) << FormatCivilDate(date);
    } else {
      ASSERT_EQ(l.day, prev.day + 1) << FormatCivilDate(date);
      ASSERT_EQ(l.month, prev.month);
      ASSERT_EQ(l.leap, prev.leap);
    }
    if (l.day == 1 && l.month == 1 && !l.leap) {
      ASSERT_EQ(l.year, prev.year + 1) << FormatCivilDate(date);
    } else {
      ASSERT_EQ(l.year, prev.year) << FormatCivilDate(date);
    }
    prev = l;
  }
}

}  // namespace
}  // namespace tl
