// Calendar API: the Vietnamese working calendar (src/core/working_calendar.h) over HTTP, and the yearly
// official schedule (schedule.h) that city administrators edit.
//
//   GET /api/v1/calendar/due-date?from=<RFC 3339>&working_days=<n>[&cutoff=HH:MM]
//       -> {"from", "working_days", "cutoff", "counting_start", "counting_start_local", "due_at", "due_at_local"}
//       Instants in UTC as everywhere in ThangLong ("2026-02-25T10:00:00.000Z"), and *_local in Hà Nội time
//       with its offset ("2026-02-25T17:00:00+07:00"). working_days is a non-negative decimal (0.5 is four
//       working hours), at most 1000; cutoff is the same-day cut-off of WorkingCalendar::DueTime.
//   GET /api/v1/calendar/holidays?year=<y>
//       -> {"year", "days_off": [{"date", "weekday", "reason", "occasion", "official"}], "make_up_workdays": [...]}
//       days_off are WorkingCalendar::HolidaysOf (statutory days, compensation days and the official
//       schedule's days off); make_up_workdays are weekend days worked (làm bù).
//   GET /api/v1/calendar/schedules/{year}                    public
//       -> {"year", "revision", "entries": [{"date", "weekday", "kind", "reason", "occasion", "source",
//           "confidence", "note", "changed_by", "changed_at"}]}   the year's official entries, in date order
//   PUT /api/v1/calendar/schedules/{year}                    city_admin, audited
//       {"entries": [{"date", "kind": "day_off" | "make_up_workday", "reason", "occasion", "source",
//         "confidence", "note"}]} replaces the year's entries (read-only members of a GET, weekday,
//       changed_by and changed_at, are accepted and ignored) -> the year as GET shows it. "reason" may be
//       left out when an occasion (or, for a make-up day, "làm bù") gives it. Rules: ValidateYear.
//   DELETE /api/v1/calendar/schedules/{year}                 city_admin, audited -> 204
//       the year then follows the Labour Code's default rule.
//
// Every route reads the schedule's revision and rebuilds the calendar when it moved, so edits made
// through any server process sharing the database show at once in due dates and holidays.
//
// Bad input is InvalidArgument naming the query parameter (from, working_days, cutoff, year) or the body
// member ("entries[2].date"); a due date beyond the calendar's years is InvalidArgument on working_days
// (or from, when `from` itself is outside them).
//
// Thread-safety: the routes read immutable WorkingCalendar snapshots from the provider; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/working_calendar.h"
#include "http/http.h"
#include "modules/calendar/schedule.h"

namespace tl::calendar {

// Parses an RFC 3339 date-time ("2026-02-13T10:00:00+07:00", "2026-02-13T03:00:00Z", optional fraction
// of a second, 'T'/'Z' in either case) into Unix milliseconds; errors name `field`. Leap seconds (:60)
// and offsets beyond ±23:59 are refused. A space where the offset's '+' belongs is read as '+': an unencoded
// '+' in a query string arrives as a space.
Result<int64_t> ParseRfc3339(std::string_view s, std::string_view field);

// Hà Nội local time with offset: "2026-02-25T17:00:00+07:00" (milliseconds shown only when not zero).
std::string FormatVietnamTime(int64_t unix_ms);

std::vector<http::Route> Routes(CalendarProvider* provider);

}  // namespace tl::calendar
