// Alerts through the real server (all modules wired) on both backends: an NGSI-LD update with a high
// PM2.5 (observedAt an hour after the first) raises the seeded sustained rule's alert, which shows at
// GET /api/v1/alerts and, mirrored by the server's background task, as an NGSI-LD Alert entity; an
// operator acknowledges it (versions, 409s, 400s naming the field), a citizen gets 403 and an
// anonymous caller 401; city admins edit the rules.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

const std::string kLink =
    "<http://localhost/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld>; "
    "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

class AlertsApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    op_ = app_->Login("operator");
  }
  HttpResult Ngsi(const std::string& method, const std::string& target, const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> h = {{"Authorization", "Bearer " + op_}, {"Link", kLink}};
    return HttpRequest(app_->port(), method, target, body, h);
  }
  HttpResult Act(const std::string& id, const std::string& action, const json& body, const std::string& token) {
    return app_->Post("/api/v1/alerts/" + id + "/actions/" + action, body.dump(), token);
  }
  // The mirror runs every second in the server; waits for the Alert entity to show `status`.
  json WaitForAlertEntity(const std::string& id, const std::string& status) {
    json last;
    for (int i = 0; i < 150; ++i) {
      auto r = Ngsi("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Alert:" + id);
      if (r.status == 200) {
        last = json::parse(r.body, nullptr, false);
        if (last.contains("status") && last["status"]["value"] == status) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no Alert entity " << id << " with status " << status << "; last: " << last.dump();
    return last;
  }

  std::unique_ptr<TestApp> app_;
  std::string op_;
};

TEST_P(AlertsApiTest, HighPm25RaisesAnAlertThatOperatorsHandle) {
  const std::string sensor = "urn:ngsi-ld:AirQualityObserved:hn-hoankiem";
  auto created = Ngsi("POST", "/ngsi-ld/v1/entities", R"({"id":")" + sensor + R"(","type":"AirQualityObserved",
                          "pm25":{"type":"Property","value":182.5,"observedAt":"2026-11-18T06:00:00Z"},
                          "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[105.852,21.028]}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto none = Json(app_->Get("/api/v1/alerts?status=open", op_));
  EXPECT_TRUE(none["items"].empty()) << none.dump();
  // An hour of measurement time later (a replay: the server's clock has not moved).
  auto updated = Ngsi("PATCH", "/ngsi-ld/v1/entities/" + sensor + "/attrs",
                      R"({"pm25":{"type":"Property","value":171,"observedAt":"2026-11-18T07:00:00Z"}})");
  ASSERT_EQ(updated.status, 204) << updated.body;

  auto list = app_->Get("/api/v1/alerts?status=open&entity_type=AirQualityObserved", op_);
  ASSERT_EQ(list.status, 200) << list.body;
  json page = Json(list);
  ASSERT_EQ(page["items"].size(), 1u) << page.dump();
  EXPECT_TRUE(page["next_cursor"].is_null());
  json alert = page["items"][0];
  EXPECT_EQ(alert["rule_id"], "pm25-sustained-150");
  EXPECT_EQ(alert["rule_name"], "PM2.5 vượt 150 µg/m³ trong 1 giờ");
  EXPECT_EQ(alert["title"], "PM2.5 vượt 150 µg/m³ trong 1 giờ");
  EXPECT_EQ(alert["entity_id"], sensor);
  EXPECT_EQ(alert["entity_type"], "AirQualityObserved");
  EXPECT_EQ(alert["attribute"], "pm25");
  EXPECT_EQ(alert["severity"], "high");
  EXPECT_EQ(alert["status"], "open");
  EXPECT_EQ(alert["value"], 171.0);
  EXPECT_EQ(alert["threshold"], 150.0);
  EXPECT_EQ(alert["location"]["type"], "Point");
  EXPECT_EQ(alert["version"], 1);
  EXPECT_FALSE(alert["escalated"].get<bool>());
  EXPECT_FALSE(alert["condition_cleared"].get<bool>());
  EXPECT_TRUE(alert["acknowledged_by"].is_null());
  ASSERT_TRUE(alert["id"].is_string());
  const std::string id = alert["id"];
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?severity=critical", op_))["items"].size(), 0u);
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts/" + id, op_))["history"][0]["action"], "raised");

  // The Alert entity, and a query by type.
  json entity = WaitForAlertEntity(id, "open");
  EXPECT_EQ(entity["type"], "Alert");
  EXPECT_EQ(entity["severity"]["value"], "high");
  EXPECT_EQ(entity["alertSource"]["value"], sensor);
  EXPECT_EQ(entity["category"]["value"], "environment");
  EXPECT_EQ(entity["location"]["value"]["type"], "Point");
  auto by_type = Ngsi("GET", "/ngsi-ld/v1/entities?type=Alert");
  ASSERT_EQ(by_type.status, 200) << by_type.body;
  EXPECT_EQ(json::parse(by_type.body).size(), 1u);

  // Who may see and act.
  const std::string citizen = app_->Login("citizen");
  EXPECT_EQ(app_->Get("/api/v1/alerts", citizen).status, 403);
  EXPECT_EQ(Act(id, "acknowledge", {{"version", 1}}, citizen).status, 403);
  EXPECT_EQ(app_->Get("/api/v1/alerts").status, 401);
  EXPECT_EQ(app_->Get("/api/v1/alerts/" + id).status, 401);

  // Bad input names the field; unknown ids are 404.
  auto missing = Act(id, "acknowledge", {{"note", "x"}}, op_);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Json(missing)["field"], "version");
  auto no_assignee = Act(id, "assign", {{"version", 1}}, op_);
  EXPECT_EQ(no_assignee.status, 400);
  EXPECT_EQ(Json(no_assignee)["field"], "assignee");
  EXPECT_EQ(Json(Act(id, "comment", {{"version", 1}}, op_))["field"], "text");
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?status=burning", op_))["field"], "status");
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?limit=0", op_))["field"], "limit");
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?cursor=x", op_))["field"], "cursor");
  EXPECT_EQ(app_->Get("/api/v1/alerts/999999", op_).status, 404);
  EXPECT_EQ(app_->Get("/api/v1/alerts/abc", op_).status, 404);
  EXPECT_EQ(Act("999999", "acknowledge", {{"version", 1}}, op_).status, 404);
  EXPECT_EQ(Act(id, "explode", {{"version", 1}}, op_).status, 404);

  // The operator acknowledges it.
  auto ack = Act(id, "acknowledge", {{"version", 1}, {"note", "Đã báo Sở Nông nghiệp và Môi trường"}}, op_);
  ASSERT_EQ(ack.status, 200) << ack.body;
  json acked = Json(ack);
  EXPECT_EQ(acked["status"], "acknowledged");
  EXPECT_EQ(acked["acknowledged_by"], "operator");
  EXPECT_TRUE(acked["acknowledged_at"].is_string());
  EXPECT_EQ(acked["version"], 2);
  EXPECT_EQ(acked["history"].back()["note"], "Đã báo Sở Nông nghiệp và Môi trường");
  EXPECT_EQ(Act(id, "acknowledge", {{"version", 1}}, op_).status, 409);  // stale
  EXPECT_EQ(Act(id, "acknowledge", {{"version", 2}}, op_).status, 409);  // already acknowledged
  auto commented = Act(id, "comment", {{"version", 2}, {"text", "Khuyến cáo người dân hạn chế ra ngoài"}}, op_);
  ASSERT_EQ(commented.status, 200) << commented.body;
  EXPECT_EQ(Json(commented)["comments"][0]["by"], "operator");
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?status=acknowledged", op_))["items"].size(), 1u);
  WaitForAlertEntity(id, "acknowledged");
  const std::string admin = app_->Login("admin");
  auto resolved = Act(id, "resolve", {{"version", 3}}, admin);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?status=open", op_))["items"].size(), 0u);
  EXPECT_EQ(Json(app_->Get("/api/v1/alerts?status=resolved", op_))["items"].size(), 1u);

  // Every action is in the audit log.
  auto audit = app_->Get("/api/v1/audit?limit=50", admin);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("alert.acknowledge"), std::string::npos);
  EXPECT_NE(audit.body.find("alert.resolve"), std::string::npos);
}

TEST_P(AlertsApiTest, CityAdminsEditTheRules) {
  auto rules = app_->Get("/api/v1/alert-rules", op_);
  ASSERT_EQ(rules.status, 200) << rules.body;
  EXPECT_EQ(Json(rules)["items"].size(), 6u);
  json rule = {{"id", "pm25-above-250"},
               {"name_vi", "PM2.5 vượt 250 µg/m³"},
               {"name_en", "PM2.5 above 250 µg/m³"},
               {"entity_type", "AirQualityObserved"},
               {"attribute", "pm25"},
               {"kind", "threshold"},
               {"operator", ">"},
               {"value", 250},
               {"severity", "critical"}};
  EXPECT_EQ(app_->Post("/api/v1/alert-rules", rule.dump(), op_).status, 403);
  const std::string admin = app_->Login("admin");
  json bad = rule;
  bad["operator"] = "~";
  auto refused = app_->Post("/api/v1/alert-rules", bad.dump(), admin);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Json(refused)["field"], "operator");
  json on_alert = rule;
  on_alert["entity_type"] = "Alert";
  EXPECT_EQ(Json(app_->Post("/api/v1/alert-rules", on_alert.dump(), admin))["field"], "entity_type");
  auto made = app_->Post("/api/v1/alert-rules", rule.dump(), admin);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(app_->Post("/api/v1/alert-rules", rule.dump(), admin).status, 409);
  // The new rule takes effect at once.
  auto created = Ngsi("POST", "/ngsi-ld/v1/entities",
                      R"({"id":"urn:ngsi-ld:AirQualityObserved:x","type":"AirQualityObserved",
                          "pm25":{"type":"Property","value":300}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto page = Json(app_->Get("/api/v1/alerts?severity=critical", op_));
  ASSERT_EQ(page["items"].size(), 1u) << page.dump();
  EXPECT_EQ(page["items"][0]["rule_id"], "pm25-above-250");
  EXPECT_TRUE(page["items"][0]["location"].is_null());
  rule["value"] = 400;
  rule.erase("id");
  auto replaced = app_->Put("/api/v1/alert-rules/pm25-above-250", rule.dump(), admin);
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(Json(app_->Get("/api/v1/alert-rules/pm25-above-250", op_))["value"], 400.0);
  EXPECT_EQ(app_->Put("/api/v1/alert-rules/nope", rule.dump(), admin).status, 404);
  EXPECT_EQ(app_->Call("DELETE", "/api/v1/alert-rules/pm25-above-250", "", op_).status, 403);
  EXPECT_EQ(app_->Call("DELETE", "/api/v1/alert-rules/pm25-above-250", "", admin).status, 204);
  EXPECT_EQ(app_->Get("/api/v1/alert-rules/pm25-above-250", op_).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertsApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
