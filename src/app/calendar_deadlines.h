// Adapts the Vietnamese WorkingCalendar (src/core) to the one-stop shop's Deadlines interface.
//
// Each call uses the calendar provider's latest snapshot (modules/calendar/schedule.h) without touching
// the database: the dossier service calls these inside its write transactions. The snapshot follows
// edits of the official schedule made through this process at once, and those made through other
// processes within the provider's refresh interval.
//
// Thread-safety: safe to share; snapshots are immutable.
#pragma once

#include "core/civil_date.h"
#include "core/working_calendar.h"
#include "modules/calendar/schedule.h"
#include "modules/dossiers/dossiers.h"

namespace tl::app {

class CalendarDeadlines final : public dossiers::Deadlines {
 public:
  explicit CalendarDeadlines(const calendar::CalendarProvider* provider) : provider_(provider) {}

  Result<int64_t> DueTime(int64_t received_ms, double working_days) const override {
    return provider_->Snapshot()->DueTime(received_ms, working_days);
  }
  int64_t WorkingMillisBetween(int64_t from_ms, int64_t to_ms) const override {
    if (to_ms <= from_ms) return 0;
    // Outside the calendar's years (2000-2099) there is no working time to count.
    auto r = provider_->Snapshot()->WorkingMillisBetween(from_ms, to_ms);
    return r.ok() ? *r : 0;
  }
  Result<int64_t> AddWorkingMillis(int64_t from_ms, int64_t working_ms) const override {
    return provider_->Snapshot()->AddWorkingMillis(from_ms, working_ms);
  }
  Result<int64_t> CloseOfDay(const std::string& date) const override {
    TL_ASSIGN_OR_RETURN(CivilDate d, ParseCivilDate(date, "new_due_date"));
    const auto& hours = provider_->options().office_hours;
    int close = hours.empty() ? 17 * 60 : hours.back().end_minute;
    return VietnamTimeToUnixMs(d, close / 60, close % 60);
  }

 private:
  const calendar::CalendarProvider* provider_;
};

}  // namespace tl::app
