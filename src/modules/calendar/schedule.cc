// The official schedule in the database and the calendar provider (see schedule.h).
#include "modules/calendar/schedule.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "core/civil_date.h"
#include "core/lunar_calendar.h"

namespace tl::calendar {
namespace {

using nlohmann::json;

constexpr char kSelectEntries[] =
    "SELECT day, kind, reason, occasion, source, confidence, note, changed_by, changed_at "
    "FROM calendar_schedule_entries";

const char* WeekdayName(CivilDate date) {
  static const char* kNames[] = {"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  return kNames[IsoWeekday(date)];
}

std::string Quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

Result<StoredScheduleEntry> FromRow(const storage::Row& r) {
  StoredScheduleEntry out;
  auto date = ParseCivilDate(r.Text(0), "day");
  if (!date.ok()) return Internal("a stored schedule entry has a bad date: " + r.Text(0));
  out.entry.date = *date;
  if (r.Text(1) == "day_off") {
    out.entry.kind = DayKind::kOff;
  } else if (r.Text(1) == "make_up_workday") {
    out.entry.kind = DayKind::kWork;
  } else {
    return Internal("a stored schedule entry has a bad kind: " + r.Text(1));
  }
  out.entry.reason = r.Text(2);
  if (!r.IsNull(3)) {
    auto occasion = OccasionFromId(r.Text(3));
    if (!occasion) return Internal("a stored schedule entry has a bad occasion: " + r.Text(3));
    out.entry.occasion = *occasion;
  }
  out.entry.source = r.Text(4);
  out.entry.confidence = r.Text(5);
  out.entry.note = r.Text(6);
  out.changed_by = r.Text(7);
  out.changed_at = r.Text(8);
  return out;
}

Result<std::vector<StoredScheduleEntry>> LoadEntries(storage::Session& s, std::optional<int> year) {
  storage::ResultSet rs;
  if (year) {
    TL_ASSIGN_OR_RETURN(rs, s.Query(std::string(kSelectEntries) + " WHERE year = ? ORDER BY day", {int64_t{*year}}));
  } else {
    TL_ASSIGN_OR_RETURN(rs, s.Query(std::string(kSelectEntries) + " ORDER BY day"));
  }
  std::vector<StoredScheduleEntry> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) {
    TL_ASSIGN_OR_RETURN(auto e, FromRow(r));
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> ReadRevision(storage::Session& s) {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT revision FROM calendar_schedule_revision WHERE id = 1"));
  if (rs.empty()) return Internal("calendar_schedule_revision has no row");
  return rs.rows[0].Int(0);
}

// Every change of the schedule bumps the revision in its transaction; on PostgreSQL the row lock also
// serialises writers of the schedule, so each validates against the others' committed entries.
Status BumpRevision(storage::Session& s) {
  return s.Exec("UPDATE calendar_schedule_revision SET revision = revision + 1 WHERE id = 1").status();
}

Status Insert(storage::Session& s, const StoredScheduleEntry& st) {
  const ScheduleEntry& e = st.entry;
  std::string_view occasion = OccasionId(e.occasion);
  return s
      .Exec(
          "INSERT INTO calendar_schedule_entries (day, year, kind, reason, occasion, source, confidence, note, "
          "changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {FormatCivilDate(e.date), int64_t{e.date.year}, std::string(KindId(e.kind)), e.reason,
           occasion.empty() ? storage::Null() : storage::Value(std::string(occasion)), e.source, e.confidence, e.note,
           st.changed_by, st.changed_at})
      .status();
}

bool SameEntry(const ScheduleEntry& a, const ScheduleEntry& b) {
  return a.date == b.date && a.kind == b.kind && a.reason == b.reason && a.occasion == b.occasion &&
         a.source == b.source && a.confidence == b.confidence && a.note == b.note;
}

std::vector<ScheduleEntry> Plain(const std::vector<StoredScheduleEntry>& stored) {
  std::vector<ScheduleEntry> out;
  out.reserve(stored.size());
  for (const auto& s : stored) out.push_back(s.entry);
  return out;
}

}  // namespace

std::string_view KindId(DayKind kind) {
  return kind == DayKind::kWork ? "make_up_workday" : "day_off";
}

Result<std::vector<StatutoryDay>> StatutoryDaysOf(int year) {
  // Keep in step with WorkingCalendar::Build's default rule (src/core/working_calendar.cc).
  std::vector<StatutoryDay> out;
  out.push_back({{year, 1, 1}, Occasion::kNewYear, true});
  TL_ASSIGN_OR_RETURN(CivilDate tet, LunarToSolar(year, 1, 1, false));
  for (int d = -1; d <= 3; ++d) out.push_back({AddDays(tet, d), Occasion::kTet, d >= 0 && d <= 2});
  TL_ASSIGN_OR_RETURN(CivilDate hung_kings, LunarToSolar(year, 3, 10, false));
  out.push_back({hung_kings, Occasion::kHungKings, true});
  out.push_back({{year, 4, 30}, Occasion::kReunification, true});
  out.push_back({{year, 5, 1}, Occasion::kLabourDay, true});
  out.push_back({{year, 9, 2}, Occasion::kNationalDay, true});
  out.push_back(
      {IsWeekend({year, 9, 1}) ? CivilDate{year, 9, 3} : CivilDate{year, 9, 1}, Occasion::kNationalDay, false});
  std::stable_sort(out.begin(), out.end(),
                   [](const StatutoryDay& a, const StatutoryDay& b) { return a.date < b.date; });
  return out;
}

Status ValidateYear(int year, const std::vector<ScheduleEntry>& entries, const std::vector<ScheduleEntry>& other_years,
                    const std::vector<ScheduleEntry>& previous, const WorkingCalendarOptions& options) {
  if (year < options.first_year || year > options.last_year) {
    return InvalidArgument(
        "must be a year " + std::to_string(options.first_year) + "–" + std::to_string(options.last_year), "year");
  }
  TL_ASSIGN_OR_RETURN(auto statutory, StatutoryDaysOf(year));
  std::map<int64_t, std::vector<Occasion>> statutory_on;
  for (const auto& s : statutory) statutory_on[DaysSinceEpoch(s.date)].push_back(s.occasion);
  auto names = [](const std::vector<Occasion>& occasions) {
    std::string out;
    for (Occasion o : occasions) out += (out.empty() ? "" : ", ") + std::string(OccasionName(o));
    return out;
  };

  std::map<int64_t, size_t> seen;
  for (size_t i = 0; i < entries.size(); ++i) {
    const ScheduleEntry& e = entries[i];
    const std::string field = "entries[" + std::to_string(i) + "]";
    const std::string date = FormatCivilDate(e.date);
    if (!IsValidCivilDate(e.date.year, e.date.month, e.date.day) || e.date.year != year) {
      return InvalidArgument(date + " is not a date in " + std::to_string(year), field + ".date");
    }
    const int64_t day = DaysSinceEpoch(e.date);
    if (auto it = seen.find(day); it != seen.end()) {
      return InvalidArgument(date + " is listed twice (also entries[" + std::to_string(it->second) + "])",
                             field + ".date");
    }
    seen[day] = i;
    if (e.reason.empty()) return InvalidArgument("is required", field + ".reason");
    const bool weekend = IsWeekend(e.date);
    auto stat = statutory_on.find(day);
    const bool is_statutory = stat != statutory_on.end();
    if (e.kind == DayKind::kWork) {
      if (!weekend) {
        return InvalidArgument(
            "a make-up working day must be a Saturday or Sunday; " + date + " is a " + WeekdayName(e.date),
            field + ".date");
      }
      if (is_statutory) {
        return InvalidArgument(
            date + " is a statutory holiday (" + names(stat->second) + ") and cannot be a make-up working day",
            field + ".date");
      }
      continue;
    }
    // A day off: not one already, unless it is a statutory day of the occasion whose days the entries
    // replace.
    const bool own_statutory = is_statutory && e.occasion != Occasion::kNone &&
                               std::find(stat->second.begin(), stat->second.end(), e.occasion) != stat->second.end();
    if (own_statutory) continue;
    if (is_statutory) {
      return InvalidArgument(date + " is already a statutory holiday (" + names(stat->second) +
                                 "); list it only within that holiday's own schedule (occasion " +
                                 Quoted(OccasionId(stat->second.front())) + ")",
                             field + ".date");
    }
    if (weekend) {
      return InvalidArgument(date + " is a " + WeekdayName(e.date) + ", already a day off", field + ".date");
    }
  }

  // Entries naming an occasion replace its default days for that year: the days the law fixes must
  // then stay days off. Checked for the occasions the new entries name and those the old ones named.
  std::vector<ScheduleEntry> combined = other_years;
  combined.insert(combined.end(), entries.begin(), entries.end());
  std::set<std::pair<Occasion, int>> affected;
  for (const auto* list : {&entries, &previous}) {
    for (const auto& e : *list) {
      if (e.occasion != Occasion::kNone) affected.emplace(e.occasion, OccasionYear(e));
    }
  }
  for (const auto& pair : affected) {
    const Occasion occasion = pair.first;
    const int occasion_year = pair.second;
    const bool named = std::any_of(combined.begin(), combined.end(), [&](const ScheduleEntry& e) {
      return e.occasion == occasion && OccasionYear(e) == occasion_year;
    });
    if (!named || occasion_year < options.first_year || occasion_year > options.last_year) continue;
    TL_ASSIGN_OR_RETURN(auto days, StatutoryDaysOf(occasion_year));
    for (const auto& s : days) {
      if (s.occasion != occasion || !s.fixed || IsWeekend(s.date)) continue;
      const bool listed = std::any_of(combined.begin(), combined.end(), [&](const ScheduleEntry& e) {
        return e.date == s.date && e.kind == DayKind::kOff && e.occasion == occasion;
      });
      if (listed) continue;
      std::string field = "entries";
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].occasion == occasion && OccasionYear(entries[i]) == occasion_year) {
          field = "entries[" + std::to_string(i) + "].occasion";
          break;
        }
      }
      return InvalidArgument(std::string(OccasionName(occasion)) + " " + std::to_string(occasion_year) +
                                 ": a schedule for this holiday replaces its default days, so " +
                                 FormatCivilDate(s.date) + " (" + WeekdayName(s.date) +
                                 "), a statutory holiday, must be listed as a day_off with occasion " +
                                 Quoted(OccasionId(occasion)),
                             field);
    }
  }

  auto built = WorkingCalendar::Create(std::move(combined), options);
  if (!built.ok()) return InvalidArgument(built.status().message(), "entries");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// The provider

CalendarProvider::CalendarProvider(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                                   WorkingCalendarOptions options)
    : db_(db), clock_(clock), audit_(audit), options_(std::move(options)) {
  auto defaults = WorkingCalendar::Create({}, options_);
  if (defaults.ok()) snap_.calendar = std::make_shared<const WorkingCalendar>(std::move(*defaults));
}

CalendarProvider::~CalendarProvider() {
  StopRefresher();
}

std::vector<storage::Migration> CalendarProvider::Migrations() {
  return {{250, "official holiday schedules",
           "CREATE TABLE calendar_schedule_entries (id {{ID}}, day TEXT NOT NULL UNIQUE, year INTEGER NOT NULL, "
           "kind TEXT NOT NULL CHECK (kind IN ('day_off', 'make_up_workday')), reason TEXT NOT NULL, occasion TEXT, "
           "source TEXT NOT NULL, confidence TEXT NOT NULL, note TEXT NOT NULL, changed_by TEXT NOT NULL, "
           "changed_at TEXT NOT NULL);"
           "CREATE INDEX calendar_schedule_entries_year ON calendar_schedule_entries (year, day);"
           "CREATE TABLE calendar_schedule_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL, seeded_at TEXT);"
           "INSERT INTO calendar_schedule_revision (id, revision) VALUES (1, 0);"}};
}

Result<int> CalendarProvider::SeedIfNeverSeeded(const std::function<Result<std::vector<ScheduleEntry>>()>& load,
                                                const std::string& actor) {
  bool seeded = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT seeded_at FROM calendar_schedule_revision WHERE id = 1"));
    if (rs.empty()) return Internal("calendar_schedule_revision has no row");
    seeded = !rs.rows[0].IsNull(0);
    return Status::Ok();
  }));
  if (seeded) return 0;
  TL_ASSIGN_OR_RETURN(auto entries, load());
  {
    auto check = WorkingCalendar::Create(entries, options_);
    if (!check.ok()) return check.status();
  }
  const std::string now = FormatRfc3339(clock_->NowMillis());
  int stored = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(int64_t won, s.Exec("UPDATE calendar_schedule_revision SET revision = revision + 1, "
                                            "seeded_at = ? WHERE id = 1 AND seeded_at IS NULL",
                                            {now}));
    if (won == 0) return Status::Ok();  // another process seeded it meanwhile
    for (const auto& e : entries) TL_RETURN_IF_ERROR(Insert(s, {e, actor, now}));
    stored = static_cast<int>(entries.size());
    audit::Entry a{actor, "calendar.schedule.seed", "calendar-schedule", "local", "", json{{"entries", stored}}.dump()};
    return audit_->Append(s, a);
  }));
  return stored;
}

std::shared_ptr<const WorkingCalendar> CalendarProvider::Snapshot() const {
  std::lock_guard lock(mu_);
  return snap_.calendar;
}

int64_t CalendarProvider::revision() const {
  std::lock_guard lock(mu_);
  return snap_.revision;
}

Result<std::shared_ptr<const WorkingCalendar>> CalendarProvider::Current() {
  int64_t revision = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(revision, ReadRevision(s));
    return Status::Ok();
  }));
  {
    std::lock_guard lock(mu_);
    if (snap_.revision == revision) return snap_.calendar;
  }
  std::lock_guard rebuilding(rebuild_mu_);
  {
    std::lock_guard lock(mu_);  // rebuilt by another thread while this one waited
    if (snap_.revision == revision) return snap_.calendar;
  }
  int64_t loaded = 0;
  std::vector<StoredScheduleEntry> stored;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    // The revision first: on PostgreSQL each statement sees the latest commit, so the entries read next
    // are at least that new (a newer revision is then simply rebuilt again on the next call).
    TL_ASSIGN_OR_RETURN(loaded, ReadRevision(s));
    TL_ASSIGN_OR_RETURN(stored, LoadEntries(s, std::nullopt));
    return Status::Ok();
  }));
  auto built = WorkingCalendar::Create(Plain(stored), options_);
  if (!built.ok()) return Internal("the stored official schedule is not valid: " + built.status().message());
  auto calendar = std::make_shared<const WorkingCalendar>(std::move(*built));
  std::lock_guard lock(mu_);
  // Rebuilds are serialised, so this one read the latest revision of any of them.
  snap_ = {loaded, calendar};
  return calendar;
}

void CalendarProvider::StartRefresher(std::chrono::milliseconds interval, std::function<void(const Status&)> on_error) {
  refresher_.Start(
      interval,
      [this, on_error = std::move(on_error)] {
        auto current = Current();
        if (!current.ok() && on_error) on_error(current.status());
      },
      /*background=*/false, "tl-calendar");
}

void CalendarProvider::StopRefresher() { refresher_.Stop(); }

Status CalendarProvider::CheckYear(int year) const {
  if (year < options_.first_year || year > options_.last_year) {
    return InvalidArgument(
        "must be a year " + std::to_string(options_.first_year) + "–" + std::to_string(options_.last_year), "year");
  }
  return Status::Ok();
}

Result<YearSchedule> CalendarProvider::Year(int year) const {
  TL_RETURN_IF_ERROR(CheckYear(year));
  YearSchedule out;
  out.year = year;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(out.revision, ReadRevision(s));
    TL_ASSIGN_OR_RETURN(out.entries, LoadEntries(s, year));
    return Status::Ok();
  }));
  return out;
}

Result<YearSchedule> CalendarProvider::ReplaceYear(const audit::Entry& actor, int year,
                                                   std::vector<ScheduleEntry> entries) {
  TL_RETURN_IF_ERROR(CheckYear(year));
  const std::string now = FormatRfc3339(clock_->NowMillis());
  YearSchedule out;
  out.year = year;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    // A replacement identical to what is stored changes nothing (and needs no lock, revision or audit).
    {
      TL_ASSIGN_OR_RETURN(auto stored, LoadEntries(s, year));
      std::vector<ScheduleEntry> sorted = entries;
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const ScheduleEntry& a, const ScheduleEntry& b) { return a.date < b.date; });
      if (stored.size() == sorted.size() &&
          std::equal(stored.begin(), stored.end(), sorted.begin(),
                     [](const StoredScheduleEntry& a, const ScheduleEntry& b) { return SameEntry(a.entry, b); })) {
        TL_ASSIGN_OR_RETURN(out.revision, ReadRevision(s));
        out.entries = std::move(stored);
        return Status::Ok();
      }
    }
    TL_RETURN_IF_ERROR(BumpRevision(s));
    TL_ASSIGN_OR_RETURN(auto all, LoadEntries(s, std::nullopt));
    std::vector<StoredScheduleEntry> previous;
    std::vector<ScheduleEntry> others;
    for (auto& e : all) {
      if (e.entry.date.year == year) {
        previous.push_back(std::move(e));
      } else {
        others.push_back(e.entry);
      }
    }
    TL_RETURN_IF_ERROR(ValidateYear(year, entries, others, Plain(previous), options_));

    std::vector<StoredScheduleEntry> next;
    json added = json::array(), changed = json::array(), removed = json::array();
    for (const auto& e : entries) {
      auto old = std::find_if(previous.begin(), previous.end(),
                              [&](const StoredScheduleEntry& p) { return p.entry.date == e.date; });
      if (old != previous.end() && SameEntry(old->entry, e)) {
        next.push_back(*old);
        continue;
      }
      (old == previous.end() ? added : changed).push_back(FormatCivilDate(e.date));
      next.push_back({e, actor.actor, now});
    }
    for (const auto& p : previous) {
      bool kept =
          std::any_of(entries.begin(), entries.end(), [&](const ScheduleEntry& e) { return e.date == p.entry.date; });
      if (!kept) removed.push_back(FormatCivilDate(p.entry.date));
    }
    std::stable_sort(next.begin(), next.end(), [](const StoredScheduleEntry& a, const StoredScheduleEntry& b) {
      return a.entry.date < b.entry.date;
    });
    TL_RETURN_IF_ERROR(s.Exec("DELETE FROM calendar_schedule_entries WHERE year = ?", {int64_t{year}}).status());
    for (const auto& e : next) TL_RETURN_IF_ERROR(Insert(s, e));
    TL_ASSIGN_OR_RETURN(out.revision, ReadRevision(s));
    out.entries = std::move(next);
    audit::Entry a = actor;
    a.action = "calendar.schedule.replace";
    a.resource = "calendar-schedule:" + std::to_string(year);
    a.detail = json{{"year", year},   {"revision", out.revision}, {"entries", out.entries.size()},
                    {"added", added}, {"changed", changed},       {"removed", removed}}
                   .dump();
    return audit_->Append(s, a);
  }));
  // Serve the new schedule at once in this process (the others see the revision move).
  (void)Current();
  return out;
}

Result<bool> CalendarProvider::DeleteYear(const audit::Entry& actor, int year) {
  TL_RETURN_IF_ERROR(CheckYear(year));
  bool deleted = false;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto stored, LoadEntries(s, year));
    if (stored.empty()) return Status::Ok();
    TL_RETURN_IF_ERROR(BumpRevision(s));
    TL_ASSIGN_OR_RETURN(auto all, LoadEntries(s, std::nullopt));
    std::vector<ScheduleEntry> previous, others;
    for (const auto& e : all) (e.entry.date.year == year ? previous : others).push_back(e.entry);
    TL_RETURN_IF_ERROR(ValidateYear(year, {}, others, previous, options_));
    TL_ASSIGN_OR_RETURN(int64_t n, s.Exec("DELETE FROM calendar_schedule_entries WHERE year = ?", {int64_t{year}}));
    TL_ASSIGN_OR_RETURN(int64_t revision, ReadRevision(s));
    deleted = n > 0;
    audit::Entry a = actor;
    a.action = "calendar.schedule.delete";
    a.resource = "calendar-schedule:" + std::to_string(year);
    a.detail = json{{"year", year}, {"revision", revision}, {"removed", n}}.dump();
    return audit_->Append(s, a);
  }));
  if (deleted) (void)Current();
  return deleted;
}

}  // namespace tl::calendar
