// WorkingCalendar: working days and office hours of Vietnamese state agencies, and deadlines counted in them.
//
// Days. Agencies work Monday–Friday. The statutory holidays of the Labour Code 2019, Art. 112 are computed
// per year by a default rule: 1/1 (Tết Dương lịch); Tết Nguyên đán, 5 days: the last day of the lunar year
// and lunar 1/1–1/4; 10/3 lunar (Giỗ Tổ Hùng Vương); 30/4; 1/5; 2/9 plus one adjacent day (1/9 if it is a
// weekday, else 3/9). A statutory day falling on a Saturday or Sunday is compensated (nghỉ bù) on the next
// working day, in date order. Each year the Government publishes an official schedule that fixes the Tết
// days and swaps days (hoán đổi, làm bù); it is data: a list of ScheduleEntry. When the schedule has an
// entry tied to an occasion (say Tết 2026), the default rule for that occasion and year, compensation
// included, is dropped and the schedule's entries stand instead; entries with no occasion just mark a day.
// "work" entries make a day a working day (a make-up Saturday); "off" entries make it a day off.
//
// Hours. Office hours are sessions of local time (UTC+7, Vietnam has no daylight saving), by default
// 08:00–12:00 and 13:00–17:00; one working day is the sum of the sessions (8 hours by default), so 0.5 day
// is 4 working hours. Instants are Unix milliseconds (UTC), as everywhere in ThangLong.
//
// Deadlines (DueTime). A dossier received outside office hours or on a day off starts counting at the next
// working day's opening; received during the lunch break, at the afternoon opening. N whole working days
// end at the close of office hours of the N-th working day, counting the day the clock starts as day 1
// only if the whole day is available (the clock starts at its opening); a dossier received at 10:00 with
// 3 days is due at the close of the third working day after that day (Civil Code 2015, Art. 147: the
// first day is not counted). A fractional rest is added as working hours after that close. With a
// same-day cut-off (e.g. 15:00), a dossier received before the cut-off counts that day as day 1 and one
// received from the cut-off on starts at the next working day's opening: DueTime(t, 1, {cutoff 15:00}) is
// "same day if received before 15:00, else the next working day".
//
// The calendar covers whole Gregorian years [first_year, last_year]; computations that would leave them
// fail. Immutable after Create: to change the schedule or the hours, build a new instance and swap it in.
//
// Thread-safety: immutable; all const methods are safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/civil_date.h"
#include "core/status.h"

namespace tl {

// Vietnam's offset from UTC.
inline constexpr int kVietnamUtcOffsetMinutes = 7 * 60;

// The Unix-ms instant of a Vietnamese local date and time (UTC+7).
int64_t VietnamTimeToUnixMs(CivilDate date, int hour, int minute, int second = 0);
// The Vietnamese local date (UTC+7) of an instant.
CivilDate VietnamDateOf(int64_t unix_ms);

// Statutory holidays (ngày nghỉ lễ, tết) of the Labour Code 2019, Art. 112.
enum class Occasion {
  kNone = 0,       // not tied to a statutory holiday (an ad-hoc day off or working day)
  kNewYear,        // Tết Dương lịch, 1/1
  kTet,            // Tết Nguyên đán (lunar new year), 5 days
  kHungKings,      // Giỗ Tổ Hùng Vương, 10/3 lunar
  kReunification,  // Ngày Giải phóng miền Nam, thống nhất đất nước, 30/4
  kLabourDay,      // Ngày Quốc tế Lao động, 1/5
  kNationalDay,    // Quốc khánh, 2/9 and one adjacent day
};

// "new_year", "tet", "hung_kings", "reunification", "labour_day", "national_day"; "" for kNone.
std::string_view OccasionId(Occasion occasion);
std::optional<Occasion> OccasionFromId(std::string_view id);
// Vietnamese name, e.g. "Giỗ Tổ Hùng Vương"; "" for kNone.
std::string_view OccasionName(Occasion occasion);

enum class DayKind { kOff, kWork };

// One day of an official schedule (lịch nghỉ chính thức).
struct ScheduleEntry {
  CivilDate date;
  DayKind kind = DayKind::kOff;
  std::string reason;                   // Vietnamese, shown to users: "Tết Nguyên đán", "làm bù ..."
  Occasion occasion = Occasion::kNone;  // the statutory holiday whose default rule this replaces
  std::string source;                   // where the schedule was published
  std::string confidence;               // "high", "medium" or "low" (how sure the editor is); may be empty
  std::string note;
};

// The year of the occasion an entry belongs to: the entry's year, except that a Tết Dương lịch entry in
// December belongs to the next year's new year holiday.
int OccasionYear(const ScheduleEntry& entry);

// A day off that is not a plain weekend day, or a weekend working day (MakeUpWorkdaysOf).
struct Holiday {
  CivilDate date;
  std::string reason;  // Vietnamese: "Tết Nguyên đán", "nghỉ bù Giỗ Tổ Hùng Vương", ...
  Occasion occasion = Occasion::kNone;
  bool official = false;  // from the official schedule (true) or from the default rule (false)
};

// Office hours: sessions [start_minute, end_minute) of local time, minutes after midnight.
struct OfficeSession {
  int start_minute = 0;
  int end_minute = 0;
};

struct WorkingCalendarOptions {
  std::vector<OfficeSession> office_hours = {{8 * 60, 12 * 60}, {13 * 60, 17 * 60}};
  int first_year = 2000;
  int last_year = 2099;
};

struct DueTimeOptions {
  // Same-day cut-off in minutes after local midnight (15 * 60 for 15:00); see the header comment.
  std::optional<int> cutoff_minute;
};

class WorkingCalendar {
 public:
  // Validates the options (sessions ascending, non-overlapping, within a day; years within the lunar
  // calendar's range) and the entries (dates within the years, at most one entry per date, a reason).
  static Result<WorkingCalendar> Create(std::vector<ScheduleEntry> entries, WorkingCalendarOptions options = {});

  // Outside [first_year, last_year] only the Monday–Friday rule applies.
  bool IsWorkingDay(CivilDate date) const;
  bool Covers(CivilDate date) const;

  // The instant the clock of a dossier received at `received_at_ms` starts (see the header comment).
  Result<int64_t> CountingStart(int64_t received_at_ms, const DueTimeOptions& options = {}) const;

  // The due instant of `working_days` (>= 0; fractions are working hours) counted from `received_at_ms`.
  Result<int64_t> DueTime(int64_t received_at_ms, double working_days, const DueTimeOptions& options = {}) const;

  // The earliest instant at or after `from_ms` by which `hours` (>= 0) working hours have passed; a
  // span ending exactly at a session's end returns that end (12:00, 17:00), not the next opening.
  Result<int64_t> AddWorkingHours(int64_t from_ms, double hours) const;
  Result<int64_t> AddWorkingMillis(int64_t from_ms, int64_t millis) const;

  // Working time in [a_ms, b_ms) (b_ms >= a_ms): to pause and resume a dossier's clock.
  Result<double> WorkingHoursBetween(int64_t a_ms, int64_t b_ms) const;
  Result<int64_t> WorkingMillisBetween(int64_t a_ms, int64_t b_ms) const;

  // Days off of `year` that are not plain weekend days: statutory days (also on weekends), compensation
  // days, and every day the official schedule lists as off; in date order.
  std::vector<Holiday> HolidaysOf(int year) const;
  // Saturdays and Sundays of `year` that are working days (làm bù); in date order.
  std::vector<Holiday> MakeUpWorkdaysOf(int year) const;

  // Length of one working day in milliseconds (the sum of the office sessions).
  int64_t WorkingDayMillis() const { return day_ms_; }
  const WorkingCalendarOptions& options() const { return options_; }
  const std::vector<ScheduleEntry>& entries() const { return entries_; }

 private:
  struct Mark {
    bool working = false;
    Holiday info;
  };

  WorkingCalendar() = default;
  Status Build();

  // Index of a local day within the covered range, or nullopt.
  std::optional<int64_t> IndexOf(int64_t epoch_day) const;
  // Working milliseconds from the start of the range to the local instant `local_ms` (must be covered).
  int64_t CumulativeMillis(int64_t local_ms) const;
  // Working milliseconds of a working day up to time-of-day `tod_ms`.
  int64_t WorkedInDay(int64_t tod_ms) const;
  // The local instant by which `target` cumulative working milliseconds have passed.
  Result<int64_t> InstantAtCumulative(int64_t target) const;
  // Index of the first working day at or after `index`, or an error past the range.
  Result<int64_t> NextWorkingIndex(int64_t index) const;
  Status CheckCovered(int64_t unix_ms, std::string_view field) const;

  WorkingCalendarOptions options_;
  std::vector<ScheduleEntry> entries_;
  int64_t first_day_ = 0;               // epoch day of 1 January of first_year
  int64_t open_ms_ = 0, close_ms_ = 0;  // first session's start and last session's end, ms after midnight
  int64_t day_ms_ = 0;
  std::vector<uint8_t> working_;     // per covered day
  std::vector<int32_t> cumulative_;  // cumulative_[i]: working days among covered days [0, i)
  std::map<int64_t, Mark> marks_;    // epoch day -> notable day (holidays, compensation, make-up days)
};

// Parses an official schedule document: {"entries": [{"date": "2026-02-16", "kind": "off" | "work",
// "reason": "...", "holiday": "tet", "source": "...", "confidence": "high", "note": "..."}, ...]}.
// Other top-level keys are documentation and ignored; unknown entry keys are rejected. Errors name the
// offending field, e.g. "entries[3].date".
Result<std::vector<ScheduleEntry>> ParseScheduleJson(std::string_view json);
Result<std::vector<ScheduleEntry>> LoadScheduleFile(const std::string& path);

}  // namespace tl
