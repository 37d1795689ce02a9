#include "core/working_calendar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <string>
#include <vector>

#include "core/clock.h"

namespace tl {
namespace {

constexpr char kSchedulePath[] = THANGLONG_TEST_DATA_ROOT "/calendar/official-schedules.json";

// A Vietnamese local time (UTC+7) as Unix ms.
int64_t At(int y, int m, int d, int hour, int minute = 0) {
  return VietnamTimeToUnixMs({y, m, d}, hour, minute);
}
// The close of office hours (17:00 local) of a day.
int64_t Close(int y, int m, int d) {
  return At(y, m, d, 17);
}
CivilDate D(int y, int m, int d) {
  return CivilDate{y, m, d};
}

// Renders an instant in local time for readable failures.
std::string Local(const Result<int64_t>& r) {
  if (!r.ok()) return r.status().ToString();
  std::string s = FormatRfc3339(*r + kVietnamUtcOffsetMinutes * 60'000LL);
  return s.substr(0, 16) + "+07:00";
}
std::string Local(int64_t ms) {
  return Local(Result<int64_t>(ms));
}

WorkingCalendar Official() {
  auto entries = LoadScheduleFile(kSchedulePath);
  EXPECT_TRUE(entries.ok()) << entries.status().ToString();
  auto cal = WorkingCalendar::Create(entries.ok() ? *entries : std::vector<ScheduleEntry>{});
  EXPECT_TRUE(cal.ok()) << cal.status().ToString();
  return std::move(cal).value();
}

WorkingCalendar DefaultRuleOnly() {
  auto cal = WorkingCalendar::Create({});
  EXPECT_TRUE(cal.ok()) << cal.status().ToString();
  return std::move(cal).value();
}

std::vector<CivilDate> DatesOf(const std::vector<Holiday>& days) {
  std::vector<CivilDate> out;
  out.reserve(days.size());
  for (const auto& h : days) out.push_back(h.date);
  return out;
}

#define EXPECT_DUE(result, expected) EXPECT_EQ(Local(result), Local(expected))

// ---------------------------------------------------------------------------------------------------------
// The shipped official schedule

TEST(CalendarScheduleTest, ShippedScheduleLoadsWithProvenance) {
  auto entries = LoadScheduleFile(kSchedulePath);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(entries->size(), 33u);
  for (const auto& e : *entries) {
    EXPECT_FALSE(e.source.empty()) << FormatCivilDate(e.date);
    EXPECT_FALSE(e.confidence.empty()) << FormatCivilDate(e.date);
    EXPECT_NE(e.occasion, Occasion::kNone) << FormatCivilDate(e.date);
    EXPECT_GE(e.date.year, 2024);
    EXPECT_LE(e.date.year, 2026);
  }
}

TEST(CalendarTet2026Test, DossierReceivedBeforeTet) {
  const WorkingCalendar cal = Official();
  // Tết Bính Ngọ: civil servants off Saturday 14 – Sunday 22 February 2026.
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 2, 13)));
  for (int d = 14; d <= 22; ++d) EXPECT_FALSE(cal.IsWorkingDay(D(2026, 2, d))) << d;
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 2, 23)));

  // Received Friday 13 February at 10:00 with 3 working days: the receipt day is not counted, so days 1–3 are
  // Monday 23, Tuesday 24 and Wednesday 25 February; due at the close of Wednesday 25 February (not Thursday
  // 26: that would be 4 days).
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 10), 3), Close(2026, 2, 25));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 10), 4), Close(2026, 2, 26));
  // Received at 17:30 (after closing): counting starts Monday 23 February 08:00, which is day 1.
  EXPECT_DUE(cal.CountingStart(At(2026, 2, 13, 17, 30)), At(2026, 2, 23, 8));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 17, 30), 3), Close(2026, 2, 25));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 17, 30), 0.5), At(2026, 2, 23, 12));
  // Half a day from 10:00 the same Friday: 2 hours before lunch, 2 after.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 10), 0.5), At(2026, 2, 13, 15));
  // Half a day from 16:00 spills over Tết: 1 hour on Friday, 3 on Monday 23 February.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 16), 0.5), At(2026, 2, 23, 11));
}

TEST(CalendarTet2026Test, HolidaysOf2026) {
  const WorkingCalendar cal = Official();
  const std::vector<Holiday> days = cal.HolidaysOf(2026);
  const std::vector<CivilDate> expected = {D(2026, 1, 1),  // Tết Dương lịch
                                           D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19),
                                           D(2026, 2, 20),                  // Tết (official)
                                           D(2026, 4, 26), D(2026, 4, 27),  // Giỗ Tổ (Sunday) + nghỉ bù
                                           D(2026, 4, 30), D(2026, 5, 1),  D(2026, 9, 1),  D(2026, 9, 2)};
  EXPECT_EQ(DatesOf(days), expected);
  ASSERT_EQ(days.size(), expected.size());
  EXPECT_EQ(days[0].reason, "Tết Dương lịch");
  EXPECT_FALSE(days[0].official);  // no official New Year schedule shipped for 2026: default rule
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(days[i].reason, "Tết Nguyên đán");
    EXPECT_EQ(days[i].occasion, Occasion::kTet);
    EXPECT_TRUE(days[i].official);
  }
  EXPECT_EQ(days[6].reason, "Giỗ Tổ Hùng Vương");
  EXPECT_EQ(days[7].reason, "nghỉ bù Giỗ Tổ Hùng Vương");
  EXPECT_EQ(days[8].reason, "Ngày Giải phóng miền Nam");
  EXPECT_EQ(days[9].reason, "Quốc tế Lao động");
  EXPECT_EQ(days[10].reason, "Quốc khánh");
  EXPECT_EQ(days[11].reason, "Quốc khánh");
  EXPECT_TRUE(cal.MakeUpWorkdaysOf(2026).empty());
}

TEST(CalendarHolidayTest, HungKingsDayOnSundayIsCompensatedOnMonday) {
  const WorkingCalendar cal = Official();
  // 10/3 Bính Ngọ = Sunday 26 April 2026.
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 4, 26)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 4, 27)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 4, 28)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 4, 29)));
  // Friday 24 April 10:00: day 1 is Tuesday 28 (Monday 27 is the compensation day).
  EXPECT_DUE(cal.DueTime(At(2026, 4, 24, 10), 1), Close(2026, 4, 28));
  // 3 days: Tuesday 28, Wednesday 29, then 30/4, 1/5 and the weekend are off: Monday 4 May.
  EXPECT_DUE(cal.DueTime(At(2026, 4, 24, 10), 3), Close(2026, 5, 4));
}

TEST(CalendarHolidayTest, MakeUpSaturdayIsAWorkingDay) {
  const WorkingCalendar cal = Official();
  // 2024: Monday 29 April swapped with Saturday 4 May.
  EXPECT_FALSE(cal.IsWorkingDay(D(2024, 4, 29)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2024, 5, 4)));
  EXPECT_EQ(DatesOf(cal.MakeUpWorkdaysOf(2024)), std::vector<CivilDate>{D(2024, 5, 4)});
  EXPECT_DUE(cal.DueTime(At(2024, 5, 3, 10), 1), Close(2024, 5, 4));
  // Friday 26 April: 27 April – 1 May off; Thursday 2, Friday 3 and Saturday 4 May are days 1–3.
  EXPECT_DUE(cal.DueTime(At(2024, 4, 26, 10), 2), Close(2024, 5, 3));
  EXPECT_DUE(cal.DueTime(At(2024, 4, 26, 10), 3), Close(2024, 5, 4));
  EXPECT_DUE(cal.DueTime(At(2024, 4, 26, 10), 4), Close(2024, 5, 6));

  // 2025: Friday 2 May swapped with Saturday 26 April; off 30 April – 4 May.
  EXPECT_TRUE(cal.IsWorkingDay(D(2025, 4, 26)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2025, 5, 2)));
  EXPECT_EQ(DatesOf(cal.MakeUpWorkdaysOf(2025)), std::vector<CivilDate>{D(2025, 4, 26)});
  EXPECT_DUE(cal.DueTime(At(2025, 4, 25, 10), 1), Close(2025, 4, 26));
  EXPECT_DUE(cal.DueTime(At(2025, 4, 25, 10), 2), Close(2025, 4, 28));
  EXPECT_DUE(cal.DueTime(At(2025, 4, 25, 10), 4), Close(2025, 5, 5));
  // A dossier received on the make-up Saturday counts like any working day.
  EXPECT_DUE(cal.CountingStart(At(2025, 4, 26, 9)), At(2025, 4, 26, 9));
}

TEST(CalendarHolidayTest, OfficialTetSchedulesReplaceTheDefaultRule) {
  const WorkingCalendar official = Official();
  const WorkingCalendar defaults = DefaultRuleOnly();
  // 2024 official: Thursday 8 – Wednesday 14 February. The default rule would give 9–15 February.
  EXPECT_FALSE(official.IsWorkingDay(D(2024, 2, 8)));
  EXPECT_TRUE(official.IsWorkingDay(D(2024, 2, 15)));
  EXPECT_TRUE(defaults.IsWorkingDay(D(2024, 2, 8)));
  EXPECT_FALSE(defaults.IsWorkingDay(D(2024, 2, 15)));
  EXPECT_DUE(official.DueTime(At(2024, 2, 7, 10), 1), Close(2024, 2, 15));
  EXPECT_DUE(defaults.DueTime(At(2024, 2, 7, 10), 1), Close(2024, 2, 8));

  // 2025 official: Saturday 25 January – Sunday 2 February. The default rule (28 January – 1 February, the
  // Saturday compensated on Monday 3 February) would keep 27 January and take 3 February.
  EXPECT_FALSE(official.IsWorkingDay(D(2025, 1, 27)));
  EXPECT_TRUE(official.IsWorkingDay(D(2025, 2, 3)));
  EXPECT_FALSE(official.IsWorkingDay(D(2025, 2, 8)));  // no make-up Saturday
  EXPECT_TRUE(defaults.IsWorkingDay(D(2025, 1, 27)));
  EXPECT_FALSE(defaults.IsWorkingDay(D(2025, 2, 3)));
  EXPECT_DUE(official.DueTime(At(2025, 1, 24, 16), 1), Close(2025, 2, 3));
  EXPECT_DUE(defaults.DueTime(At(2025, 1, 24, 16), 1), Close(2025, 1, 27));
}

TEST(CalendarHolidayTest, NationalDay) {
  const WorkingCalendar cal = Official();
  // 2024: 2/9 is a Monday; off Saturday 31 August – Tuesday 3 September.
  EXPECT_DUE(cal.DueTime(At(2024, 8, 30, 10), 1), Close(2024, 9, 4));
  // 2025: 2/9 is a Tuesday; off Saturday 30 August – Tuesday 2 September.
  EXPECT_FALSE(cal.IsWorkingDay(D(2025, 9, 1)));
  EXPECT_DUE(cal.DueTime(At(2025, 8, 29, 9), 1), Close(2025, 9, 3));
  // 2026 (default rule): 2/9 is a Wednesday, the adjacent day is Tuesday 1/9.
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 9, 1)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2026, 9, 2)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2026, 9, 3)));
  EXPECT_DUE(cal.DueTime(At(2026, 8, 31, 10), 1), Close(2026, 9, 3));
}

TEST(CalendarDefaultRuleTest, Tet2027AndTheFollowingHolidays) {
  const WorkingCalendar cal = Official();  // nothing official for 2027: the default rule
  // Tết Đinh Mùi: Saturday 6 February 2027. The last day of the lunar year (Friday 5) and 1/1–1/4 (Saturday 6 –
  // Tuesday 9); the Saturday and Sunday are compensated on Wednesday 10 and Thursday 11.
  for (int d = 5; d <= 11; ++d) EXPECT_FALSE(cal.IsWorkingDay(D(2027, 2, d))) << d;
  EXPECT_TRUE(cal.IsWorkingDay(D(2027, 2, 12)));
  const std::vector<Holiday> days = cal.HolidaysOf(2027);
  ASSERT_GE(days.size(), 8u);
  EXPECT_EQ(days[0].date, D(2027, 1, 1));
  EXPECT_EQ(DatesOf({days.begin() + 1, days.begin() + 8}),
            (std::vector<CivilDate>{D(2027, 2, 5), D(2027, 2, 6), D(2027, 2, 7), D(2027, 2, 8), D(2027, 2, 9),
                                    D(2027, 2, 10), D(2027, 2, 11)}));
  EXPECT_EQ(days[6].reason, "nghỉ bù Tết Nguyên đán");
  EXPECT_DUE(cal.DueTime(At(2027, 2, 4, 10), 1), Close(2027, 2, 12));
  // New Year: Friday 1 January 2027; received Thursday 31 December 2026.
  EXPECT_DUE(cal.DueTime(At(2026, 12, 31, 10), 1), Close(2027, 1, 4));
  // Giỗ Tổ: Friday 16 April 2027. 30/4 is a Friday, 1/5 a Saturday compensated on Monday 3 May.
  EXPECT_FALSE(cal.IsWorkingDay(D(2027, 4, 16)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2027, 4, 30)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2027, 5, 3)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2027, 5, 4)));
}

TEST(CalendarDefaultRuleTest, CompensationsInDateOrder) {
  const WorkingCalendar cal = DefaultRuleOnly();
  // 2023: Giỗ Tổ on Saturday 29 April, 30/4 on Sunday, 1/5 on Monday: compensated on Tuesday 2 and Wednesday 3
  // May (the official schedule of 2023 was the same).
  std::vector<Holiday> days;
  for (const auto& h : cal.HolidaysOf(2023)) {
    if (h.date.month == 4 || h.date.month == 5) days.push_back(h);
  }
  EXPECT_EQ(DatesOf(days),
            (std::vector<CivilDate>{D(2023, 4, 29), D(2023, 4, 30), D(2023, 5, 1), D(2023, 5, 2), D(2023, 5, 3)}));
  ASSERT_EQ(days.size(), 5u);
  EXPECT_EQ(days[3].reason, "nghỉ bù Giỗ Tổ Hùng Vương");
  EXPECT_EQ(days[4].reason, "nghỉ bù Ngày Giải phóng miền Nam");
  EXPECT_TRUE(cal.IsWorkingDay(D(2023, 5, 4)));
  // New Year's Day 2023 was a Sunday: Monday 2 January off.
  EXPECT_FALSE(cal.IsWorkingDay(D(2023, 1, 2)));
  // 2/9/2028 is a Saturday: Friday 1/9 is the adjacent day, Monday 4/9 the compensation.
  EXPECT_FALSE(cal.IsWorkingDay(D(2028, 9, 1)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2028, 9, 4)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2028, 9, 5)));
  // 2/9/2029 is a Sunday: 1/9 is a Saturday, so Monday 3/9 is the adjacent day and Tuesday 4/9 the
  // compensation.
  EXPECT_FALSE(cal.IsWorkingDay(D(2029, 9, 3)));
  EXPECT_FALSE(cal.IsWorkingDay(D(2029, 9, 4)));
  EXPECT_TRUE(cal.IsWorkingDay(D(2029, 9, 5)));
}

TEST(CalendarScheduleTest, AdHocEntriesAndOverrides) {
  auto entries = LoadScheduleFile(kSchedulePath);
  ASSERT_TRUE(entries.ok());
  // A day off not tied to a statutory holiday (say, Vietnam Culture Day if it is ever made one) and a make-up
  // Saturday for it.
  entries->push_back({D(2026, 11, 24), DayKind::kOff, "Ngày Văn hóa Việt Nam", Occasion::kNone, "test", "low", ""});
  entries->push_back({D(2026, 11, 28), DayKind::kWork, "làm bù", Occasion::kNone, "test", "low", ""});
  auto cal = WorkingCalendar::Create(*entries);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  EXPECT_FALSE(cal->IsWorkingDay(D(2026, 11, 24)));
  EXPECT_TRUE(cal->IsWorkingDay(D(2026, 11, 28)));
  EXPECT_EQ(cal->HolidaysOf(2026).back().reason, "Ngày Văn hóa Việt Nam");
  EXPECT_EQ(DatesOf(cal->MakeUpWorkdaysOf(2026)), std::vector<CivilDate>{D(2026, 11, 28)});
  // Defaults of that year are untouched.
  EXPECT_FALSE(cal->IsWorkingDay(D(2026, 4, 27)));

  // An entry tied to an occasion replaces that occasion's default rule for the year, compensation included.
  auto only_hung_kings = WorkingCalendar::Create(
      {{D(2026, 4, 27), DayKind::kOff, "Giỗ Tổ Hùng Vương (nghỉ bù)", Occasion::kHungKings, "", "", ""}});
  ASSERT_TRUE(only_hung_kings.ok());
  EXPECT_EQ(DatesOf(only_hung_kings->HolidaysOf(2026))[1], D(2026, 2, 16));  // Tết still by default rule
  EXPECT_FALSE(only_hung_kings->IsWorkingDay(D(2026, 4, 27)));
  EXPECT_TRUE(only_hung_kings->IsWorkingDay(D(2026, 4, 28)));
  int hung_kings_days = 0;
  for (const auto& h : only_hung_kings->HolidaysOf(2026)) hung_kings_days += h.occasion == Occasion::kHungKings;
  EXPECT_EQ(hung_kings_days, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Office hours

TEST(CalendarHoursTest, CountingStart) {
  const WorkingCalendar cal = Official();
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 7, 30)), At(2026, 3, 9, 8));  // before opening
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 10, 15)), At(2026, 3, 9, 10, 15));
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 12, 30)), At(2026, 3, 9, 13));  // lunch break
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 12)), At(2026, 3, 9, 13));      // the morning's close
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 17)), At(2026, 3, 10, 8));      // the day's close
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 6, 17, 30)), At(2026, 3, 9, 8));   // Friday evening
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 7, 9)), At(2026, 3, 9, 8));        // Saturday
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 9, 23, 59)), At(2026, 3, 10, 8));
  EXPECT_DUE(cal.CountingStart(At(2026, 3, 10, 0, 1)), At(2026, 3, 10, 8));  // after local midnight
}

TEST(CalendarHoursTest, DueTimeWholeAndFractionalDays) {
  const WorkingCalendar cal = Official();
  // Received before opening: that day is day 1.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 7, 30), 1), Close(2026, 3, 9));
  // Received during office hours: the receipt day is not counted.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 10), 1), Close(2026, 3, 10));
  // Saturday: counts from Monday.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 7, 9), 1), Close(2026, 3, 9));
  // 10 working days from Monday 2 March 10:00: 3–6, 9–13 and 16 March.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 2, 10), 10), Close(2026, 3, 16));
  // Fractions are working hours: 0.5 day = 4 hours, across the lunch break.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 10), 0.5), At(2026, 3, 9, 15));
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 12, 30), 0.5), At(2026, 3, 9, 17));
  EXPECT_DUE(cal.DueTime(At(2026, 3, 10, 17, 30), 0.5), At(2026, 3, 11, 12));
  // 1.5 days: the close of day 1 (Tuesday), then 4 hours: Wednesday 12:00.
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 10), 1.5), At(2026, 3, 11, 12));
  EXPECT_DUE(cal.DueTime(At(2026, 3, 9, 10), 0), At(2026, 3, 9, 10));
  // Deadlines never shrink when the number of days grows, nor when the dossier arrives later.
  const int64_t kReceived[] = {At(2026, 2, 12, 7),      At(2026, 2, 12, 8),  At(2026, 2, 12, 10),
                               At(2026, 2, 12, 12, 30), At(2026, 2, 12, 16), At(2026, 2, 12, 17),
                               At(2026, 2, 12, 20),     At(2026, 2, 13, 10), At(2026, 2, 14, 10)};
  for (double days = 0; days <= 12; days += 0.125) {
    for (size_t i = 0; i < std::size(kReceived); ++i) {
      auto due = cal.DueTime(kReceived[i], days);
      auto more_days = cal.DueTime(kReceived[i], days + 0.125);
      ASSERT_TRUE(due.ok() && more_days.ok());
      EXPECT_LE(*due, *more_days) << Local(kReceived[i]) << " " << days;
      EXPECT_GE(*due, kReceived[i]);
      if (i + 1 < std::size(kReceived)) {
        auto later = cal.DueTime(kReceived[i + 1], days);
        ASSERT_TRUE(later.ok());
        EXPECT_LE(*due, *later) << Local(kReceived[i]) << " " << days;
      }
    }
  }
}

TEST(CalendarHoursTest, SameDayCutOff) {
  const WorkingCalendar cal = Official();
  const DueTimeOptions same_day{.cutoff_minute = 15 * 60};
  // Before 15:00 the receipt day is day 1: due today.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 11, 14), 1, same_day), Close(2026, 2, 11));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 11, 14, 59), 1, same_day), Close(2026, 2, 11));
  // From 15:00 on: the next working day.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 11, 15), 1, same_day), Close(2026, 2, 12));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 11, 15, 30), 1, same_day), Close(2026, 2, 12));
  EXPECT_DUE(cal.CountingStart(At(2026, 2, 11, 15, 30), same_day), At(2026, 2, 12, 8));
  // Friday before Tết after the cut-off: Monday 23 February.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 15, 30), 1, same_day), Close(2026, 2, 23));
  EXPECT_DUE(cal.DueTime(At(2026, 2, 13, 14), 1, same_day), Close(2026, 2, 13));
  // Without the cut-off the same dossier is due the next working day.
  EXPECT_DUE(cal.DueTime(At(2026, 2, 11, 14), 1), Close(2026, 2, 12));
  EXPECT_EQ(cal.DueTime(At(2026, 2, 11, 14), 1, {.cutoff_minute = 25 * 60}).status().field(), "cutoff_minute");
}

TEST(CalendarHoursTest, AddWorkingHours) {
  const WorkingCalendar cal = Official();
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 6, 15), 4), At(2026, 3, 9, 10));  // Friday 15:00, over the weekend
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 9, 8), 4), At(2026, 3, 9, 12));   // ends at the morning's close
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 9, 8), 8), At(2026, 3, 9, 17));
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 9, 8), 4.5), At(2026, 3, 9, 13, 30));
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 9, 17, 30), 1), At(2026, 3, 10, 9));
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 3, 9, 17, 30), 0), At(2026, 3, 9, 17, 30));
  EXPECT_DUE(cal.AddWorkingHours(At(2026, 2, 13, 16), 2), At(2026, 2, 23, 9));  // over Tết
  EXPECT_EQ(cal.AddWorkingHours(At(2026, 3, 9, 8), -1).status().field(), "hours");
}

TEST(CalendarHoursTest, WorkingHoursBetween) {
  const WorkingCalendar cal = Official();
  auto across_weekend = cal.WorkingHoursBetween(At(2026, 3, 6, 15), At(2026, 3, 9, 10));
  ASSERT_TRUE(across_weekend.ok());
  EXPECT_DOUBLE_EQ(*across_weekend, 4.0);  // Friday 15–17, Monday 8–10
  auto over_lunch = cal.WorkingHoursBetween(At(2026, 3, 9, 10), At(2026, 3, 9, 14));
  ASSERT_TRUE(over_lunch.ok());
  EXPECT_DOUBLE_EQ(*over_lunch, 3.0);
  auto over_tet = cal.WorkingHoursBetween(At(2026, 2, 13, 16), At(2026, 2, 23, 9));
  ASSERT_TRUE(over_tet.ok());
  EXPECT_DOUBLE_EQ(*over_tet, 2.0);
  auto weekend_only = cal.WorkingHoursBetween(At(2026, 3, 7, 9), At(2026, 3, 8, 16));
  ASSERT_TRUE(weekend_only.ok());
  EXPECT_DOUBLE_EQ(*weekend_only, 0.0);
  auto full_week = cal.WorkingMillisBetween(At(2026, 3, 9, 0), At(2026, 3, 16, 0));
  ASSERT_TRUE(full_week.ok());
  EXPECT_EQ(*full_week, 5 * cal.WorkingDayMillis());
  EXPECT_EQ(cal.WorkingHoursBetween(At(2026, 3, 9, 10), At(2026, 3, 9, 9)).status().field(), "to");

  // Pausing and resuming: the working time used before a pause, added back after it, ends where it would have.
  const int64_t received = At(2026, 2, 10, 9, 20);
  auto due = cal.DueTime(received, 5);
  ASSERT_TRUE(due.ok());
  auto used = cal.WorkingMillisBetween(received, At(2026, 2, 12, 11));  // paused Thursday 11:00 (supplement)
  auto left = cal.WorkingMillisBetween(At(2026, 2, 12, 11), *due);
  ASSERT_TRUE(used.ok() && left.ok());
  auto resumed = cal.AddWorkingMillis(At(2026, 3, 2, 14), *left);  // resumed Monday 2 March 14:00
  ASSERT_TRUE(resumed.ok());
  auto check = cal.WorkingMillisBetween(At(2026, 3, 2, 14), *resumed);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(*check, *left);
  for (int64_t a : {At(2026, 3, 9, 8), At(2026, 3, 9, 11, 7), At(2026, 3, 9, 12, 30), At(2026, 3, 13, 16, 59)}) {
    for (int64_t b : {At(2026, 3, 9, 11, 7), At(2026, 3, 16, 9, 45), At(2026, 4, 29, 14, 1)}) {
      if (b < a) continue;
      auto between = cal.WorkingMillisBetween(a, b);
      ASSERT_TRUE(between.ok());
      auto back = cal.AddWorkingMillis(a, *between);
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, b) << Local(a) << " " << Local(b);
    }
  }
}

TEST(CalendarHoursTest, CustomOfficeHours) {
  WorkingCalendarOptions options;
  options.office_hours = {{7 * 60 + 30, 11 * 60 + 30}, {13 * 60 + 30, 17 * 60 + 30}};
  auto cal = WorkingCalendar::Create({}, options);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  EXPECT_EQ(cal->WorkingDayMillis(), 8 * 3'600'000LL);
  // Received at 17:20 Monday with 2 working hours: 10 minutes, then 1 h 50 Tuesday morning.
  EXPECT_DUE(cal->AddWorkingHours(At(2026, 3, 9, 17, 20), 2), At(2026, 3, 10, 9, 20));
  EXPECT_DUE(cal->DueTime(At(2026, 3, 9, 17, 40), 1), At(2026, 3, 10, 17, 30));
  EXPECT_DUE(cal->CountingStart(At(2026, 3, 9, 12)), At(2026, 3, 9, 13, 30));

  for (const auto& bad :
       std::vector<std::vector<OfficeSession>>{{}, {{600, 500}}, {{480, 720}, {700, 1020}}, {{480, 1500}}}) {
    WorkingCalendarOptions o;
    o.office_hours = bad;
    EXPECT_EQ(WorkingCalendar::Create({}, o).status().field(), "office_hours");
  }
  WorkingCalendarOptions years;
  years.first_year = 2030;
  years.last_year = 2029;
  EXPECT_EQ(WorkingCalendar::Create({}, years).status().field(), "first_year");
}

TEST(CalendarHoursTest, RangeAndInputErrors) {
  WorkingCalendarOptions options;
  options.first_year = 2024;
  options.last_year = 2026;
  auto cal = WorkingCalendar::Create({}, options);
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(cal->DueTime(At(2027, 1, 4, 10), 1).status().field(), "received_at");
  EXPECT_EQ(cal->DueTime(At(2026, 12, 30, 10), 5).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_DUE(cal->DueTime(At(2026, 12, 28, 10), 2), Close(2026, 12, 30));
  EXPECT_EQ(cal->DueTime(At(2026, 3, 9, 10), -1).status().field(), "working_days");
  EXPECT_EQ(cal->DueTime(At(2026, 3, 9, 10), std::nan("")).status().field(), "working_days");
  EXPECT_TRUE(cal->IsWorkingDay(D(2030, 1, 1)));  // outside the years: Monday–Friday only
  EXPECT_FALSE(cal->Covers(D(2030, 1, 1)));
  // Entries outside the years, or two for one date, are rejected.
  EXPECT_EQ(WorkingCalendar::Create({{D(2027, 1, 2), DayKind::kOff, "x", Occasion::kNone, "", "", ""}}, options)
                .status()
                .field(),
            "entries[0].date");
  EXPECT_EQ(WorkingCalendar::Create({{D(2026, 1, 2), DayKind::kOff, "x", Occasion::kNone, "", "", ""},
                                     {D(2026, 1, 2), DayKind::kWork, "y", Occasion::kNone, "", "", ""}},
                                    options)
                .status()
                .field(),
            "entries[1].date");
  EXPECT_EQ(WorkingCalendar::Create({{D(2026, 1, 2), DayKind::kOff, "", Occasion::kNone, "", "", ""}}, options)
                .status()
                .field(),
            "entries[0].reason");
}

TEST(CalendarScheduleTest, ParseErrorsNameTheField) {
  auto ok = ParseScheduleJson(R"({"entries": [{"date": "2026-11-24", "kind": "off", "reason": " Ngày  Văn hóa "}]})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].reason, "Ngày Văn hóa");
  EXPECT_EQ((*ok)[0].occasion, Occasion::kNone);

  const struct {
    const char* json;
    const char* field;
  } kBad[] = {
      {"[]", "entries"},
      {"{}", "entries"},
      {"{\"entries\": [1]}", "entries[0]"},
      {R"({"entries": [{"kind": "off", "reason": "x"}]})", "entries[0].date"},
      {R"({"entries": [{"date": "2026-02-30", "kind": "off", "reason": "x"}]})", "entries[0].date"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "holiday", "reason": "x"}]})", "entries[0].kind"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "off"}]})", "entries[0].reason"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "off", "reason": "x", "holiday": "xmas"}]})",
       "entries[0].holiday"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "off", "reason": "x", "confidence": "sure"}]})",
       "entries[0].confidence"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "off", "reason": "x", "reson": "x"}]})", "entries[0].reson"},
      {R"({"entries": [{"date": "2026-02-03", "kind": "off", "reason": 5}]})", "entries[0].reason"},
  };
  for (const auto& b : kBad) {
    auto r = ParseScheduleJson(b.json);
    EXPECT_FALSE(r.ok()) << b.json;
    EXPECT_EQ(r.status().field(), b.field) << b.json;
  }
  EXPECT_EQ(LoadScheduleFile("/nonexistent/schedule.json").status().code(), StatusCode::kNotFound);
}

TEST(CalendarTimeTest, VietnamLocalTime) {
  // 2026-02-13 10:00 in Hà Nội is 03:00 UTC.
  EXPECT_EQ(FormatRfc3339(At(2026, 2, 13, 10)), "2026-02-13T03:00:00.000Z");
  EXPECT_EQ(VietnamDateOf(At(2026, 2, 13, 0, 30)), D(2026, 2, 13));  // still 12 February in UTC
  EXPECT_EQ(IsoWeekday(D(2026, 2, 13)), 5);
  EXPECT_EQ(IsoWeekday(D(2026, 4, 26)), 7);
  EXPECT_EQ(OccasionFromId("hung_kings"), Occasion::kHungKings);
  EXPECT_EQ(OccasionName(Occasion::kTet), "Tết Nguyên đán");
}

}  // namespace
}  // namespace tl
