// The Vietnamese lunisolar calendar (âm lịch), computed astronomically.
//
// Follows Hồ Ngọc Đức's published algorithm (after Jean Meeus, "Astronomical Algorithms"): a lunar month
// starts on the local day of a new moon (ngày Sóc); month 11 is the month containing the winter solstice
// (Đông chí); a year with 13 months between two months 11 has a leap month (tháng nhuận), the first month
// after month 11 without a principal solar term (trung khí), and it repeats the previous month's number.
// Everything is computed for Vietnam's time zone UTC+7 (the calendar in force since 1968), which is why
// Vietnamese and Chinese dates sometimes differ (Tết 1985, 2007). Accurate for 1800–2199.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include "core/civil_date.h"
#include "core/status.h"

namespace tl {

struct LunarDate {
  int year = 0;       // lunar year; month 1 day 1 of `year` is Tết Nguyên đán of Gregorian year `year`
  int month = 0;      // 1..12
  int day = 0;        // 1..30
  bool leap = false;  // tháng nhuận: the second month carrying this number in this year

  friend bool operator==(const LunarDate&, const LunarDate&) = default;
};

// Years accepted by the conversions.
inline constexpr int kLunarMinYear = 1800;
inline constexpr int kLunarMaxYear = 2199;

// The lunar date of a Gregorian date. Precondition: a valid date within [kLunarMinYear, kLunarMaxYear];
// other inputs are normalised arithmetically and give unspecified (but defined) results.
LunarDate SolarToLunar(int year, int month, int day);
LunarDate SolarToLunar(CivilDate date);

// The Gregorian date of a lunar date. Fails with InvalidArgument when the month does not exist (out of
// 1..12, or `leap` set and that month is not the year's leap month), the day does not exist in that
// month (months have 29 or 30 days), or the year is out of range.
Result<CivilDate> LunarToSolar(int lunar_year, int lunar_month, int lunar_day, bool leap);

// The leap month of `lunar_year` (1..12), or 0 if the year has none. Precondition: year in range.
int LeapMonthOf(int lunar_year);

// Number of days (29 or 30) of a lunar month; fails like LunarToSolar when the month does not exist.
Result<int> LunarMonthLength(int lunar_year, int lunar_month, bool leap);

}  // namespace tl
