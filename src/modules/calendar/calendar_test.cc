// The calendar API through the real request pipeline (Dispatcher: query decoding, problems), on the
// calendar the application loads (data/calendar/official-schedules.json).
#include "modules/calendar/calendar.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/dispatcher.h"
#include "http/metrics.h"

namespace tl::calendar {
namespace {

using nlohmann::json;

class CalendarApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schedule = LoadScheduleFile(std::string(THANGLONG_TEST_DATA_ROOT) + "/calendar/official-schedules.json");
    ASSERT_TRUE(schedule.ok()) << schedule.status().ToString();
    auto cal = WorkingCalendar::Create(std::move(*schedule));
    ASSERT_TRUE(cal.ok()) << cal.status().ToString();
    calendar_ = std::make_unique<WorkingCalendar>(std::move(*cal));
    dispatcher_ = std::make_unique<http::Dispatcher>(http::DispatcherOptions{1 << 20, 1 << 20, false}, &metrics_);
    ASSERT_TRUE(dispatcher_->AddRoutes(Routes(calendar_.get())).ok());
  }

  http::Response Get(const std::string& target) {
    http::RawRequest raw;
    raw.method = "GET";
    raw.target = target;
    raw.client_ip = "127.0.0.1";
    return dispatcher_->Handle(std::move(raw));
  }
  json GetJson(const std::string& target, int expect = 200) {
    http::Response r = Get(target);
    EXPECT_EQ(r.status, expect) << target << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }
  // The `field` of the 400 problem for `target`.
  std::string BadField(const std::string& target) {
    json p = GetJson(target, 400);
    return p.value("field", "");
  }

  http::Metrics metrics_;
  std::unique_ptr<WorkingCalendar> calendar_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
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

TEST_F(CalendarApiTest, DueDateAcrossTet2026) {
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

TEST_F(CalendarApiTest, FractionsAndSameDayCutoff) {
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

TEST_F(CalendarApiTest, HolidaysOf2026) {
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

TEST_F(CalendarApiTest, BadParametersAreNamed) {
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

}  // namespace
}  // namespace tl::calendar
