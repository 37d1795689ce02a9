// Official holiday schedules (lịch nghỉ lễ, Tết chính thức) kept in the database and edited by city
// administrators, and the WorkingCalendar (src/core/working_calendar.h) built from them.
//
// Storage. One row per scheduled day in `calendar_schedule_entries` (migration 250): date, kind
// ("day_off" | "make_up_workday"), reason shown to users, the statutory holiday it belongs to
// ("occasion": new_year, tet, ...; none for an ad-hoc day), source (legal basis), confidence, note, and
// who changed it and when. A one-row `calendar_schedule_revision` holds a counter that every change
// bumps in the same transaction, and when the schedule was first seeded. On the first start with a
// database that never had a schedule, data/calendar/official-schedules.json seeds it (source and
// confidence kept); after that the file is not read again: the database is the source of truth.
//
// Snapshots. The provider holds the current immutable WorkingCalendar as a shared_ptr. Current() reads
// the revision (one row by primary key) and rebuilds the calendar when it moved, so a change made
// through any `thanglong serve` process sharing the database is seen by the next call in every other
// one. Snapshot() never touches the database (for callers inside a transaction, such as the dossier
// service's deadlines); it is refreshed by Current(), by writes through this provider, and by the
// refresher thread (StartRefresher: a revision check every second).
//
// Editing. ReplaceYear() swaps all entries of one Gregorian year for new ones, after checking them
// (ValidateYear); DeleteYear() removes them, so that the Labour Code's default rule applies again.
// Both are audited in the same transaction. Entries unchanged by a replacement keep their
// changed_by/changed_at.
//
// Thread-safety: safe to share between threads; snapshots are immutable and swapped under a mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "core/working_calendar.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::calendar {

// "day_off" / "make_up_workday" (the API's and the table's names of DayKind).
std::string_view KindId(DayKind kind);

// An entry as stored: the schedule entry, and who changed it last and when (RFC 3339).
struct StoredScheduleEntry {
  ScheduleEntry entry;
  std::string changed_by;
  std::string changed_at;
};

struct YearSchedule {
  int year = 0;
  int64_t revision = 0;                      // the whole schedule's revision when read
  std::vector<StoredScheduleEntry> entries;  // in date order
};

// The statutory days the Labour Code 2019 (Art. 112) fixes in `year` by ThangLong's default rule, in
// date order: 1/1; the last day of the lunar year and lunar 1/1–1/4; lunar 10/3; 30/4; 1/5; 2/9 and
// one adjacent day. Mirrors WorkingCalendar's default rule.
struct StatutoryDay {
  CivilDate date;
  Occasion occasion;
  bool fixed = false;  // fixed by law (1/1, lunar 1/1–1/3, lunar 10/3, 30/4, 1/5, 2/9); the others the
                       // Prime Minister chooses each year
};
Result<std::vector<StatutoryDay>> StatutoryDaysOf(int year);

// Checks the entries an administrator gives for `year` (in request order; errors name
// "entries[i].<field>"), together with the stored entries of the other years (`other_years`):
//  - every date lies in `year`, within the calendar's years; no date twice; a reason;
//  - a make_up_workday is a Saturday or Sunday and not a statutory holiday;
//  - a day_off is not a plain weekend day nor a statutory holiday already, unless it is a statutory
//    day of the very occasion the entry names (listing an occasion replaces its default days, so its
//    statutory days are listed again, weekend ones included);
//  - when entries name an occasion, its default days are dropped for that year: each of its days
//    fixed by law that falls on a weekday must then be listed as a day off of that occasion.
// `previous` (the year's stored entries) widens the last check to occasions the edit removes.
Status ValidateYear(int year, const std::vector<ScheduleEntry>& entries, const std::vector<ScheduleEntry>& other_years,
                    const std::vector<ScheduleEntry>& previous, const WorkingCalendarOptions& options);

class CalendarProvider {
 public:
  CalendarProvider(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                   WorkingCalendarOptions options = {});
  ~CalendarProvider();
  CalendarProvider(const CalendarProvider&) = delete;
  CalendarProvider& operator=(const CalendarProvider&) = delete;

  // Migration 250: the schedule's tables.
  static std::vector<storage::Migration> Migrations();

  // Seeds the schedule with `load()`'s entries (the data file) when it has never been seeded, audited
  // as `actor`; returns how many entries were stored (0 when seeded before; `load` is then not called).
  // Safe when several processes start at once: one seeds, the others see it done.
  Result<int> SeedIfNeverSeeded(const std::function<Result<std::vector<ScheduleEntry>>()>& load,
                                const std::string& actor);

  // The calendar of the schedule in the database now (reads the revision; rebuilds when it moved).
  Result<std::shared_ptr<const WorkingCalendar>> Current();
  // The last calendar built; never null (before the first load: the default rule alone). No I/O.
  std::shared_ptr<const WorkingCalendar> Snapshot() const;
  int64_t revision() const;

  // Checks the revision every `interval` on a thread of its own until StopRefresher() or destruction;
  // errors (storage unreachable) go to `on_error` and the last snapshot stays.
  void StartRefresher(std::chrono::milliseconds interval = std::chrono::seconds(1),
                      std::function<void(const Status&)> on_error = {});
  void StopRefresher();

  const WorkingCalendarOptions& options() const { return options_; }

  // The stored entries of `year`.
  Result<YearSchedule> Year(int year) const;
  // Replaces the entries of `year` (see ValidateYear); the audit entry is `actor` with its action and
  // resource set here. Returns the year as stored.
  Result<YearSchedule> ReplaceYear(const audit::Entry& actor, int year, std::vector<ScheduleEntry> entries);
  // Removes the entries of `year`; true when there were any.
  Result<bool> DeleteYear(const audit::Entry& actor, int year);

 private:
  struct Snap {
    int64_t revision = -1;
    std::shared_ptr<const WorkingCalendar> calendar;
  };
  Status CheckYear(int year) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  WorkingCalendarOptions options_;

  mutable std::mutex mu_;  // guards snap_
  Snap snap_;
  std::mutex rebuild_mu_;  // one rebuild at a time

  PeriodicTask refresher_;
};

}  // namespace tl::calendar
