#include "core/civil_date.h"

#include <cstdio>

#include "core/clock.h"

namespace tl {

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsValidCivilDate(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

int64_t DaysSinceEpoch(CivilDate date) {
  // Normalise the month first so that month 13 or 0 behave arithmetically.
  int64_t y = date.year;
  int64_t m = date.month - 1;
  y += m >= 0 ? m / 12 : -((11 - m) / 12);
  m = ((m % 12) + 12) % 12 + 1;
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilDateFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}

CivilDate AddDays(CivilDate date, int64_t days) {
  return CivilDateFromDays(DaysSinceEpoch(date) + days);
}

int IsoWeekday(CivilDate date) {
  // 1970-01-01 was a Thursday (ISO 4).
  const int64_t d = DaysSinceEpoch(date);
  return static_cast<int>(((d + 3) % 7 + 7) % 7) + 1;
}

std::string FormatCivilDate(CivilDate date) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buf;
}

Result<CivilDate> ParseCivilDate(std::string_view s, std::string_view field) {
  TL_ASSIGN_OR_RETURN(int64_t ms, ParseDate(s, field));
  return CivilDateFromDays(ms / 86400000);
}

}  // namespace tl
