// The service index over time (GET /api/v1/stats/service-index/series) on both backends: buckets of a
// day, an ISO week and a calendar month over simulated traffic add up to the whole period.
#include <gtest/gtest.h>

#include <sstream>

#include "app/simulation.h"
#include "core/clock.h"
#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

constexpr int64_t kDayMs = 86400000;

class ServiceIndexSeriesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    // 160 dossiers submitted between 2026-09-01 and the test clock's 2026-11-18 (Hà Nội), played
    // through the one-stop shop with refusals, lateness and ratings; the clock ends at `until`.
    app::SimulationOptions o;
    o.until_ms = app_->clock().NowMillis();
    o.from_ms = o.until_ms - 78 * kDayMs;
    o.dossiers = 160;
    o.progress = false;
    std::ostringstream log;
    auto report = app::SimulateDossiers(app_->app(), app_->clock(), o, log);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_GT(report->submitted, 100);
  }
  json Get(const std::string& target, int expect = 200) {
    auto r = app_->Get(target);
    EXPECT_EQ(r.status, expect) << target << ": " << r.body;
    return Json(r);
  }
  // Every indicator's numerator and denominator summed over the buckets equal the whole period's.
  void ExpectBucketsAddUp(const json& series, const json& whole) {
    std::map<std::string, int64_t> num, den;
    int64_t received = 0;
    for (const auto& b : series["buckets"]) {
      received += b["received"].get<int64_t>();
      for (const auto& i : b["indicators"]) {
        if (i["numerator"].is_null()) continue;  // not measured (online payment)
        num[i["key"]] += i["numerator"].get<int64_t>();
        den[i["key"]] += i["denominator"].get<int64_t>();
      }
    }
    EXPECT_EQ(received, whole["received"].get<int64_t>());
    int measured = 0;
    for (const auto& i : whole["indicators"]) {
      if (i["numerator"].is_null()) continue;
      measured++;
      EXPECT_EQ(num[i["key"]], i["numerator"].get<int64_t>()) << i["key"];
      EXPECT_EQ(den[i["key"]], i["denominator"].get<int64_t>()) << i["key"];
    }
    EXPECT_EQ(measured, 10);  // all but online payment
  }
  std::unique_ptr<TestApp> app_;
};

TEST_P(ServiceIndexSeriesTest, DailyBucketsOfTheCityAddUpToTheWholePeriod) {
  // Anonymous, like the other service-index routes; 2026-09-01..2026-11-18 is 79 days.
  json s = Get("/api/v1/stats/service-index/series?unit=01&from=2026-09-01&to=2026-11-18&interval=day");
  json whole = Get("/api/v1/stats/service-index?unit=01&from=2026-09-01&to=2026-11-18");
  ASSERT_EQ(s["buckets"].size(), 79u);
  EXPECT_EQ(s["interval"], "day");
  EXPECT_EQ(s["buckets"][0]["from"], "2026-09-01");
  EXPECT_EQ(s["buckets"][0]["to"], "2026-09-01");
  EXPECT_EQ(s["buckets"][30]["from"], "2026-10-01");
  EXPECT_EQ(s["buckets"][78]["to"], "2026-11-18");
  ASSERT_EQ(s["indicators"].size(), 11u);  // the definitions, once
  EXPECT_EQ(s["indicators"][0]["key"], "progress.on_time");
  EXPECT_GT(whole["received"].get<int64_t>(), 100);
  ExpectBucketsAddUp(s, whole);
  // A day's bucket scores like the index of that day alone; a day without dossiers has no score.
  int with_dossiers = 0, empty = 0;
  for (const auto& b : s["buckets"]) {
    if (b["received"] == 0) {
      EXPECT_TRUE(b["score_100"].is_null()) << b["from"];
      empty++;
    } else if (with_dossiers++ < 3) {
      std::string day = b["from"];
      json one = Get("/api/v1/stats/service-index?unit=01&from=" + day + "&to=" + day);
      EXPECT_DOUBLE_EQ(b["score_100"].get<double>(), one["score_100"].get<double>()) << day;
      EXPECT_DOUBLE_EQ(b["score"].get<double>(), one["score"].get<double>()) << day;
    }
  }
  EXPECT_GT(with_dossiers, 40);
  EXPECT_GT(empty, 0);  // at least the Sundays
  // Without interval: days.
  EXPECT_EQ(Get("/api/v1/stats/service-index/series?from=2026-11-01&to=2026-11-18")["buckets"].size(), 18u);
}

TEST_P(ServiceIndexSeriesTest, WeeksAndMonthsAreClippedToThePeriodAndACommuneAddsUpToo) {
  // 2026-09-02 is a Wednesday and 2026-11-18 a Wednesday: a clipped first week, 10 full ISO weeks
  // and a clipped last week.
  json weeks = Get("/api/v1/stats/service-index/series?from=2026-09-02&to=2026-11-18&interval=week");
  ASSERT_EQ(weeks["buckets"].size(), 12u);
  EXPECT_EQ(weeks["buckets"][0]["from"], "2026-09-02");
  EXPECT_EQ(weeks["buckets"][0]["to"], "2026-09-06");
  EXPECT_EQ(weeks["buckets"][1]["from"], "2026-09-07");
  EXPECT_EQ(weeks["buckets"][1]["to"], "2026-09-13");
  EXPECT_EQ(weeks["buckets"][11]["from"], "2026-11-16");
  EXPECT_EQ(weeks["buckets"][11]["to"], "2026-11-18");
  ExpectBucketsAddUp(weeks, Get("/api/v1/stats/service-index?unit=01&from=2026-09-02&to=2026-11-18"));

  json months = Get("/api/v1/stats/service-index/series?unit=01&from=2026-09-15&to=2026-11-18&interval=month");
  ASSERT_EQ(months["buckets"].size(), 3u);
  EXPECT_EQ(months["buckets"][0]["from"], "2026-09-15");
  EXPECT_EQ(months["buckets"][0]["to"], "2026-09-30");
  EXPECT_EQ(months["buckets"][1]["from"], "2026-10-01");
  EXPECT_EQ(months["buckets"][1]["to"], "2026-10-31");
  EXPECT_EQ(months["buckets"][2]["from"], "2026-11-01");
  EXPECT_EQ(months["buckets"][2]["to"], "2026-11-18");
  ExpectBucketsAddUp(months, Get("/api/v1/stats/service-index?unit=01&from=2026-09-15&to=2026-11-18"));
  for (const auto& b : months["buckets"]) {  // each month scores like the index over that month
    json one = Get("/api/v1/stats/service-index?unit=01&from=" + b["from"].get<std::string>() +
                   "&to=" + b["to"].get<std::string>());
    EXPECT_DOUBLE_EQ(b["score_100"].get<double>(), one["score_100"].get<double>()) << b["from"];
  }

  // The busiest commune of the ranking, by week.
  json ranking = Get("/api/v1/stats/service-index/ranking?from=2026-09-01&to=2026-11-18");
  ASSERT_FALSE(ranking["items"].empty());
  std::string unit;
  int64_t most = 0;
  for (const auto& i : ranking["items"]) {
    if (i["received"].get<int64_t>() <= most) continue;
    most = i["received"].get<int64_t>();
    unit = i["unit"].get<std::string>();
  }
  json commune =
      Get("/api/v1/stats/service-index/series?unit=" + unit + "&from=2026-09-01&to=2026-11-18&interval=week");
  EXPECT_EQ(commune["unit"], unit);
  ASSERT_EQ(commune["buckets"].size(), 12u);  // Tuesday 2026-09-01 .. Wednesday 2026-11-18
  json whole = Get("/api/v1/stats/service-index?unit=" + unit + "&from=2026-09-01&to=2026-11-18");
  EXPECT_EQ(whole["received"], most);
  ExpectBucketsAddUp(commune, whole);
}

TEST_P(ServiceIndexSeriesTest, BadParametersAreNamed) {
  auto field = [&](const std::string& query) {
    return Get("/api/v1/stats/service-index/series?" + query, 400)["field"];
  };
  EXPECT_EQ(field("to=2026-11-18"), "from");
  EXPECT_EQ(field("from=2026-11-01"), "to");
  EXPECT_EQ(field("from=2026-02-30&to=2026-11-18"), "from");
  EXPECT_EQ(field("from=2026-11-01&to=18/11/2026"), "to");
  EXPECT_EQ(field("from=2026-11-18&to=2026-11-01"), "to");
  EXPECT_EQ(field("from=2026-11-01&to=2026-11-18&interval=hour"), "interval");
  EXPECT_EQ(field("from=2026-11-01&to=2026-11-18&interval="), "interval");
  // At most 400 buckets: 400 days pass, 401 do not; the same 401 days by week are fine.
  EXPECT_EQ(Get("/api/v1/stats/service-index/series?from=2025-01-01&to=2026-02-04&interval=day")["buckets"].size(),
            400u);
  EXPECT_EQ(field("from=2025-01-01&to=2026-02-05&interval=day"), "interval");
  EXPECT_EQ(Get("/api/v1/stats/service-index/series?from=2025-01-01&to=2026-02-05&interval=week")["buckets"].size(),
            58u);
  EXPECT_EQ(field("from=1900-01-01&to=2026-02-05&interval=month"), "interval");
  auto r = app_->Get("/api/v1/stats/service-index/series?from=2026-11-01&to=2026-11-18&interval=year");
  EXPECT_NE(r.Header("content-type").find("application/problem+json"), std::string::npos);
}

// Returning citizens of the simulation submit online with documents of their own wallets instead of
// uploads (once-only), and the index counts those dossiers as reuse: every reference is to a signed
// document held by the dossier's own applicant and issued no later than the day of the submission.
TEST_P(ServiceIndexSeriesTest, SimulatedReturningCitizensReuseTheirOwnWalletDocuments) {
  json whole = Get("/api/v1/stats/service-index?unit=01&from=2026-09-01&to=2026-11-18");
  const json* reuse = nullptr;
  for (const auto& i : whole["indicators"]) {
    if (i["key"] == "digitisation.reuse") reuse = &i;
  }
  ASSERT_NE(reuse, nullptr);
  const int64_t reusing = (*reuse)["numerator"].get<int64_t>();
  EXPECT_GT(reusing, 5);
  EXPECT_LT(reusing, (*reuse)["denominator"].get<int64_t>());
  int64_t dossiers = 0, references = 0, foreign = 0, from_the_future = 0;
  ASSERT_TRUE(app_->app()
                  .db()
                  .Read([&](storage::Session& s) -> Status {
                    TL_ASSIGN_OR_RETURN(auto n, s.Query("SELECT COUNT(*) FROM dossiers WHERE reused_documents > 0"));
                    dossiers = n.rows[0].Int(0);
                    TL_ASSIGN_OR_RETURN(
                        auto rs, s.Query("SELECT d.applicant_id_number, d.submitted_at, w.holder, w.issued_on "
                                         "FROM dossier_wallet_documents r JOIN dossiers d ON d.code = r.dossier_code "
                                         "JOIN wallet_documents w ON w.id = r.document_id"));
                    for (const auto& r : rs.rows) {
                      references++;
                      if (r.Text(0) != r.Text(2)) foreign++;
                      if (r.Text(3) > FormatDate(r.Int(1) + 7 * 3600 * 1000)) from_the_future++;
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(dossiers, reusing);
  EXPECT_GE(references, dossiers);
  EXPECT_EQ(foreign, 0);
  EXPECT_EQ(from_the_future, 0);
}

// The kept daily counts stay equal to a scan of the dossiers through live actions (the simulation of
// SetUp, a rating, an apology) and a bulk-loaded history; bulk-loaded dossiers read like live ones.
TEST_P(ServiceIndexSeriesTest, DailyCountsEqualAScanThroughLiveActionsAndBulkHistory) {
  app::SimulationOptions o;
  o.until_ms = app_->clock().NowMillis();
  o.from_ms = o.until_ms - 60 * kDayMs;
  o.dossiers = 400;
  o.seed = 7;
  o.bulk = true;
  o.progress = false;
  std::ostringstream log;
  auto report = app::SimulateDossiers(app_->app(), app_->clock(), o, log);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->submitted, 390);
  EXPECT_GT(report->returned, 250);
  EXPECT_EQ(report->failed, 0) << log.str();
  // A live apology with a new appointment after the load moves the apology count of its day.
  std::string desk = app_->Login("desk"), leader = app_->Login("leader"), specialist = app_->Login("specialist");
  json body = {{"procedure_code", "1.010386"}, {"unit_code", "00004"}, {"channel", "desk"},
               {"applicant", {{"full_name", "Lê Thị Hoa"}, {"phone", "0912345678"}}}};
  auto sub = app_->Post("/api/v1/dossiers", body.dump(), desk);
  ASSERT_EQ(sub.status, 201) << sub.body;
  json d = Json(sub);
  auto apology = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/apologise",
                            json{{"version", d["version"]}, {"note", "Xin lỗi vì chậm trễ"}, {"new_due_date", "2026-12-15"}}
                                .dump(),
                            desk);
  EXPECT_TRUE(apology.status == 200 || apology.status == 403 || apology.status == 409) << apology.body;
  const auto& index = app_->app().service_index();
  for (const std::string unit : {"01", "00004", "10072", "10096"}) {
    auto kept = index.Compute(unit, "2026-08-01", "2026-11-18");
    auto scanned = index.Compute(unit, "2026-08-01", "2026-11-18", /*scan=*/true);
    ASSERT_TRUE(kept.ok() && scanned.ok());
    EXPECT_EQ((*kept)["received"], (*scanned)["received"]) << unit;
    EXPECT_EQ((*kept)["indicators"], (*scanned)["indicators"]) << unit;
  }
  EXPECT_GT((*index.Compute("01", "2026-08-01", "2026-11-18"))["received"].get<int64_t>(), 550);
  // A bulk-loaded dossier has the timeline its version says, like a live one.
  std::string admin = app_->Login("admin");  // city-wide
  auto queue = app_->Get("/api/v1/dossiers?scope=agency&status=returned&limit=20", admin);
  ASSERT_EQ(queue.status, 200) << queue.body;
  int checked = 0;
  json items = Json(queue)["items"];
  for (const auto& item : items) {
    json full = Json(app_->Get("/api/v1/dossiers/" + item["code"].get<std::string>(), admin));
    ASSERT_FALSE(full["timeline"].empty());
    EXPECT_EQ(full["timeline"].back()["to_status"], full["status"]);
    EXPECT_LE(full["timeline"].size(), full["version"].get<size_t>());
    checked++;
  }
  EXPECT_GT(checked, 0);
  // The ranking is ordered by score, then by dossiers served, then by code.
  json ranking = Get("/api/v1/stats/service-index/ranking?from=2026-08-01&to=2026-11-18");
  ASSERT_GT(ranking["items"].size(), 50u);
  for (size_t i = 1; i < ranking["items"].size(); ++i) {
    const json& a = ranking["items"][i - 1];
    const json& b = ranking["items"][i];
    double sa = a["score_100"], sb = b["score_100"];
    int64_t ra = a["received"], rb = b["received"];
    EXPECT_TRUE(sa > sb || (sa == sb && (ra > rb || (ra == rb && a["unit"] < b["unit"])))) << i;
    EXPECT_EQ(b["rank"], i + 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceIndexSeriesTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
