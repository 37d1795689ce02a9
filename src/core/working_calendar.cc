#include "core/working_calendar.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "core/lunar_calendar.h"
#include "core/text.h"

namespace tl {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kOffsetMs = kVietnamUtcOffsetMinutes * kMinuteMs;
// Longest deadline accepted, in working days (about 40 years): guards against absurd input.
constexpr double kMaxWorkingDays = 10'000;

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

struct OccasionInfo {
  Occasion occasion;
  std::string_view id;
  std::string_view name;
};

constexpr OccasionInfo kOccasions[] = {
    {Occasion::kNone, "", ""},
    {Occasion::kNewYear, "new_year", "Tết Dương lịch"},
    {Occasion::kTet, "tet", "Tết Nguyên đán"},
    {Occasion::kHungKings, "hung_kings", "Giỗ Tổ Hùng Vương"},
    {Occasion::kReunification, "reunification", "Ngày Giải phóng miền Nam"},
    {Occasion::kLabourDay, "labour_day", "Quốc tế Lao động"},
    {Occasion::kNationalDay, "national_day", "Quốc khánh"},
};

const OccasionInfo& InfoOf(Occasion occasion) {
  for (const auto& info : kOccasions) {
    if (info.occasion == occasion) return info;
  }
  return kOccasions[0];
}

}  // namespace

int64_t VietnamTimeToUnixMs(CivilDate date, int hour, int minute, int second) {
  return DaysSinceEpoch(date) * kDayMs + ((hour * 60LL + minute) * 60 + second) * 1000 - kOffsetMs;
}

CivilDate VietnamDateOf(int64_t unix_ms) {
  return CivilDateFromDays(FloorDiv(unix_ms + kOffsetMs, kDayMs));
}

std::string_view OccasionId(Occasion occasion) {
  return InfoOf(occasion).id;
}
std::string_view OccasionName(Occasion occasion) {
  return InfoOf(occasion).name;
}

std::optional<Occasion> OccasionFromId(std::string_view id) {
  for (const auto& info : kOccasions) {
    if (!id.empty() && info.id == id) return info.occasion;
  }
  return std::nullopt;
}

int OccasionYear(const ScheduleEntry& entry) {
  return entry.occasion == Occasion::kNewYear && entry.date.month == 12 ? entry.date.year + 1 : entry.date.year;
}

// ---------------------------------------------------------------------------------------------------------
// Construction

Result<WorkingCalendar> WorkingCalendar::Create(std::vector<ScheduleEntry> entries, WorkingCalendarOptions options) {
  WorkingCalendar cal;
  cal.options_ = std::move(options);
  cal.entries_ = std::move(entries);
  TL_RETURN_IF_ERROR(cal.Build());
  return cal;
}

Status WorkingCalendar::Build() {
  const int first_year = options_.first_year;
  const int last_year = options_.last_year;
  if (first_year <= kLunarMinYear || first_year > last_year) {
    return InvalidArgument("first_year must be after " + std::to_string(kLunarMinYear) + " and not after last_year",
                           "first_year");
  }
  if (last_year >= kLunarMaxYear) {
    return InvalidArgument("last_year must be before " + std::to_string(kLunarMaxYear), "last_year");
  }
  const auto& sessions = options_.office_hours;
  if (sessions.empty()) return InvalidArgument("office hours need at least one session", "office_hours");
  int prev_end = 0;
  day_ms_ = 0;
  for (const auto& s : sessions) {
    if (s.start_minute < prev_end || s.start_minute >= s.end_minute || s.end_minute > 24 * 60) {
      return InvalidArgument("office sessions must be ascending, non-overlapping and within the day", "office_hours");
    }
    prev_end = s.end_minute;
    day_ms_ += (s.end_minute - s.start_minute) * kMinuteMs;
  }
  open_ms_ = sessions.front().start_minute * kMinuteMs;
  close_ms_ = sessions.back().end_minute * kMinuteMs;

  first_day_ = DaysSinceEpoch({first_year, 1, 1});
  const int64_t days = DaysSinceEpoch({last_year, 12, 31}) - first_day_ + 1;
  working_.assign(static_cast<size_t>(days), 0);
  for (int64_t i = 0; i < days; ++i) working_[i] = IsWeekend(CivilDateFromDays(first_day_ + i)) ? 0 : 1;

  // Official entries: validate, and note which (occasion, year) they replace.
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const ScheduleEntry& a, const ScheduleEntry& b) { return a.date < b.date; });
  std::set<std::pair<Occasion, int>> replaced;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const ScheduleEntry& e = entries_[i];
    const std::string field = "entries[" + std::to_string(i) + "]";
    if (!IsValidCivilDate(e.date.year, e.date.month, e.date.day) || !IndexOf(DaysSinceEpoch(e.date))) {
      return InvalidArgument("schedule date " + FormatCivilDate(e.date) + " is not a date within " +
                                 std::to_string(first_year) + "–" + std::to_string(last_year),
                             field + ".date");
    }
    if (i > 0 && entries_[i - 1].date == e.date) {
      return InvalidArgument("two schedule entries for " + FormatCivilDate(e.date), field + ".date");
    }
    if (e.reason.empty()) return InvalidArgument("a schedule entry needs a reason", field + ".reason");
    if (e.occasion != Occasion::kNone) replaced.emplace(e.occasion, OccasionYear(e));
  }

  // Default rule for the statutory days not replaced by the official schedule.
  struct Statutory {
    int64_t day;
    Occasion occasion;
  };
  std::vector<Statutory> statutory;
  for (int y = first_year; y <= last_year; ++y) {
    auto add = [&](Occasion occasion, CivilDate date) {
      if (!replaced.count({occasion, y})) statutory.push_back({DaysSinceEpoch(date), occasion});
    };
    add(Occasion::kNewYear, {y, 1, 1});
    TL_ASSIGN_OR_RETURN(CivilDate tet, LunarToSolar(y, 1, 1, false));
    for (int d = -1; d <= 3; ++d) add(Occasion::kTet, AddDays(tet, d));  // last day of the lunar year, 1/1–1/4
    TL_ASSIGN_OR_RETURN(CivilDate hung_kings, LunarToSolar(y, 3, 10, false));
    add(Occasion::kHungKings, hung_kings);
    add(Occasion::kReunification, {y, 4, 30});
    add(Occasion::kLabourDay, {y, 5, 1});
    add(Occasion::kNationalDay, {y, 9, 2});
    add(Occasion::kNationalDay, IsWeekend({y, 9, 1}) ? CivilDate{y, 9, 3} : CivilDate{y, 9, 1});
  }
  std::stable_sort(statutory.begin(), statutory.end(),
                   [](const Statutory& a, const Statutory& b) { return a.day < b.day; });
  std::vector<Statutory> to_compensate;  // statutory days on a weekend, or on another statutory day
  for (const Statutory& s : statutory) {
    const CivilDate date = CivilDateFromDays(s.day);
    if (IsWeekend(date) || marks_.count(s.day)) to_compensate.push_back(s);
    if (marks_.count(s.day)) continue;
    marks_[s.day] = Mark{false, Holiday{date, std::string(OccasionName(s.occasion)), s.occasion, false}};
    working_[*IndexOf(s.day)] = 0;
  }

  // The official schedule overrides the default rule day by day.
  for (const ScheduleEntry& e : entries_) {
    const int64_t day = DaysSinceEpoch(e.date);
    const bool working = e.kind == DayKind::kWork;
    marks_[day] = Mark{working, Holiday{e.date, e.reason, e.occasion, true}};
    working_[*IndexOf(day)] = working ? 1 : 0;
  }

  // Compensation (nghỉ bù): on the next weekday that is not otherwise marked, in date order.
  for (const Statutory& s : to_compensate) {
    auto it = marks_.find(s.day);
    if (it != marks_.end() && (it->second.info.official || it->second.working)) continue;  // overridden
    int64_t day = s.day + 1;
    while (IndexOf(day) && (IsWeekend(CivilDateFromDays(day)) || marks_.count(day))) ++day;
    auto index = IndexOf(day);
    if (!index) continue;  // past the last covered year
    marks_[day] = Mark{
        false, Holiday{CivilDateFromDays(day), "nghỉ bù " + std::string(OccasionName(s.occasion)), s.occasion, false}};
    working_[*index] = 0;
  }

  cumulative_.assign(working_.size() + 1, 0);
  for (size_t i = 0; i < working_.size(); ++i) cumulative_[i + 1] = cumulative_[i] + working_[i];
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// Days

std::optional<int64_t> WorkingCalendar::IndexOf(int64_t epoch_day) const {
  const int64_t i = epoch_day - first_day_;
  if (i < 0 || i >= static_cast<int64_t>(working_.size())) return std::nullopt;
  return i;
}

bool WorkingCalendar::Covers(CivilDate date) const {
  return IndexOf(DaysSinceEpoch(date)).has_value();
}

bool WorkingCalendar::IsWorkingDay(CivilDate date) const {
  auto index = IndexOf(DaysSinceEpoch(date));
  return index ? working_[*index] != 0 : !IsWeekend(date);
}

Result<int64_t> WorkingCalendar::NextWorkingIndex(int64_t index) const {
  for (; index < static_cast<int64_t>(working_.size()); ++index) {
    if (working_[index]) return index;
  }
  return FailedPrecondition("the working calendar ends with " + std::to_string(options_.last_year));
}

std::vector<Holiday> WorkingCalendar::HolidaysOf(int year) const {
  std::vector<Holiday> out;
  for (auto it = marks_.lower_bound(DaysSinceEpoch({year, 1, 1}));
       it != marks_.end() && it->second.info.date.year == year; ++it) {
    if (!it->second.working) out.push_back(it->second.info);
  }
  return out;
}

std::vector<Holiday> WorkingCalendar::MakeUpWorkdaysOf(int year) const {
  std::vector<Holiday> out;
  for (auto it = marks_.lower_bound(DaysSinceEpoch({year, 1, 1}));
       it != marks_.end() && it->second.info.date.year == year; ++it) {
    if (it->second.working && IsWeekend(it->second.info.date)) out.push_back(it->second.info);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Hours

Status WorkingCalendar::CheckCovered(int64_t unix_ms, std::string_view field) const {
  if (IndexOf(FloorDiv(unix_ms + kOffsetMs, kDayMs))) return Status::Ok();
  return InvalidArgument("instant outside the working calendar's years " + std::to_string(options_.first_year) + "–" +
                             std::to_string(options_.last_year),
                         std::string(field));
}

int64_t WorkingCalendar::WorkedInDay(int64_t tod_ms) const {
  int64_t worked = 0;
  for (const auto& s : options_.office_hours) {
    const int64_t start = s.start_minute * kMinuteMs;
    const int64_t end = s.end_minute * kMinuteMs;
    worked += std::clamp<int64_t>(tod_ms - start, 0, end - start);
  }
  return worked;
}

int64_t WorkingCalendar::CumulativeMillis(int64_t local_ms) const {
  const int64_t day = FloorDiv(local_ms, kDayMs);
  const int64_t index = day - first_day_;
  const int64_t worked = working_[index] ? WorkedInDay(local_ms - day * kDayMs) : 0;
  return cumulative_[index] * day_ms_ + worked;
}

Result<int64_t> WorkingCalendar::InstantAtCumulative(int64_t target) const {
  const int64_t full_days = target / day_ms_;
  const int64_t rest = target % day_ms_;
  // The working day in which the target is reached: the (full_days + 1)-th, or the full_days-th when the
  // target falls exactly on a close.
  const int64_t nth = rest == 0 ? full_days : full_days + 1;
  auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), nth);
  if (nth <= 0 || it == cumulative_.end()) {
    return FailedPrecondition("the due time falls after the working calendar's last year " +
                              std::to_string(options_.last_year));
  }
  const int64_t index = (it - cumulative_.begin()) - 1;
  const int64_t midnight = (first_day_ + index) * kDayMs;
  if (rest == 0) return midnight + close_ms_;
  int64_t left = rest;
  for (const auto& s : options_.office_hours) {
    const int64_t length = (s.end_minute - s.start_minute) * kMinuteMs;
    if (left <= length) return midnight + s.start_minute * kMinuteMs + left;
    left -= length;
  }
  return Internal("working time beyond the day's sessions");  // unreachable: rest < day_ms_
}

Result<int64_t> WorkingCalendar::AddWorkingMillis(int64_t from_ms, int64_t millis) const {
  if (millis < 0) return InvalidArgument("working time to add must not be negative", "hours");
  TL_RETURN_IF_ERROR(CheckCovered(from_ms, "from"));
  if (millis == 0) return from_ms;
  TL_ASSIGN_OR_RETURN(int64_t local, InstantAtCumulative(CumulativeMillis(from_ms + kOffsetMs) + millis));
  return local - kOffsetMs;
}

Result<int64_t> WorkingCalendar::AddWorkingHours(int64_t from_ms, double hours) const {
  if (!std::isfinite(hours) || hours < 0 || hours > kMaxWorkingDays * 24) {
    return InvalidArgument("working hours must be a non-negative number", "hours");
  }
  return AddWorkingMillis(from_ms, std::llround(hours * kHourMs));
}

Result<int64_t> WorkingCalendar::WorkingMillisBetween(int64_t a_ms, int64_t b_ms) const {
  TL_RETURN_IF_ERROR(CheckCovered(a_ms, "from"));
  TL_RETURN_IF_ERROR(CheckCovered(b_ms, "to"));
  if (b_ms < a_ms) return InvalidArgument("the end is before the start", "to");
  return CumulativeMillis(b_ms + kOffsetMs) - CumulativeMillis(a_ms + kOffsetMs);
}

Result<double> WorkingCalendar::WorkingHoursBetween(int64_t a_ms, int64_t b_ms) const {
  TL_ASSIGN_OR_RETURN(int64_t millis, WorkingMillisBetween(a_ms, b_ms));
  return static_cast<double>(millis) / kHourMs;
}

Result<int64_t> WorkingCalendar::CountingStart(int64_t received_at_ms, const DueTimeOptions& options) const {
  TL_RETURN_IF_ERROR(CheckCovered(received_at_ms, "received_at"));
  if (options.cutoff_minute && (*options.cutoff_minute < 0 || *options.cutoff_minute > 24 * 60)) {
    return InvalidArgument("the cut-off must be a time of day in minutes", "cutoff_minute");
  }
  const int64_t local = received_at_ms + kOffsetMs;
  const int64_t day = FloorDiv(local, kDayMs);
  const int64_t index = day - first_day_;
  const int64_t tod = local - day * kDayMs;
  const bool past_cutoff = options.cutoff_minute && tod >= *options.cutoff_minute * kMinuteMs;
  if (working_[index] && tod < close_ms_ && !past_cutoff) {
    for (const auto& s : options_.office_hours) {
      const int64_t start = s.start_minute * kMinuteMs;
      const int64_t end = s.end_minute * kMinuteMs;
      if (tod < start) return day * kDayMs + start - kOffsetMs;  // before opening, or in a break
      if (tod < end) return received_at_ms;                      // during a session
    }
  }
  TL_ASSIGN_OR_RETURN(int64_t next, NextWorkingIndex(index + 1));
  return (first_day_ + next) * kDayMs + open_ms_ - kOffsetMs;
}

Result<int64_t> WorkingCalendar::DueTime(int64_t received_at_ms, double working_days,
                                         const DueTimeOptions& options) const {
  if (!std::isfinite(working_days) || working_days < 0 || working_days > kMaxWorkingDays) {
    return InvalidArgument("working days must be a non-negative number", "working_days");
  }
  TL_ASSIGN_OR_RETURN(int64_t start, CountingStart(received_at_ms, options));
  const int64_t total = std::llround(working_days * static_cast<double>(day_ms_));
  const int64_t whole_days = total / day_ms_;
  const int64_t rest = total % day_ms_;
  if (whole_days == 0) return AddWorkingMillis(start, rest);

  const int64_t local = start + kOffsetMs;
  const int64_t day = FloorDiv(local, kDayMs);
  const int64_t start_index = day - first_day_;
  // Day 1 is the start's day if the whole of it is available (or a cut-off says so), else the next one.
  int64_t first_index = start_index;
  if (!options.cutoff_minute && local - day * kDayMs != open_ms_) {
    TL_ASSIGN_OR_RETURN(first_index, NextWorkingIndex(start_index + 1));
  }
  auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), cumulative_[first_index] + whole_days);
  if (it == cumulative_.end()) {
    return FailedPrecondition("the due time falls after the working calendar's last year " +
                              std::to_string(options_.last_year));
  }
  const int64_t last_index = (it - cumulative_.begin()) - 1;
  const int64_t close = (first_day_ + last_index) * kDayMs + close_ms_ - kOffsetMs;
  return AddWorkingMillis(close, rest);
}

// ---------------------------------------------------------------------------------------------------------
// Schedule documents

Result<std::vector<ScheduleEntry>> ParseScheduleJson(std::string_view json) {
  auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("the schedule is not a JSON object", "entries");
  auto list = doc.find("entries");
  if (list == doc.end() || !list->is_array()) {
    return InvalidArgument("the schedule needs an 'entries' array", "entries");
  }
  static const std::set<std::string> kKeys = {"date", "kind", "reason", "holiday", "source", "confidence", "note"};
  std::vector<ScheduleEntry> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& e = (*list)[i];
    const std::string field = "entries[" + std::to_string(i) + "]";
    if (!e.is_object()) return InvalidArgument("a schedule entry must be an object", field);
    for (const auto& [key, value] : e.items()) {
      std::string key_field = field;
      key_field.append(".").append(key);
      if (!kKeys.count(key)) return InvalidArgument("unknown key", key_field);
      if (!value.is_string()) return InvalidArgument("must be a string", key_field);
    }
    auto str = [&](const char* key) { return e.contains(key) ? text::CleanText(e[key].get<std::string>()) : ""; };
    ScheduleEntry entry;
    if (!e.contains("date")) return InvalidArgument("a schedule entry needs a date", field + ".date");
    TL_ASSIGN_OR_RETURN(entry.date, ParseCivilDate(e["date"].get<std::string>(), field + ".date"));
    const std::string kind = str("kind");
    if (kind == "off") {
      entry.kind = DayKind::kOff;
    } else if (kind == "work") {
      entry.kind = DayKind::kWork;
    } else {
      return InvalidArgument("kind must be \"off\" or \"work\"", field + ".kind");
    }
    entry.reason = str("reason");
    if (entry.reason.empty()) return InvalidArgument("a schedule entry needs a reason", field + ".reason");
    if (e.contains("holiday")) {
      auto occasion = OccasionFromId(str("holiday"));
      if (!occasion) {
        return InvalidArgument(
            "holiday must be one of new_year, tet, hung_kings, reunification, labour_day, national_day",
            field + ".holiday");
      }
      entry.occasion = *occasion;
    }
    entry.source = str("source");
    entry.confidence = str("confidence");
    if (!entry.confidence.empty() && entry.confidence != "high" && entry.confidence != "medium" &&
        entry.confidence != "low") {
      return InvalidArgument("confidence must be high, medium or low", field + ".confidence");
    }
    entry.note = str("note");
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::vector<ScheduleEntry>> LoadScheduleFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read the official schedule at " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto entries = ParseScheduleJson(ss.str());
  if (!entries.ok()) {
    return Status(entries.status().code(), path + ": " + entries.status().message(), entries.status().field());
  }
  return entries;
}

}  // namespace tl
