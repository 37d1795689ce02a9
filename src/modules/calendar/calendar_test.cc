// The calendar module: the official schedule's rules (ValidateYear), the provider over the database on
// both backends (seeding from data/calendar/official-schedules.json, edits, a second process, restarts),
// and the calendar API through the real request pipeline (Dispatcher: query decoding, access, problems).
#include "modules/calendar/calendar.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/dispatcher.h"
#include "http/metrics.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::calendar {
namespace {

using nlohmann::json;
using testing::BackendNames;
using testing::ScratchStore;

constexpr char kStart[] = "2026-11-18T07:06:40Z";

std::string SchedulePath() {
  return std::string(THANGLONG_TEST_DATA_ROOT) + "/calendar/official-schedules.json";
}

ScheduleEntry Off(const std::string& date, Occasion occasion = Occasion::kNone, std::string reason = "nghỉ") {
  ScheduleEntry e;
  e.date = *ParseCivilDate(date, "date");
  e.kind = DayKind::kOff;
  e.occasion = occasion;
  e.reason = std::move(reason);
  return e;
}
ScheduleEntry Work(const std::string& date, Occasion occasion = Occasion::kNone) {
  ScheduleEntry e = Off(date, occasion, "làm bù");
  e.kind = DayKind::kWork;
  return e;
}

// The file's entries of one year, and of the others.
std::vector<ScheduleEntry> FileEntries(int year, bool of_year) {
  auto all = LoadScheduleFile(SchedulePath());
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  std::vector<ScheduleEntry> out;
  for (auto& e : *all) {
    if ((e.date.year == year) == of_year) out.push_back(e);
  }
  return out;
}

Status Validate(int year, const std::vector<ScheduleEntry>& entries, const std::vector<ScheduleEntry>& others = {},
                const std::vector<ScheduleEntry>& previous = {}) {
  return ValidateYear(year, entries, others, previous, WorkingCalendarOptions{});
}

// ---------------------------------------------------------------------------------------------------------
// The rules an administrator's schedule must follow

TEST(ValidateYearTest, TheSeededSchedulesPass) {
  // What GET shows can be PUT back unchanged.
  for (int year : {2024, 2025, 2026}) {
    Status st = Validate(year, FileEntries(year, true), FileEntries(year, false));
    EXPECT_TRUE(st.ok()) << year << ": " << st.ToString();
  }
}

TEST(ValidateYearTest, StatutoryDaysOf2026) {
  auto days = StatutoryDaysOf(2026);
  ASSERT_TRUE(days.ok());
  std::vector<std::string> tet;
  for (const auto& d : *days) {
    if (d.occasion == Occasion::kTet) tet.push_back(FormatCivilDate(d.date) + (d.fixed ? "*" : ""));
  }
  // Lunar new year Bính Ngọ: 17 February 2026; the last day of Ất Tỵ is the 16th.
  EXPECT_EQ(tet, (std::vector<std::string>{"2026-02-16", "2026-02-17*", "2026-02-18*", "2026-02-19*", "2026-02-20"}));
}

TEST(ValidateYearTest, ErrorsNameTheEntryAndItsField) {
  auto field = [](const Status& st) { return st.ok() ? std::string("ok") : st.field(); };
  // A date of another year.
  EXPECT_EQ(field(Validate(2026, {Off("2026-01-02"), Off("2027-01-04")})), "entries[1].date");
  // A date twice.
  EXPECT_EQ(field(Validate(2026, {Off("2026-01-02"), Off("2026-03-03"), Off("2026-01-02")})), "entries[2].date");
  // A make-up working day on a weekday; on a statutory holiday falling on a Saturday (1 February 2025, lunar 1/4).
  EXPECT_EQ(field(Validate(2026, {Work("2026-01-09")})), "entries[0].date");
  EXPECT_EQ(field(Validate(2025, {Work("2025-02-01", Occasion::kTet)})), "entries[0].date");
  // A day off on a plain Saturday (Tết 2026 for civil servants runs 14–22 February, but the 14th is a
  // weekend day anyway), and on a statutory holiday not tied to its holiday.
  EXPECT_EQ(field(Validate(2026, {Off("2026-02-14", Occasion::kTet)})), "entries[0].date");
  EXPECT_EQ(field(Validate(2026, {Off("2026-01-02"), Off("2026-04-30")})), "entries[1].date");
  EXPECT_EQ(field(Validate(2026, {Off("2026-04-30", Occasion::kLabourDay)})), "entries[0].date");
  // A reason is needed.
  EXPECT_EQ(field(Validate(2026, {Off("2026-01-02", Occasion::kNone, "")})), "entries[0].reason");
  // Outside the calendar's years.
  EXPECT_EQ(field(Validate(2100, {})), "year");

  // Fine: a bridge day and its make-up Saturday, and a statutory day listed within its own holiday.
  EXPECT_TRUE(Validate(2026, {Off("2026-01-02", Occasion::kNone, "nghỉ hoán đổi"), Work("2026-01-10")}).ok());
  EXPECT_TRUE(Validate(2026, {Off("2026-04-30", Occasion::kReunification)}).ok());
  // A Tết day falling on a weekend may be listed with Tết (2024: 10 February, lunar 1/1, a Saturday).
  EXPECT_TRUE(Validate(2024, FileEntries(2024, true)).ok());
}

TEST(ValidateYearTest, AHolidaysScheduleMustKeepItsStatutoryDays) {
  // A make-up Saturday tied to Reunification day replaces that holiday's default days: 30/4 must be listed.
  Status st = Validate(2026, {Work("2026-05-09", Occasion::kReunification)});
  EXPECT_EQ(st.field(), "entries[0].occasion") << st.ToString();
  EXPECT_NE(st.message().find("2026-04-30"), std::string::npos) << st.message();
  EXPECT_TRUE(Validate(2026, {Off("2026-04-30", Occasion::kReunification), Off("2026-05-04", Occasion::kReunification),
                              Work("2026-05-09", Occasion::kReunification)})
                  .ok());
  // Tết: lunar 1/1–1/3 must stay; dropping the 18th is refused.
  std::vector<ScheduleEntry> tet = FileEntries(2026, true);
  tet.erase(tet.begin() + 2);  // 2026-02-18
  EXPECT_EQ(Validate(2026, tet).field(), "entries[0].occasion");
  // New year's day of 2026 listed in December 2025 ties 1/1/2026 to the schedule of the other year.
  EXPECT_EQ(Validate(2025, {Off("2025-12-31", Occasion::kNewYear)}).field(), "entries[0].occasion");
  EXPECT_TRUE(Validate(2025, {Off("2025-12-31", Occasion::kNewYear)}, {Off("2026-01-01", Occasion::kNewYear)}).ok());
  // ... and removing 2026's entries would then break it.
  EXPECT_EQ(
      Validate(2026, {}, {Off("2025-12-31", Occasion::kNewYear)}, {Off("2026-01-01", Occasion::kNewYear)}).field(),
      "entries");
}

// ---------------------------------------------------------------------------------------------------------
// The provider and the API over a real store, on both backends

// Bearer "admin" is a city administrator, "citizen" a citizen, "agencyadmin" an agency administrator.
class FakeAuthenticator final : public http::Authenticator {
 public:
  Result<http::Principal> Authenticate(std::string_view token) override {
    http::Principal p;
    p.username = std::string(token);
    if (token == "admin") {
      p.role = "city_admin";
    } else if (token == "citizen") {
      p.role = "citizen";
    } else if (token == "agencyadmin") {
      p.role = "agency_admin";
      p.agency = "UBND00004";
    } else {
      return Unauthenticated("unknown token");
    }
    return p;
  }
};

// One server process: its connection pool, audit log, provider and dispatcher over a shared store.
struct Process {
  explicit Process(const ScratchStore& store, ManualClock* clock) {
    db = store.Open(4);
    if (!db) return;
    auto m = audit::AuditLog::Migrations();
    auto c = CalendarProvider::Migrations();
    m.insert(m.end(), c.begin(), c.end());
    auto applied = storage::ApplyMigrations(*db, m);
    EXPECT_TRUE(applied.ok()) << applied.status().ToString();
    audit = std::make_unique<audit::AuditLog>(db.get(), clock);
    provider = std::make_unique<CalendarProvider>(db.get(), clock, audit.get());
    auto seeded = provider->SeedIfNeverSeeded([] { return LoadScheduleFile(SchedulePath()); }, "system:seed");
    EXPECT_TRUE(seeded.ok()) << seeded.status().ToString();
    seeded_now = seeded.ok() ? *seeded : -1;
    EXPECT_TRUE(provider->Current().ok());
    dispatcher = std::make_unique<http::Dispatcher>(http::DispatcherOptions{1 << 20, 1 << 20, false}, &metrics);
    dispatcher->SetAuthenticator(&auth);
    EXPECT_TRUE(dispatcher->AddRoutes(Routes(provider.get())).ok());
  }

  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& token = "") {
    http::RawRequest raw;
    raw.method = method;
    raw.target = target;
    raw.client_ip = "127.0.0.1";
    raw.body = body;
    if (!body.empty()) raw.headers.emplace_back("content-type", "application/json");
    if (!token.empty()) raw.headers.emplace_back("authorization", "Bearer " + token);
    return dispatcher->Handle(std::move(raw));
  }
  json GetJson(const std::string& target, int expect = 200) {
    http::Response r = Call("GET", target);
    EXPECT_EQ(r.status, expect) << target << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  // The `field` of the 400 problem for `target`.
  std::string BadField(const std::string& target) { return GetJson(target, 400).value("field", ""); }
  std::string DueLocal(const std::string& from, const std::string& days) {
    return GetJson("/api/v1/calendar/due-date?from=" + from + "&working_days=" + days).value("due_at_local", "");
  }
  // Dates of the year's days off / make-up days (from /holidays).
  std::vector<std::string> Days(int year, const char* list) {
    std::vector<std::string> out;
    const json holidays = GetJson("/api/v1/calendar/holidays?year=" + std::to_string(year));
    for (const auto& d : holidays[list]) out.push_back(d["date"]);
    return out;
  }

  std::unique_ptr<storage::Database> db;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<CalendarProvider> provider;
  FakeAuthenticator auth;
  http::Metrics metrics;
  std::unique_ptr<http::Dispatcher> dispatcher;
  int seeded_now = -1;
};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class CalendarTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<ScratchStore>(GetParam());
    p_ = std::make_unique<Process>(*store_, &clock_);
    ASSERT_TRUE(p_->provider);
    seeded2026_ = p_->GetJson("/api/v1/calendar/schedules/2026")["entries"];
  }
  // The 2026 schedule as seeded, plus an example swap: Friday 2 January off (bridging New Year's day),
  // worked back on Saturday 10 January.
  json Edited2026() {
    json entries = seeded2026_;
    entries.push_back({{"date", "2026-01-01"}, {"kind", "day_off"}, {"occasion", "new_year"}});
    entries.push_back({{"date", "2026-01-02"},
                       {"kind", "day_off"},
                       {"occasion", "new_year"},
                       {"reason", "nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)"},
                       {"source", "Ví dụ kiểm thử"}});
    entries.push_back({{"date", "2026-01-10"}, {"kind", "make_up_workday"}, {"occasion", "new_year"}});
    return {{"entries", entries}};
  }

  http::Response Get(const std::string& target) { return p_->Call("GET", target); }
  json GetJson(const std::string& target, int expect = 200) { return p_->GetJson(target, expect); }
  std::string BadField(const std::string& target) { return p_->BadField(target); }

  ManualClock clock_{*ParseRfc3339(kStart, "now")};
  std::unique_ptr<ScratchStore> store_;
  std::unique_ptr<Process> p_;
  json seeded2026_;  // the 2026 entries as seeded from the data file
};

TEST(Rfc3339Test, ParsesOffsetsAndFractions) {
  EXPECT_EQ(*ParseRfc3339("2026-02-13T03:00:00Z", "from"), 1770951600000);
  EXPECT_EQ(*ParseRfc3339("2026-02-13T10:00:00+07:00", "from"), 1770951600000);
  EXPECT_EQ(*ParseRfc3339("2026-02-12T22:30:00-04:30", "from"), 1770951600000);
  EXPECT_EQ(*ParseRfc3339("2026-02-13t03:00:00.25z", "from"), 1770951600250);
  EXPECT_EQ(*ParseRfc3339("2026-02-13T03:00:00.123456789Z", "from"), 1770951600123);
  EXPECT_EQ(*ParseRfc3339("2026-02-13T10:00:00 07:00", "from"), 1770951600000);  // '+' decoded as a space
  for (const char* bad :
       {"", "2026-02-13", "2026-02-13T03:00:00", "2026-02-13T03:00Z", "2026-02-29T03:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-13T24:00:00Z", "2026-02-13T03:00:60Z", "2026-02-13T03:00:00+0700", "2026-02-13T03:00:00+24:00",
        "2026-02-13T03:00:00.Z", "2026-02-13T03:00:00ZZ", "+2026-02-13T03:00:00Z", "２026-02-13T03:00:00Z"}) {
    auto r = ParseRfc3339(bad, "from");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), "from");
  }
}

TEST(Rfc3339Test, FormatsHanoiTime) {
  EXPECT_EQ(FormatVietnamTime(1772013600000), "2026-02-25T17:00:00+07:00");
  EXPECT_EQ(FormatVietnamTime(1772013600042), "2026-02-25T17:00:00.042+07:00");
  EXPECT_EQ(FormatVietnamTime(1772038800000), "2026-02-26T00:00:00+07:00");
}

TEST_P(CalendarTest, DueDateAcrossTet2026) {
  // Received Friday 13 February 2026, 10:00 in Hà Nội; Tết keeps offices closed 14–22 February. The first
  // day is not counted: days 1–3 are 23, 24 and 25 February, due at the close of the 25th.
  json j = GetJson("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=3");
  EXPECT_EQ(j["from"], "2026-02-13T03:00:00.000Z");
  EXPECT_EQ(j["working_days"], 3);
  EXPECT_EQ(j["cutoff"], nullptr);
  EXPECT_EQ(j["counting_start"], "2026-02-13T03:00:00.000Z");  // received in office hours: the clock starts at once
  EXPECT_EQ(j["counting_start_local"], "2026-02-13T10:00:00+07:00");
  EXPECT_EQ(j["due_at"], "2026-02-25T10:00:00.000Z");
  EXPECT_EQ(j["due_at_local"], "2026-02-25T17:00:00+07:00");

  // The same instant written in Hà Nội time (percent-encoded '+').
  json local = GetJson("/api/v1/calendar/due-date?from=2026-02-13T10:00:00%2B07:00&working_days=3");
  EXPECT_EQ(local["due_at"], "2026-02-25T10:00:00.000Z");
}

TEST_P(CalendarTest, FractionsAndSameDayCutoff) {
  // Half a day is four working hours: Monday 9 March 2026, 09:00-12:00 and 13:00-14:00.
  json half = GetJson("/api/v1/calendar/due-date?from=2026-03-09T09:00:00%2B07:00&working_days=0.5");
  EXPECT_EQ(half["working_days"], 0.5);
  EXPECT_EQ(half["due_at_local"], "2026-03-09T14:00:00+07:00");
  // Received on a Saturday: the clock starts at Monday's opening.
  json weekend = GetJson("/api/v1/calendar/due-date?from=2026-03-07T09:00:00%2B07:00&working_days=1");
  EXPECT_EQ(weekend["counting_start_local"], "2026-03-09T08:00:00+07:00");
  EXPECT_EQ(weekend["due_at_local"], "2026-03-09T17:00:00+07:00");
  // With a 15:00 cut-off, a one-day procedure received at 14:00 is due the same day, at 15:30 the next.
  json before = GetJson("/api/v1/calendar/due-date?from=2026-03-09T14:00:00%2B07:00&working_days=1&cutoff=15:00");
  EXPECT_EQ(before["due_at_local"], "2026-03-09T17:00:00+07:00");
  EXPECT_EQ(before["cutoff"], "15:00");
  json after = GetJson("/api/v1/calendar/due-date?from=2026-03-09T15:30:00%2B07:00&working_days=1&cutoff=15:00");
  EXPECT_EQ(after["due_at_local"], "2026-03-10T17:00:00+07:00");
}

TEST_P(CalendarTest, HolidaysOf2026) {
  json j = GetJson("/api/v1/calendar/holidays?year=2026");
  EXPECT_EQ(j["year"], 2026);
  ASSERT_TRUE(j["days_off"].is_array());
  ASSERT_TRUE(j["make_up_workdays"].is_array());
  bool tet = false, national = false;
  for (const auto& d : j["days_off"]) {
    if (d["date"] == "2026-02-17") {
      tet = true;
      EXPECT_NE(d["reason"].get<std::string>().find("Tết Nguyên đán"), std::string::npos) << d.dump();
      EXPECT_EQ(d["weekday"], 2);
      EXPECT_TRUE(d["official"].is_boolean());
    }
    if (d["date"] == "2026-09-02") national = true;
    EXPECT_TRUE(d.contains("reason"));
    EXPECT_TRUE(d.contains("official"));
  }
  EXPECT_TRUE(tet) << j.dump();
  EXPECT_TRUE(national) << j.dump();
  // Days come in date order.
  for (size_t i = 1; i < j["days_off"].size(); ++i) {
    EXPECT_LT(j["days_off"][i - 1]["date"].get<std::string>(), j["days_off"][i]["date"].get<std::string>());
  }
  for (const auto& d : j["make_up_workdays"]) EXPECT_GE(d["weekday"].get<int>(), 6) << d.dump();
}

TEST_P(CalendarTest, BadParametersAreNamed) {
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?working_days=3"), "from");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=tomorrow&working_days=3"), "from");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=2026-02-13T03:00:00&working_days=3"), "from");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=1999-12-31T03:00:00Z&working_days=3"), "from");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z"), "working_days");
  for (const char* days : {"-1", "abc", "1e2", "0x10", "nan", "inf", "1.", ".5", "1001", "3.1415"}) {
    EXPECT_EQ(BadField(std::string("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=") + days),
              "working_days")
        << days;
  }
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=2099-12-30T03:00:00Z&working_days=30"), "working_days");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=3&cutoff=25:00"), "cutoff");
  EXPECT_EQ(BadField("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=3&cutoff=3pm"), "cutoff");
  EXPECT_EQ(BadField("/api/v1/calendar/holidays"), "year");
  for (const char* year : {"abc", "26", "1999", "2100", "20261", "-2026"}) {
    EXPECT_EQ(BadField(std::string("/api/v1/calendar/holidays?year=") + year), "year") << year;
  }
  http::Response r = Get("/api/v1/calendar/holidays?year=x");
  EXPECT_EQ(r.content_type, "application/problem+json");
}

TEST_P(CalendarTest, TheDataFileSeedsTheScheduleOnce) {
  auto file = LoadScheduleFile(SchedulePath());
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(p_->seeded_now, static_cast<int>(file->size()));
  bool loaded = false;
  auto again = p_->provider->SeedIfNeverSeeded(
      [&] {
        loaded = true;
        return LoadScheduleFile(SchedulePath());
      },
      "system:seed");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_FALSE(loaded);

  json y = p_->GetJson("/api/v1/calendar/schedules/2026");
  EXPECT_EQ(y["year"], 2026);
  ASSERT_EQ(y["entries"].size(), 5u);
  const json& first = y["entries"][0];
  EXPECT_EQ(first["date"], "2026-02-16");
  EXPECT_EQ(first["weekday"], 1);
  EXPECT_EQ(first["kind"], "day_off");
  EXPECT_EQ(first["occasion"], "tet");
  EXPECT_EQ(first["reason"], "Tết Nguyên đán");
  EXPECT_EQ(first["confidence"], "high");  // the file's source and confidence are kept
  EXPECT_EQ(first["source"], (*file)[28].source);
  EXPECT_EQ(first["changed_by"], "system:seed");
  EXPECT_EQ(first["changed_at"], "2026-11-18T07:06:40.000Z");
  // 2024 has a make-up Saturday.
  json y2024 = p_->GetJson("/api/v1/calendar/schedules/2024");
  bool make_up = false;
  for (const auto& e : y2024["entries"])
    make_up = make_up || (e["date"] == "2024-05-04" && e["kind"] == "make_up_workday");
  EXPECT_TRUE(make_up) << y2024.dump();
  EXPECT_EQ(p_->GetJson("/api/v1/calendar/schedules/2027")["entries"].size(), 0u);
}

TEST_P(CalendarTest, AnEditChangesHolidaysAndDueDatesAtOnce) {
  // Received Wednesday 31 December 2025 at 10:00 with one working day: New Year's day is off, so the day
  // counted is Friday 2 January. Received Friday 9 January: Monday 12 January.
  EXPECT_EQ(p_->DueLocal("2025-12-31T10:00:00%2B07:00", "1"), "2026-01-02T17:00:00+07:00");
  EXPECT_EQ(p_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");
  EXPECT_FALSE(Contains(p_->Days(2026, "days_off"), "2026-01-02"));
  const int64_t before = p_->GetJson("/api/v1/calendar/schedules/2026")["revision"];

  auto put = p_->Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), "admin");
  ASSERT_EQ(put.status, 200) << put.body;
  json y = json::parse(put.body);
  EXPECT_GT(y["revision"].get<int64_t>(), before);
  ASSERT_EQ(y["entries"].size(), 8u);
  EXPECT_EQ(y["entries"][0]["date"], "2026-01-01");        // in date order
  EXPECT_EQ(y["entries"][0]["reason"], "Tết Dương lịch");  // from the occasion
  EXPECT_EQ(y["entries"][2]["reason"], "làm bù Tết Dương lịch");
  EXPECT_EQ(y["entries"][1]["source"], "Ví dụ kiểm thử");
  EXPECT_EQ(y["entries"][1]["changed_by"], "admin");
  EXPECT_EQ(y["entries"][3]["changed_by"], "system:seed");  // unchanged Tết entries keep theirs

  // Now the 2nd is off and Saturday the 10th is worked.
  EXPECT_TRUE(Contains(p_->Days(2026, "days_off"), "2026-01-02"));
  EXPECT_EQ(p_->Days(2026, "make_up_workdays"), std::vector<std::string>{"2026-01-10"});
  EXPECT_EQ(p_->DueLocal("2025-12-31T10:00:00%2B07:00", "1"), "2026-01-05T17:00:00+07:00");
  EXPECT_EQ(p_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  auto snapshot = p_->provider->Snapshot();  // what the dossier service uses, without I/O
  EXPECT_FALSE(snapshot->IsWorkingDay({2026, 1, 2}));
  EXPECT_TRUE(snapshot->IsWorkingDay({2026, 1, 10}));

  // The same schedule again changes nothing: same revision, no audit entry.
  auto same = p_->Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), "admin");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(json::parse(same.body)["revision"], y["revision"]);

  // Audited: the actor, the year, what was added.
  auto log = p_->audit->List(0, 10);
  ASSERT_TRUE(log.ok());
  int replaces = 0;
  for (const auto& e : *log) {
    if (e.action != "calendar.schedule.replace") continue;
    ++replaces;
    EXPECT_EQ(e.actor, "admin");
    EXPECT_EQ(e.resource, "calendar-schedule:2026");
    json detail = json::parse(e.detail);
    EXPECT_EQ(detail["added"], json({"2026-01-01", "2026-01-02", "2026-01-10"}));
    EXPECT_EQ(detail["removed"], json::array());
  }
  EXPECT_EQ(replaces, 1);

  // Deleting the year brings the default rule back (Tết 2026's default days equal the official ones).
  EXPECT_EQ(p_->Call("DELETE", "/api/v1/calendar/schedules/2026", "", "admin").status, 204);
  EXPECT_EQ(p_->GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 0u);
  EXPECT_EQ(p_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");
  EXPECT_TRUE(Contains(p_->Days(2026, "days_off"), "2026-02-17"));
  EXPECT_EQ(p_->Call("DELETE", "/api/v1/calendar/schedules/2026", "", "admin").status, 204);  // idempotent
}

TEST_P(CalendarTest, BadSchedulesAreRefusedNamingTheField) {
  auto problem = [&](const json& body, int expect = 400) {
    auto r = p_->Call("PUT", "/api/v1/calendar/schedules/2026", body.dump(), "admin");
    EXPECT_EQ(r.status, expect) << body.dump() << " -> " << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json");
    return json::parse(r.body, nullptr, false).value("field", "");
  };
  auto with = [&](json extra) {
    json body = Edited2026();
    body["entries"].push_back(extra);
    return body;
  };
  // 8 valid entries, the 9th (entries[8]) is bad.
  EXPECT_EQ(problem(with({{"date", "2026-01-17"}, {"kind", "day_off"}, {"reason", "thứ Bảy"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "make_up_workday"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2026-09-02"}, {"kind", "day_off"}, {"reason", "Quốc khánh"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2026-01-02"}, {"kind", "day_off"}, {"reason", "lần nữa"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2027-03-04"}, {"kind", "day_off"}, {"reason", "năm khác"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2026-02-30"}, {"kind", "day_off"}, {"reason", "x"}})), "entries[8].date");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "holiday"}, {"reason", "x"}})), "entries[8].kind");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "day_off"}})), "entries[8].reason");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", "x"}, {"occasion", "xmas"}})),
            "entries[8].occasion");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", "x"}, {"confidence", "sure"}})),
            "entries[8].confidence");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", "x"}, {"colour", "red"}})),
            "entries[8].colour");
  EXPECT_EQ(problem(with({{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", std::string(201, 'x')}})),
            "entries[8].reason");
  EXPECT_EQ(problem(with({{"date", 20260304}, {"kind", "day_off"}, {"reason", "x"}})), "entries[8].date");
  EXPECT_EQ(problem(with("2026-03-04")), "entries[8]");
  EXPECT_EQ(problem(json{{"entries", "2026-03-04"}}), "entries");
  EXPECT_EQ(problem(json{{"days", json::array()}}), "days");
  // Removing New Year's day from a schedule that keeps its swap.
  json body = Edited2026();
  body["entries"].erase(body["entries"].end() - 3);
  EXPECT_EQ(problem(body), "entries[5].occasion");
  // Years in the path.
  for (const char* year : {"2100", "1999", "20x6", "026"}) {
    auto r = p_->Call("PUT", std::string("/api/v1/calendar/schedules/") + year, Edited2026().dump(), "admin");
    EXPECT_EQ(r.status, 400) << year;
    EXPECT_EQ(json::parse(r.body).value("field", ""), "year") << year;
    EXPECT_EQ(p_->GetJson(std::string("/api/v1/calendar/schedules/") + year, 400).value("field", ""), "year");
  }
  // Not JSON.
  auto r = p_->Call("PUT", "/api/v1/calendar/schedules/2026", "{", "admin");
  EXPECT_EQ(r.status, 400);
  // Nothing was stored.
  EXPECT_EQ(p_->GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 5u);
}

TEST_P(CalendarTest, OnlyCityAdminsEdit) {
  const std::string body = Edited2026().dump();
  for (const char* method : {"PUT", "DELETE"}) {
    EXPECT_EQ(p_->Call(method, "/api/v1/calendar/schedules/2026", body, "").status, 401) << method;
    EXPECT_EQ(p_->Call(method, "/api/v1/calendar/schedules/2026", body, "citizen").status, 403) << method;
    EXPECT_EQ(p_->Call(method, "/api/v1/calendar/schedules/2026", body, "agencyadmin").status, 403) << method;
  }
  EXPECT_EQ(p_->GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 5u);
}

TEST_P(CalendarTest, AnotherProcessSeesTheChangeAndARestartKeepsIt) {
  Process other(*store_, &clock_);
  ASSERT_TRUE(other.provider);
  EXPECT_EQ(other.seeded_now, 0);  // seeded by the first process
  other.provider->StartRefresher(std::chrono::milliseconds(20));
  EXPECT_EQ(other.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");

  ASSERT_EQ(p_->Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), "admin").status, 200);
  // The routes read the revision on each call: at once.
  EXPECT_EQ(other.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  EXPECT_EQ(other.Days(2026, "make_up_workdays"), std::vector<std::string>{"2026-01-10"});
  EXPECT_EQ(other.provider->revision(), p_->provider->revision());

  // An edit through the other process; this one's snapshot (no I/O) follows through its refresher.
  p_->provider->StartRefresher(std::chrono::milliseconds(20));
  ASSERT_EQ(other.Call("DELETE", "/api/v1/calendar/schedules/2026", "", "admin").status, 204);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!p_->provider->Snapshot()->IsWorkingDay({2026, 1, 2}) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(p_->provider->Snapshot()->IsWorkingDay({2026, 1, 2}));
  EXPECT_FALSE(p_->provider->Snapshot()->IsWorkingDay({2026, 1, 10}));
  other.provider->StopRefresher();
  p_->provider->StopRefresher();

  // Put it back, then restart both: the database keeps the edit, and the file does not seed again.
  ASSERT_EQ(other.Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), "admin").status, 200);
  p_.reset();
  Process restarted(*store_, &clock_);
  ASSERT_TRUE(restarted.provider);
  EXPECT_EQ(restarted.seeded_now, 0);
  EXPECT_EQ(restarted.GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 8u);
  EXPECT_EQ(restarted.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  EXPECT_FALSE(restarted.provider->Snapshot()->IsWorkingDay({2026, 1, 2}));
}

TEST_P(CalendarTest, DeletedSchedulesStayDeletedAfterARestart) {
  // Deleting every year does not make the next start seed the file again (it seeds only once).
  for (int year : {2024, 2025, 2026}) {
    EXPECT_EQ(p_->Call("DELETE", "/api/v1/calendar/schedules/" + std::to_string(year), "", "admin").status, 204);
  }
  p_.reset();
  Process restarted(*store_, &clock_);
  EXPECT_EQ(restarted.seeded_now, 0);
  for (int year : {2024, 2025, 2026}) {
    EXPECT_EQ(restarted.GetJson("/api/v1/calendar/schedules/" + std::to_string(year))["entries"].size(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CalendarTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::calendar
