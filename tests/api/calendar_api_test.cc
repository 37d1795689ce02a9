// The official holiday schedule edited through the real server (all modules wired), on both backends:
// an admin's edit moves the public holidays, the due-date calculator and the due dates of new dossiers at
// once; bad schedules are refused naming the field; only city admins edit; a second server process over
// the same database sees the edit; a restart keeps it.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "app/application.h"
#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

// One `thanglong serve` process over a store that several of them share (TestApp owns its store).
class Server {
 public:
  Server(const ScratchStore& store, ManualClock* clock) {
    std::map<std::string, std::string> o = {{"listen", "127.0.0.1:0"},
                                            {"data_dir", store.data_dir()},
                                            {"password_cost", "minimum"},
                                            {"access_log", "false"},
                                            {"workers", "2"},
                                            {"data_root", DataRoot()},
                                            {"web_root", "/nonexistent"},
                                            {"log_level", "warn"}};
    if (!store.database_url().empty()) o["database"] = store.database_url();
    auto cfg = app::LoadConfig(std::nullopt, o);
    if (!cfg.ok()) {
      ADD_FAILURE() << cfg.status().ToString();
      return;
    }
    auto created = app::Application::Create(*cfg, clock);
    if (!created.ok()) {
      ADD_FAILURE() << created.status().ToString();
      return;
    }
    app_ = std::move(*created);
    std::ostringstream sink;
    Status seeded = app_->Seed(sink);
    EXPECT_TRUE(seeded.ok()) << seeded.ToString();
    Status started = app_->StartServer();
    EXPECT_TRUE(started.ok()) << started.ToString();
  }
  ~Server() {
    if (app_) app_->Shutdown();
  }
  bool ok() const { return app_ && app_->port() != 0; }
  app::Application& app() { return *app_; }

  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& token = "") const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return HttpRequest(app_->port(), method, target, body, headers);
  }
  json GetJson(const std::string& target) const {
    auto r = Call("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Json(r);
  }
  std::string Login(const std::string& username) const {
    auto r = Call("POST", "/api/v1/auth/login", json{{"username", username}, {"password", kDemoPassword}}.dump());
    EXPECT_EQ(r.status, 200) << username << ": " << r.body;
    return Json(r).value("token", "");
  }
  std::vector<std::string> Days(int year, const char* list) const {
    std::vector<std::string> out;
    const json holidays = GetJson("/api/v1/calendar/holidays?year=" + std::to_string(year));
    for (const auto& d : holidays[list]) out.push_back(d["date"]);
    return out;
  }
  std::string DueLocal(const std::string& from, const std::string& days) const {
    return GetJson("/api/v1/calendar/due-date?from=" + from + "&working_days=" + days).value("due_at_local", "");
  }

 private:
  std::unique_ptr<app::Application> app_;
};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class CalendarApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<ScratchStore>(GetParam());
    server_ = std::make_unique<Server>(*store_, &clock_);
    ASSERT_TRUE(server_->ok());
    admin_ = server_->Login("admin");
    seeded2026_ = server_->GetJson("/api/v1/calendar/schedules/2026")["entries"];
  }
  // The 2026 schedule as seeded, with an example swap: Friday 2 January off, Saturday 10 January worked.
  json Edited2026() {
    json entries = seeded2026_;
    entries.push_back({{"date", "2026-01-01"}, {"kind", "day_off"}, {"occasion", "new_year"}});
    entries.push_back({{"date", "2026-01-02"},
                       {"kind", "day_off"},
                       {"occasion", "new_year"},
                       {"reason", "nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)"},
                       {"source", "Ví dụ kiểm thử"},
                       {"confidence", "medium"}});
    entries.push_back({{"date", "2026-01-10"}, {"kind", "make_up_workday"}, {"occasion", "new_year"}});
    return {{"entries", entries}};
  }
  // A report of a lost passport (1.010386, one working day, no application form) recorded at the desk of
  // Phường Ba Đình now; its due instant.
  std::string DeskDossierDue(const Server& s) {
    json body = {
        {"procedure_code", "1.010386"},
        {"unit_code", "00004"},
        {"channel", "desk"},
        {"applicant", {{"full_name", "Lê Thị Hoa"}, {"personal_id", "001185000222"}, {"phone", "0987654321"}}}};
    auto r = s.Call("POST", "/api/v1/dossiers", body.dump(), s.Login("desk"));
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r).value("due_at", "");
  }

  ManualClock clock_{1795000000000};  // 2026-11-18T07:06:40Z
  std::unique_ptr<ScratchStore> store_;
  std::unique_ptr<Server> server_;
  std::string admin_;
  json seeded2026_;  // the 2026 entries as seeded from the data file
};

TEST_P(CalendarApiTest, AnEditMovesHolidaysDueDatesAndDossiers) {
  // Friday 9 January 2026, 10:00 in Hà Nội.
  clock_.Set(1767927600000);
  EXPECT_EQ(server_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");
  EXPECT_EQ(DeskDossierDue(*server_), "2026-01-12T10:00:00.000Z");
  EXPECT_TRUE(server_->Days(2026, "make_up_workdays").empty());

  auto put = server_->Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), admin_);
  ASSERT_EQ(put.status, 200) << put.body;
  json stored = Json(put);
  EXPECT_EQ(stored["entries"].size(), 8u);
  EXPECT_EQ(stored["entries"][1]["changed_by"], "admin");
  EXPECT_EQ(stored["entries"][1]["confidence"], "medium");
  EXPECT_EQ(server_->GetJson("/api/v1/calendar/schedules/2026"), stored);

  EXPECT_TRUE(Contains(server_->Days(2026, "days_off"), "2026-01-02"));
  EXPECT_EQ(server_->Days(2026, "make_up_workdays"), std::vector<std::string>{"2026-01-10"});
  EXPECT_EQ(server_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  EXPECT_EQ(DeskDossierDue(*server_), "2026-01-10T10:00:00.000Z");  // Saturday the 10th is worked

  // Audited like other admin writes.
  auto audit = server_->Call("GET", "/api/v1/audit", "", admin_);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("calendar.schedule.replace"), std::string::npos);
  EXPECT_NE(audit.body.find("calendar-schedule:2026"), std::string::npos);
  EXPECT_EQ(Json(server_->Call("GET", "/api/v1/audit/verify", "", admin_))["intact"], true);

  // Removing the year's schedule: the default rule again.
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/calendar/schedules/2026", "", admin_).status, 204);
  EXPECT_EQ(server_->DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");
  EXPECT_TRUE(Contains(server_->Days(2026, "days_off"), "2026-02-17"));  // Tết by the Labour Code's rule
}

TEST_P(CalendarApiTest, BadSchedulesAreProblemsNamingTheField) {
  json body = Edited2026();
  body["entries"].push_back({{"date", "2026-01-17"}, {"kind", "day_off"}, {"reason", "thứ Bảy"}});
  auto r = server_->Call("PUT", "/api/v1/calendar/schedules/2026", body.dump(), admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_EQ(Json(r)["field"], "entries[8].date");
  EXPECT_NE(Json(r)["detail"].get<std::string>().find("Saturday"), std::string::npos) << r.body;

  json weekday_make_up = {{"entries", {{{"date", "2026-03-04"}, {"kind", "make_up_workday"}}}}};
  r = server_->Call("PUT", "/api/v1/calendar/schedules/2026", weekday_make_up.dump(), admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["field"], "entries[0].date");

  json two = {{"entries",
               {{{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", "a"}},
                {{"date", "2026-03-05"}, {"kind", "day_off"}, {"reason", "b"}},
                {{"date", "2026-03-04"}, {"kind", "day_off"}, {"reason", "c"}}}}};
  r = server_->Call("PUT", "/api/v1/calendar/schedules/2026", two.dump(), admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["field"], "entries[2].date");

  r = server_->Call("PUT", "/api/v1/calendar/schedules/2026", R"({"entries":[]})",
                    admin_);  // fine: 2026 then follows the default rule
  EXPECT_EQ(r.status, 200) << r.body;
  r = server_->Call("PUT", "/api/v1/calendar/schedules/2026", "not json", admin_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(server_->Call("PUT", "/api/v1/calendar/schedules/3000", R"({"entries":[]})", admin_).status, 400);
  EXPECT_EQ(server_->Call("GET", "/api/v1/calendar/schedules/x").status, 400);
}

TEST_P(CalendarApiTest, OnlyCityAdminsEdit) {
  const std::string body = Edited2026().dump();
  for (const std::string caller : {"citizen", "desk", "leader", "agencyadmin", "operator"}) {
    std::string token = server_->Login(caller);
    EXPECT_EQ(server_->Call("PUT", "/api/v1/calendar/schedules/2026", body, token).status, 403) << caller;
    EXPECT_EQ(server_->Call("DELETE", "/api/v1/calendar/schedules/2026", "", token).status, 403) << caller;
  }
  EXPECT_EQ(server_->Call("PUT", "/api/v1/calendar/schedules/2026", body).status, 401);
  EXPECT_EQ(server_->GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 5u);  // public read
}

TEST_P(CalendarApiTest, AnotherServerSeesTheEditAndARestartKeepsIt) {
  Server second(*store_, &clock_);
  ASSERT_TRUE(second.ok());
  clock_.Set(1767927600000);  // Friday 9 January 2026, 10:00 in Hà Nội
  EXPECT_EQ(second.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-12T17:00:00+07:00");
  EXPECT_EQ(DeskDossierDue(second), "2026-01-12T10:00:00.000Z");

  ASSERT_EQ(server_->Call("PUT", "/api/v1/calendar/schedules/2026", Edited2026().dump(), admin_).status, 200);
  // The other process's routes check the revision on each call.
  EXPECT_EQ(second.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  EXPECT_EQ(second.Days(2026, "make_up_workdays"), std::vector<std::string>{"2026-01-10"});
  EXPECT_EQ(second.GetJson("/api/v1/calendar/schedules/2026")["entries"].size(), 8u);
  // Its dossiers' due dates (computed without waiting on the database) follow within the refresh second.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (second.app().calendar()->IsWorkingDay({2026, 1, 10}) == false && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(DeskDossierDue(second), "2026-01-10T10:00:00.000Z");

  // Restart the first server: the edit is in the database; the data file does not seed again.
  server_.reset();
  Server restarted(*store_, &clock_);
  ASSERT_TRUE(restarted.ok());
  json year = restarted.GetJson("/api/v1/calendar/schedules/2026");
  EXPECT_EQ(year["entries"].size(), 8u);
  EXPECT_EQ(year["entries"][1]["reason"], "nghỉ hoán đổi (làm bù thứ Bảy 10/1/2026)");
  EXPECT_EQ(restarted.DueLocal("2026-01-09T10:00:00%2B07:00", "1"), "2026-01-10T17:00:00+07:00");
  EXPECT_FALSE(restarted.app().calendar()->IsWorkingDay({2026, 1, 2}));
}

TEST_P(CalendarApiTest, TheRoutesAreInTheOpenApiDocument) {
  json doc = server_->GetJson("/api/openapi.json");
  const json& path = doc["paths"]["/api/v1/calendar/schedules/{year}"];
  ASSERT_TRUE(path.contains("get") && path.contains("put") && path.contains("delete")) << path.dump();
  EXPECT_EQ(path["put"]["x-roles"], json({"city_admin"}));
  EXPECT_FALSE(path["get"].contains("security"));
}

INSTANTIATE_TEST_SUITE_P(Backends, CalendarApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
