// CivilDate: a proleptic Gregorian calendar date with no time zone (a "ngày dương lịch").
//
// Dates convert to and from a day count since 1970-01-01 (Howard Hinnant's algorithms), so arithmetic on
// days is integer arithmetic. Fields are plain ints; IsValidCivilDate tells whether they name a real date.
// Weekday numbering is ISO 8601: 1 = Monday ... 7 = Sunday.
//
// Thread-safety: values and pure functions; safe from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tl {

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy's false positive on a defaulted <=>.
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

bool IsLeapYear(int year);
int DaysInMonth(int year, int month);
bool IsValidCivilDate(int year, int month, int day);

// Days since 1970-01-01 (negative before). Invalid fields are normalised arithmetically.
int64_t DaysSinceEpoch(CivilDate date);
CivilDate CivilDateFromDays(int64_t days_since_epoch);
CivilDate AddDays(CivilDate date, int64_t days);

// ISO weekday: 1 = Monday (thứ Hai) ... 6 = Saturday (thứ Bảy), 7 = Sunday (Chủ nhật).
int IsoWeekday(CivilDate date);
inline bool IsWeekend(CivilDate date) {
  return IsoWeekday(date) >= 6;
}

// "YYYY-MM-DD".
std::string FormatCivilDate(CivilDate date);
// Parses "YYYY-MM-DD"; fails with InvalidArgument naming `field`.
Result<CivilDate> ParseCivilDate(std::string_view s, std::string_view field);

}  // namespace tl
