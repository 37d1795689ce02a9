#include "core/lunar_calendar.h"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

namespace tl {
namespace {

// Vietnam's time zone for the calendar, in hours.
constexpr double kTimeZone = 7.0;
// Julian day number of 1970-01-01.
constexpr int64_t kJdnOfEpoch = 2440588;
// Mean synodic month (days) and the Julian day of the new moon k = 0 (1900-01-01) used to index new moons.
constexpr double kSynodicMonth = 29.530588853;
constexpr double kNewMoonEpoch = 2415021.076998695;
constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180.0;

int64_t Floor(double x) {
  return static_cast<int64_t>(std::floor(x));
}

int64_t JdnFromDate(CivilDate d) {
  return DaysSinceEpoch(d) + kJdnOfEpoch;
}
CivilDate DateFromJdn(int64_t jdn) {
  return CivilDateFromDays(jdn - kJdnOfEpoch);
}

// Julian day (TT corrected to UT, fractional) of the k-th new moon after 1900-01-01.
double NewMoon(int64_t k) {
  const double t = static_cast<double>(k) / 1236.85;  // Julian centuries from 1900-01-00.5
  const double t2 = t * t;
  const double t3 = t2 * t;
  const double kd = static_cast<double>(k);
  double jd1 = 2415020.75933 + 29.53058868 * kd + 0.0001178 * t2 - 0.000000155 * t3;
  jd1 += 0.00033 * std::sin((166.56 + 132.87 * t - 0.009173 * t2) * kDegree);          // mean new moon
  const double m = 359.2242 + 29.10535608 * kd - 0.0000333 * t2 - 0.00000347 * t3;     // Sun's mean anomaly
  const double mpr = 306.0253 + 385.81691806 * kd + 0.0107306 * t2 + 0.00001236 * t3;  // Moon's mean anomaly
  const double f = 21.2964 + 390.67050646 * kd - 0.0016528 * t2 - 0.00000239 * t3;     // Moon's arg. of latitude
  double c1 = (0.1734 - 0.000393 * t) * std::sin(m * kDegree) + 0.0021 * std::sin(2 * kDegree * m);
  c1 = c1 - 0.4068 * std::sin(mpr * kDegree) + 0.0161 * std::sin(kDegree * 2 * mpr);
  c1 = c1 - 0.0004 * std::sin(kDegree * 3 * mpr);
  c1 = c1 + 0.0104 * std::sin(kDegree * 2 * f) - 0.0051 * std::sin(kDegree * (m + mpr));
  c1 = c1 - 0.0074 * std::sin(kDegree * (m - mpr)) + 0.0004 * std::sin(kDegree * (2 * f + m));
  c1 = c1 - 0.0004 * std::sin(kDegree * (2 * f - m)) - 0.0006 * std::sin(kDegree * (2 * f + mpr));
  c1 = c1 + 0.0010 * std::sin(kDegree * (2 * f - mpr)) + 0.0005 * std::sin(kDegree * (2 * mpr + m));
  double delta_t;
  if (t < -11) {
    delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3;
  } else {
    delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2;
  }
  return jd1 + c1 - delta_t;
}

// The Sun's apparent longitude (radians, in [0, 2π)) at Julian day `jd`.
double SunLongitude(double jd) {
  const double t = (jd - 2451545.0) / 36525;  // Julian centuries from J2000.0
  const double t2 = t * t;
  const double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;  // mean anomaly
  const double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;                       // mean longitude
  double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * std::sin(kDegree * m);
  dl += (0.019993 - 0.000101 * t) * std::sin(kDegree * 2 * m) + 0.000290 * std::sin(kDegree * 3 * m);
  double l = (l0 + dl) * kDegree;
  l -= 2 * kPi * std::floor(l / (2 * kPi));
  return l;
}

// Local day (Julian day number) of the k-th new moon.
int64_t NewMoonDay(int64_t k) {
  return Floor(NewMoon(k) + 0.5 + kTimeZone / 24);
}

// Index 0..11 of the 30° sector the Sun is in at the start of local day `jdn` (0 = from the spring equinox).
int SunSector(int64_t jdn) {
  return static_cast<int>(Floor(SunLongitude(static_cast<double>(jdn) - 0.5 - kTimeZone / 24) / kPi * 6));
}

// Local day on which lunar month 11 of Gregorian year `year` (the month containing the winter solstice)
// starts.
int64_t LunarMonth11(int year) {
  const int64_t off = JdnFromDate({year, 12, 31}) - 2415021;
  const int64_t k = Floor(static_cast<double>(off) / kSynodicMonth);
  int64_t nm = NewMoonDay(k);
  if (SunSector(nm) >= 9) nm = NewMoonDay(k - 1);  // the new moon falls after the solstice
  return nm;
}

// For a 13-month span starting at month 11 (day `a11`), the offset (1..12) of the leap month: the first
// month whose start is in the same Sun sector as the next month's start (no principal term).
int LeapMonthOffset(int64_t a11) {
  const int64_t k = Floor((static_cast<double>(a11) - kNewMoonEpoch) / kSynodicMonth + 0.5);
  int i = 1;  // the month after month 11
  int arc = SunSector(NewMoonDay(k + i));
  int last = 0;
  do {
    last = arc;
    ++i;
    arc = SunSector(NewMoonDay(k + i));
  } while (arc != last && i < 14);
  return i - 1;
}

bool YearInRange(int year) {
  return year >= kLunarMinYear && year <= kLunarMaxYear;
}

// The start (local JDN) of a lunar month, or an error if it does not exist.
Result<int64_t> MonthStart(int lunar_year, int lunar_month, bool leap, int64_t* next_start) {
  if (!YearInRange(lunar_year)) {
    return InvalidArgument(
        "lunar year must be within " + std::to_string(kLunarMinYear) + "–" + std::to_string(kLunarMaxYear),
        "lunar_year");
  }
  if (lunar_month < 1 || lunar_month > 12) return InvalidArgument("lunar month must be 1–12", "lunar_month");
  int64_t a11, b11;
  if (lunar_month < 11) {
    a11 = LunarMonth11(lunar_year - 1);
    b11 = LunarMonth11(lunar_year);
  } else {
    a11 = LunarMonth11(lunar_year);
    b11 = LunarMonth11(lunar_year + 1);
  }
  const int64_t k = Floor(0.5 + (static_cast<double>(a11) - kNewMoonEpoch) / kSynodicMonth);
  int off = lunar_month - 11;
  if (off < 0) off += 12;
  if (b11 - a11 > 365) {
    const int leap_off = LeapMonthOffset(a11);
    int leap_month = leap_off - 2;
    if (leap_month < 0) leap_month += 12;
    if (leap && lunar_month != leap_month) {
      return InvalidArgument(
          "lunar year " + std::to_string(lunar_year) + " has no leap month " + std::to_string(lunar_month), "leap");
    }
    if (leap || off >= leap_off) off += 1;
  } else if (leap) {
    return InvalidArgument(
        "lunar year " + std::to_string(lunar_year) + " has no leap month " + std::to_string(lunar_month), "leap");
  }
  if (next_start != nullptr) *next_start = NewMoonDay(k + off + 1);
  return NewMoonDay(k + off);
}

}  // namespace

LunarDate SolarToLunar(CivilDate date) {
  const int64_t day_number = JdnFromDate(date);
  // The month starts on the last new moon day not after `day_number`. The mean-month estimate of its index
  // can be one off when the true new moon is hours from the mean one (e.g. 2054-05-07), so settle it.
  int64_t k = Floor((static_cast<double>(day_number) - kNewMoonEpoch) / kSynodicMonth);
  while (NewMoonDay(k) > day_number) --k;
  while (NewMoonDay(k + 1) <= day_number) ++k;
  const int64_t month_start = NewMoonDay(k);
  int64_t a11 = LunarMonth11(date.year);
  int64_t b11 = a11;
  int lunar_year;
  if (a11 >= month_start) {
    lunar_year = date.year;
    a11 = LunarMonth11(date.year - 1);
  } else {
    lunar_year = date.year + 1;
    b11 = LunarMonth11(date.year + 1);
  }
  LunarDate out;
  out.day = static_cast<int>(day_number - month_start + 1);
  const int diff = static_cast<int>(Floor(static_cast<double>(month_start - a11) / 29));
  out.month = diff + 11;
  if (b11 - a11 > 365) {
    const int leap_diff = LeapMonthOffset(a11);
    if (diff >= leap_diff) {
      out.month = diff + 10;
      out.leap = diff == leap_diff;
    }
  }
  if (out.month > 12) out.month -= 12;
  if (out.month >= 11 && diff < 4) lunar_year -= 1;
  out.year = lunar_year;
  return out;
}

LunarDate SolarToLunar(int year, int month, int day) {
  return SolarToLunar(CivilDate{year, month, day});
}

Result<CivilDate> LunarToSolar(int lunar_year, int lunar_month, int lunar_day, bool leap) {
  int64_t next = 0;
  TL_ASSIGN_OR_RETURN(int64_t start, MonthStart(lunar_year, lunar_month, leap, &next));
  if (lunar_day < 1 || lunar_day > next - start) {
    return InvalidArgument("lunar month " + std::to_string(lunar_month) + (leap ? " (leap)" : "") + " of " +
                               std::to_string(lunar_year) + " has " + std::to_string(next - start) + " days",
                           "lunar_day");
  }
  return DateFromJdn(start + lunar_day - 1);
}

Result<int> LunarMonthLength(int lunar_year, int lunar_month, bool leap) {
  int64_t next = 0;
  TL_ASSIGN_OR_RETURN(int64_t start, MonthStart(lunar_year, lunar_month, leap, &next));
  return static_cast<int>(next - start);
}

int LeapMonthOf(int lunar_year) {
  // Months 1..10 of `lunar_year` lie in the span from month 11 of the previous Gregorian year; months 11
  // and 12 in the span starting with month 11 of this Gregorian year.
  const int64_t a11 = LunarMonth11(lunar_year - 1);
  const int64_t b11 = LunarMonth11(lunar_year);
  if (b11 - a11 > 365) {
    const int leap_off = LeapMonthOffset(a11);
    if (leap_off >= 3) return leap_off - 2;
  }
  const int64_t c11 = LunarMonth11(lunar_year + 1);
  if (c11 - b11 > 365) {
    const int leap_off = LeapMonthOffset(b11);
    if (leap_off <= 2) return leap_off == 1 ? 11 : 12;
  }
  return 0;
}

}  // namespace tl
