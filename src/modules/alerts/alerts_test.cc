// Alerts: rule parsing and validation (pure), and on every backend each rule kind evaluated inside the
// entity's transaction (threshold against a fixed value and against the entity's own alert level,
// sustained with observedAt an hour apart, rate of change, missing data with a manual clock), one
// alert per (rule, entity), escalation, the lifecycle with versions, and the Alert entity mirror.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "modules/alerts/alerts.h"
#include "modules/alerts/rules.h"
#include "modules/audit/audit_log.h"
#include "modules/ngsild/entity.h"
#include "modules/ngsild/entity_store.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::alerts {
namespace {

using nlohmann::json;
constexpr int64_t kT0 = 1790000000000;  // 2026-09-21T14:13:20Z
constexpr int64_t kMinute = 60000;

json Valid() {
  return json::parse(R"({"id": "r1", "name_vi": "Thử", "name_en": "Test", "entity_type": "AirQualityObserved",
                         "attribute": "pm25", "kind": "threshold", "operator": ">", "value": 100, "severity": "high"})");
}

std::string FieldOf(const json& j) {
  auto r = ParseRule(j);
  return r.ok() ? "(ok)" : r.status().field();
}

TEST(RulesTest, SeedFileHasEveryKind) {
  auto rules = LoadRulesFile(testing::DataRoot() + "/rules/alert-rules.json");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  std::set<std::string> kinds;
  for (const auto& r : *rules) kinds.insert(RuleKindName(r.kind));
  EXPECT_EQ(kinds, (std::set<std::string>{"threshold", "sustained", "rate_of_change", "missing_data"}));
  EXPECT_GE(rules->size(), 6u);
  // Round trip through the JSON form.
  for (const auto& r : *rules) {
    auto again = ParseRule(RuleJson(r));
    ASSERT_TRUE(again.ok()) << r.id;
    EXPECT_EQ(RuleJson(*again), RuleJson(r));
  }
}

TEST(RulesTest, ErrorsNameTheMember) {
  EXPECT_EQ(FieldOf(Valid()), "(ok)");
  auto with = [](const char* k, json v) {
    json j = Valid();
    if (v.is_null()) {
      j.erase(k);
    } else {
      j[k] = v;
    }
    return j;
  };
  EXPECT_EQ(FieldOf(with("operator", nullptr)), "operator");
  EXPECT_EQ(FieldOf(with("operator", "=>")), "operator");
  EXPECT_EQ(FieldOf(with("kind", "often")), "kind");
  EXPECT_EQ(FieldOf(with("severity", "urgent")), "severity");
  EXPECT_EQ(FieldOf(with("entity_type", "Alert")), "entity_type");
  EXPECT_EQ(FieldOf(with("id", "Bad Id")), "id");
  EXPECT_EQ(FieldOf(with("value", "150")), "value");
  EXPECT_EQ(FieldOf(with("value", nullptr)), "value");                 // neither value nor value_attribute
  EXPECT_EQ(FieldOf(with("value_attribute", "alertLevel")), "value");  // both
  EXPECT_EQ(FieldOf(with("colour", "red")), "colour");
  EXPECT_EQ(FieldOf(with("kind", "sustained")), "duration_minutes");
  EXPECT_EQ(FieldOf(with("duration_minutes", 5)), "duration_minutes");  // threshold takes none
  EXPECT_EQ(FieldOf(with("escalate_after_minutes", -1)), "escalate_after_minutes");
  EXPECT_EQ(FieldOf(with("enabled", "yes")), "enabled");
  json missing = Valid();
  missing["kind"] = "missing_data";
  missing["duration_minutes"] = 120;
  EXPECT_EQ(FieldOf(missing), "operator");  // missing_data takes no operator
  missing.erase("operator");
  EXPECT_EQ(FieldOf(missing), "value");
  missing.erase("value");
  EXPECT_EQ(FieldOf(missing), "(ok)");
  auto file = ParseRulesFile(json{{"rules", json::array({Valid(), Valid()})}});
  EXPECT_EQ(file.status().field(), "rules[1].id");  // duplicate
}

TEST(RulesTest, CompareSeverityAndTimes) {
  EXPECT_TRUE(Compare(151, ">", 150));
  EXPECT_FALSE(Compare(150, ">", 150));
  EXPECT_TRUE(Compare(150, ">=", 150));
  EXPECT_TRUE(Compare(9.9, "<", 10));
  EXPECT_EQ(RaiseSeverity("medium"), "high");
  EXPECT_EQ(RaiseSeverity("critical"), "critical");
  EXPECT_EQ(ParseDateTime("2026-09-21T14:13:20Z"), kT0);
  EXPECT_EQ(ParseDateTime("2026-09-21T21:13:20.000+07:00"), kT0);
  EXPECT_EQ(ParseDateTime("2026-09-21T14:13:20.5Z"), kT0 + 500);
  EXPECT_FALSE(ParseDateTime("2026-09-21 13:33:20Z"));
  EXPECT_FALSE(ParseDateTime("2026-09-21T25:00:00Z"));
  EXPECT_FALSE(ParseDateTime("2026-09-21T13:33:20"));
}

// ---------------------------------------------------------------------------------------------------

class AlertsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = scratch_->Open();
    auto m = audit::AuditLog::Migrations();
    for (auto* list : {ngsild::EntityStore::Migrations, AlertService::Migrations}) {
      auto more = list();
      m.insert(m.end(), more.begin(), more.end());
    }
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    auto reg = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
    ASSERT_TRUE(reg.ok());
    reg_ = *reg;
    auto ctx = reg_->FromUrl(reg_->FindById("thanglong-smart-data-models.jsonld")->url);
    ASSERT_TRUE(ctx.ok());
    ctx_ = *ctx;
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    entities_ = std::make_unique<ngsild::EntityStore>(db_.get(), &clock_);
    alerts_ = std::make_unique<AlertService>(db_.get(), &clock_, audit_.get(), entities_.get(), reg_);
    entities_->AddListener(alerts_.get());
    auto seeded = alerts_->SeedIfNeverSeeded(
        [] { return LoadRulesFile(testing::DataRoot() + "/rules/alert-rules.json"); }, "system:seed");
    ASSERT_TRUE(seeded.ok()) << seeded.status().ToString();
    ASSERT_EQ(*seeded, 6);
  }

  // Creates or updates (append) an entity given in compact Smart Data Models terms.
  void Put(json compact) {
    auto doc = ngsild::ExpandPayload(compact, *ctx_, ngsild::PayloadKind::kEntity);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    std::string id = compact["id"];
    if (entities_->Retrieve("", id).ok()) {
      auto st = entities_->Append("", id, *doc, false);
      ASSERT_TRUE(st.ok()) << st.status().ToString();
    } else {
      auto st = entities_->Create("", *doc);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  static json Prop(json v, const std::string& observed_at = "") {
    json p = {{"type", "Property"}, {"value", std::move(v)}};
    if (!observed_at.empty()) p["observedAt"] = observed_at;
    return p;
  }
  static json Point(double lon, double lat) {
    return {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {lon, lat}}}}};
  }
  void Air(const std::string& id, double pm25, int64_t observed_at) {
    Put({{"id", id},
         {"type", "AirQualityObserved"},
         {"pm25", Prop(pm25, FormatRfc3339(observed_at))},
         {"location", Point(105.85, 21.03)}});
  }
  void Gauge(const std::string& id, double level, double alert_level, int64_t observed_at) {
    Put({{"id", id},
         {"type", "FloodMonitoring"},
         {"currentLevel", Prop(level, FormatRfc3339(observed_at))},
         {"alertLevel", Prop(alert_level)},
         {"location", Point(105.8, 21.0)}});
  }
  std::vector<Alert> All(std::optional<std::string> status = std::nullopt) {
    AlertFilter f;
    f.status = std::move(status);
    f.limit = kMaxListLimit;
    auto page = alerts_->List(f);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<Alert>{};
  }
  std::vector<Alert> Of(const std::string& rule_id) {
    std::vector<Alert> out;
    for (auto& a : All()) {
      if (a.rule_id == rule_id) out.push_back(a);
    }
    return out;
  }
  audit::Entry Actor(const std::string& who = "operator") { return {who, "", "", "127.0.0.1", "req-1", ""}; }
  ActionRequest V(int64_t version, std::string assignee = "", std::string text = "") {
    ActionRequest r;
    r.version = version;
    r.note = "ghi chú";
    r.assignee = std::move(assignee);
    r.text = std::move(text);
    return r;
  }

  ManualClock clock_{kT0};
  std::unique_ptr<testing::ScratchStore> scratch_;
  std::unique_ptr<storage::Database> db_;
  std::shared_ptr<const ngsild::ContextRegistry> reg_;
  std::shared_ptr<const ngsild::Context> ctx_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ngsild::EntityStore> entities_;
  std::unique_ptr<AlertService> alerts_;
};

TEST_P(AlertsTest, ThresholdAgainstTheEntitysAlertLevelOnePerRuleAndEntity) {
  const std::string g = "urn:ngsi-ld:FloodMonitoring:g1";
  Gauge(g, 2.0, 3.0, kT0);
  EXPECT_TRUE(Of("flood-above-alert-level").empty());
  Gauge(g, 3.2, 3.0, kT0 + 5 * kMinute);
  auto raised = Of("flood-above-alert-level");
  ASSERT_EQ(raised.size(), 1u);
  const Alert& a = raised[0];
  EXPECT_EQ(a.severity, "critical");
  EXPECT_EQ(a.status, "open");
  EXPECT_EQ(a.entity_id, g);
  EXPECT_EQ(a.entity_type, "FloodMonitoring");
  EXPECT_EQ(a.attribute, "currentLevel");
  EXPECT_DOUBLE_EQ(*a.value, 3.2);
  EXPECT_DOUBLE_EQ(*a.threshold, 3.0);
  EXPECT_EQ(a.title, "Mực nước vượt mức báo động");
  ASSERT_TRUE(a.location);
  EXPECT_EQ(json::parse(*a.location)["type"], "Point");
  EXPECT_EQ(a.history.size(), 1u);
  // Still above: the same alert, unchanged.
  Gauge(g, 3.5, 3.0, kT0 + 10 * kMinute);
  ASSERT_EQ(Of("flood-above-alert-level").size(), 1u);
  EXPECT_EQ(Of("flood-above-alert-level")[0].version, a.version);
  // Below again: recorded, not resolved.
  Gauge(g, 2.5, 3.0, kT0 + 15 * kMinute);
  auto cleared = Of("flood-above-alert-level");
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_TRUE(cleared[0].condition_cleared);
  EXPECT_EQ(cleared[0].status, "open");
  EXPECT_EQ(cleared[0].history.back()["action"], "condition_cleared");
  // Above once more before anyone resolved it: the same alert again.
  Gauge(g, 3.4, 3.0, kT0 + 20 * kMinute);
  auto back = Of("flood-above-alert-level");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_FALSE(back[0].condition_cleared);
  EXPECT_EQ(back[0].history.back()["action"], "condition_returned");
  // Resolved, then exceeded again: a new alert.
  auto resolved = alerts_->Act(Actor(), back[0].id, Action::kResolve, V(back[0].version));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Gauge(g, 3.6, 3.0, kT0 + 25 * kMinute);
  auto both = Of("flood-above-alert-level");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].status, "open");  // newest first
  EXPECT_EQ(both[1].status, "resolved");
  // A raised alert level means no alert.
  const std::string g2 = "urn:ngsi-ld:FloodMonitoring:g2";
  Gauge(g2, 3.6, 4.0, kT0);
  for (const auto& x : Of("flood-above-alert-level")) EXPECT_NE(x.entity_id, g2);
}

TEST_P(AlertsTest, OverdueDossiersOfACommuneIsAThreshold) {
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:00004"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(12)},
       {"onTimeRate", Prop(0.93)}});
  EXPECT_TRUE(Of("overdue-dossiers-commune").empty());
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:00004"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(27)}});
  auto raised = Of("overdue-dossiers-commune");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].severity, "medium");
  EXPECT_DOUBLE_EQ(*raised[0].value, 27);
  EXPECT_FALSE(raised[0].location);
}

TEST_P(AlertsTest, SustainedUsesObservedAtSoAnAcceleratedReplayTriggers) {
  const std::string s = "urn:ngsi-ld:AirQualityObserved:hk";
  // Three hourly measurements replayed within the same second of server time.
  Air(s, 180, kT0);
  Air(s, 190, kT0 + 30 * kMinute);
  EXPECT_TRUE(Of("pm25-sustained-150").empty());
  Air(s, 175, kT0 + 60 * kMinute);
  auto raised = Of("pm25-sustained-150");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].severity, "high");
  EXPECT_EQ(raised[0].title, "PM2.5 vượt 150 µg/m³ trong 1 giờ");
  EXPECT_DOUBLE_EQ(*raised[0].value, 175);
  // A dip in between restarts the clock.
  const std::string t = "urn:ngsi-ld:AirQualityObserved:bd";
  Air(t, 180, kT0);
  Air(t, 120, kT0 + 30 * kMinute);
  Air(t, 180, kT0 + 60 * kMinute);
  Air(t, 180, kT0 + 100 * kMinute);
  for (const auto& a : Of("pm25-sustained-150")) EXPECT_NE(a.entity_id, t);
  Air(t, 160, kT0 + 120 * kMinute);
  EXPECT_EQ(Of("pm25-sustained-150").size(), 2u);
  // A late, older measurement is ignored (no clearing).
  Air(s, 20, kT0 + 10 * kMinute);
  for (const auto& a : Of("pm25-sustained-150")) EXPECT_FALSE(a.condition_cleared);
}

TEST_P(AlertsTest, RateOfChange) {
  const std::string g = "urn:ngsi-ld:FloodMonitoring:r1";
  Gauge(g, 1.0, 9.0, kT0);
  Gauge(g, 1.2, 9.0, kT0 + 60 * kMinute);  // 0.2 m/h
  EXPECT_TRUE(Of("flood-rising-fast").empty());
  Gauge(g, 1.6, 9.0, kT0 + 90 * kMinute);  // 0.4 m in 30 min: 0.8 m/h
  auto raised = Of("flood-rising-fast");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_NEAR(*raised[0].value, 0.8, 1e-9);
  EXPECT_DOUBLE_EQ(*raised[0].threshold, 0.5);
  EXPECT_TRUE(Of("flood-above-alert-level").empty());
  Gauge(g, 1.7, 9.0, kT0 + 150 * kMinute);  // 0.1 m/h
  EXPECT_TRUE(Of("flood-rising-fast")[0].condition_cleared);
}

TEST_P(AlertsTest, MissingDataWithTheClock) {
  Air("urn:ngsi-ld:AirQualityObserved:s1", 40, kT0);
  Air("urn:ngsi-ld:AirQualityObserved:s2", 40, kT0);
  clock_.Advance(60 * kMinute);
  Air("urn:ngsi-ld:AirQualityObserved:s2", 45, kT0 + 60 * kMinute);
  ASSERT_EQ(*alerts_->Sweep(), 0);
  clock_.Advance(61 * kMinute);  // s1 silent for 121 minutes, s2 for 61
  ASSERT_EQ(*alerts_->Sweep(), 1);
  auto raised = Of("air-sensor-silent-2h");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].entity_id, "urn:ngsi-ld:AirQualityObserved:s1");
  EXPECT_EQ(raised[0].severity, "low");
  EXPECT_DOUBLE_EQ(*raised[0].value, 121);
  ASSERT_TRUE(raised[0].location);
  EXPECT_EQ(*alerts_->Sweep(), 0);  // one alert per (rule, entity)
  // Data again: the condition clears; silence again: the same alert's condition returns.
  Air("urn:ngsi-ld:AirQualityObserved:s1", 41, clock_.NowMillis());
  EXPECT_TRUE(Of("air-sensor-silent-2h")[0].condition_cleared);
  clock_.Advance(200 * kMinute);
  EXPECT_EQ(*alerts_->Sweep(), 2);  // s1's returns, s2's is new
  auto again = Of("air-sensor-silent-2h");
  ASSERT_EQ(again.size(), 2u);
  for (const auto& a : again) EXPECT_FALSE(a.condition_cleared);
}

TEST_P(AlertsTest, UnacknowledgedAlertsEscalateOnce) {
  const std::string x = "urn:ngsi-ld:TrafficFlowObserved:x1";
  auto traffic = [&](double speed, int64_t at) {
    Put({{"id", x}, {"type", "TrafficFlowObserved"}, {"averageVehicleSpeed", Prop(speed, FormatRfc3339(at))}});
  };
  traffic(6, kT0);
  traffic(7, kT0 + 15 * kMinute);
  auto raised = Of("traffic-speed-under-10");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].severity, "medium");
  clock_.Advance(29 * kMinute);
  EXPECT_EQ(*alerts_->Sweep(), 0);
  clock_.Advance(2 * kMinute);
  EXPECT_EQ(*alerts_->Sweep(), 1);
  auto escalated = *alerts_->Get(raised[0].id);
  EXPECT_TRUE(escalated.escalated);
  EXPECT_EQ(escalated.severity, "high");
  EXPECT_EQ(escalated.history.back()["action"], "escalated");
  EXPECT_EQ(escalated.version, raised[0].version + 1);
  clock_.Advance(60 * kMinute);
  EXPECT_EQ(*alerts_->Sweep(), 0);
  EXPECT_EQ(alerts_->Get(raised[0].id)->version, escalated.version);
  // An acknowledged alert does not escalate.
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:1"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(50)}});
  auto overdue = Of("overdue-dossiers-commune");
  ASSERT_EQ(overdue.size(), 1u);
  ASSERT_TRUE(alerts_->Act(Actor(), overdue[0].id, Action::kAcknowledge, V(overdue[0].version)).ok());
  clock_.Advance(500 * kMinute);
  EXPECT_EQ(*alerts_->Sweep(), 0);
  EXPECT_EQ(alerts_->Get(overdue[0].id)->severity, "medium");
}

TEST_P(AlertsTest, LifecycleWithVersions) {
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:2"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(30)}});
  auto a = Of("overdue-dossiers-commune").at(0);
  EXPECT_EQ(a.version, 1);
  auto ack = alerts_->Act(Actor(), a.id, Action::kAcknowledge, V(1));
  ASSERT_TRUE(ack.ok()) << ack.status().ToString();
  EXPECT_EQ(ack->status, "acknowledged");
  EXPECT_EQ(ack->acknowledged_by, "operator");
  EXPECT_TRUE(ack->acknowledged_at);
  EXPECT_EQ(ack->version, 2);
  EXPECT_EQ(alerts_->Act(Actor(), a.id, Action::kAcknowledge, V(2)).status().code(), StatusCode::kConflict);
  EXPECT_EQ(alerts_->Act(Actor(), a.id, Action::kComment, V(1, "", "cũ")).status().code(), StatusCode::kConflict);
  auto commented = alerts_->Act(Actor(), a.id, Action::kComment, V(2, "", "Đã gọi UBND phường"));
  ASSERT_TRUE(commented.ok());
  ASSERT_EQ(commented->comments.size(), 1u);
  EXPECT_EQ(commented->comments[0]["text"], "Đã gọi UBND phường");
  EXPECT_EQ(commented->comments[0]["by"], "operator");
  auto assigned = alerts_->Act(Actor("admin"), a.id, Action::kAssign, V(3, "specialist"));
  ASSERT_TRUE(assigned.ok());
  EXPECT_EQ(assigned->status, "assigned");
  EXPECT_EQ(assigned->assignee, "specialist");
  EXPECT_EQ(assigned->acknowledged_by, "operator");
  auto resolved = alerts_->Act(Actor(), a.id, Action::kResolve, V(4));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->status, "resolved");
  EXPECT_EQ(alerts_->Act(Actor(), a.id, Action::kResolve, V(5)).status().code(), StatusCode::kConflict);
  EXPECT_EQ(alerts_->Act(Actor(), a.id, Action::kComment, V(5, "", "x")).status().code(), StatusCode::kConflict);
  EXPECT_EQ(alerts_->Act(Actor(), 999999, Action::kResolve, V(1)).status().code(), StatusCode::kNotFound);
  std::vector<std::string> actions;
  for (const auto& h : resolved->history) actions.push_back(h["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"raised", "acknowledge", "comment", "assign", "resolve"}));
  // Audited.
  auto log = audit_->List(0, 50);
  ASSERT_TRUE(log.ok());
  int audited = 0;
  for (const auto& e : *log)
    audited += e.action.rfind("alert.", 0) == 0 && e.resource == "alert:" + std::to_string(a.id);
  EXPECT_EQ(audited, 4);
  // Listing by status, newest first, in pages.
  EXPECT_EQ(All("resolved").size(), 1u);
  EXPECT_TRUE(All("open").empty());
  for (int i = 0; i < 3; ++i) {
    Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:p" + std::to_string(i)},
         {"type", "AdministrativeServiceIndex"},
         {"overdueDossiers", Prop(40)}});
  }
  AlertFilter f;
  f.limit = 2;
  auto first = alerts_->List(f);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_GT(first->items[0].id, first->items[1].id);
  ASSERT_TRUE(first->next_cursor);
  f.before_id = first->next_cursor;
  auto second = alerts_->List(f);
  ASSERT_EQ(second->items.size(), 2u);
  EXPECT_FALSE(second->next_cursor);
  EXPECT_EQ(second->items[1].id, a.id);
}

TEST_P(AlertsTest, AlertsAreMirroredAsNgsiLdEntities) {
  Gauge("urn:ngsi-ld:FloodMonitoring:m1", 5, 3, kT0);
  auto a = Of("flood-above-alert-level").at(0);
  auto mirrored = alerts_->Mirror("p1");
  ASSERT_TRUE(mirrored.ok()) << mirrored.status().ToString();
  EXPECT_EQ(*mirrored, 1);
  auto e = entities_->Retrieve("", "urn:ngsi-ld:Alert:" + std::to_string(a.id));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(ngsild::TypesOf(e->doc), std::vector<std::string>{ctx_->Expand("Alert")});
  EXPECT_EQ(e->doc[ctx_->Expand("severity")]["value"], "critical");
  EXPECT_EQ(e->doc[ctx_->Expand("status")]["value"], "open");
  EXPECT_EQ(e->doc[ctx_->Expand("alertSource")]["value"], "urn:ngsi-ld:FloodMonitoring:m1");
  EXPECT_EQ(e->doc[ctx_->Expand("category")]["value"], "naturalDisaster");
  EXPECT_TRUE(e->doc.contains(std::string(ngsild::kLocationIri)));
  EXPECT_EQ(*alerts_->Mirror("p1"), 0);  // nothing new
  ASSERT_TRUE(alerts_->Act(Actor(), a.id, Action::kAcknowledge, V(a.version)).ok());
  EXPECT_EQ(*alerts_->Mirror("p2"), 0);  // p1 holds the lease
  EXPECT_EQ(*alerts_->Mirror("p1"), 1);
  e = entities_->Retrieve("", "urn:ngsi-ld:Alert:" + std::to_string(a.id));
  EXPECT_EQ(e->doc[ctx_->Expand("status")]["value"], "acknowledged");
  // The mirror raised no alert of its own, and after the lease lapses another process takes over.
  EXPECT_EQ(All().size(), 1u);
  clock_.Advance(kMirrorLeaseMs + 1);
  ASSERT_TRUE(alerts_->Act(Actor(), a.id, Action::kResolve, V(a.version + 1)).ok());
  EXPECT_EQ(*alerts_->Mirror("p2"), 1);
  e = entities_->Retrieve("", "urn:ngsi-ld:Alert:" + std::to_string(a.id));
  EXPECT_EQ(e->doc[ctx_->Expand("status")]["value"], "resolved");
}

TEST_P(AlertsTest, TheMirrorRunsAsSoonAsAnAlertIsRaisedNotAtItsNextTick) {
  alerts_->Start(std::chrono::hours(1), std::chrono::hours(1));  // no tick during the test
  Gauge("urn:ngsi-ld:FloodMonitoring:w1", 5, 3, kT0);
  auto a = Of("flood-above-alert-level").at(0);
  const std::string id = "urn:ngsi-ld:Alert:" + std::to_string(a.id);
  bool found = false;
  for (int i = 0; i < 300 && !found; ++i) {
    found = entities_->Retrieve("", id).ok();
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(found) << "the Alert entity did not appear within 3 s";
  // An action wakes it too.
  ASSERT_TRUE(alerts_->Act(Actor(), a.id, Action::kAcknowledge, V(a.version)).ok());
  std::string status;
  for (int i = 0; i < 300 && status != "acknowledged"; ++i) {
    auto e = entities_->Retrieve("", id);
    if (e.ok()) status = e->doc[ctx_->Expand("status")]["value"].get<std::string>();
    if (status != "acknowledged") std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, "acknowledged");
  alerts_->Stop();
}

TEST_P(AlertsTest, RulesAreDataInTheDatabase) {
  EXPECT_EQ(*alerts_->SeedIfNeverSeeded([] { return LoadRulesFile("/nonexistent"); }, "x"), 0);  // seeded once
  auto rules = alerts_->ListRules();
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->size(), 6u);
  auto rule = *alerts_->GetRule("overdue-dossiers-commune");
  EXPECT_EQ(alerts_->CreateRule(Actor("admin"), rule).code(), StatusCode::kAlreadyExists);
  Rule other = rule;
  other.id = "nope";
  EXPECT_EQ(alerts_->ReplaceRule(Actor("admin"), other).code(), StatusCode::kNotFound);
  EXPECT_EQ(alerts_->DeleteRule(Actor("admin"), "nope").code(), StatusCode::kNotFound);
  // Disabled: no alert. Raised threshold: follows at once.
  rule.enabled = false;
  ASSERT_TRUE(alerts_->ReplaceRule(Actor("admin"), rule).ok());
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:3"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(30)}});
  EXPECT_TRUE(Of("overdue-dossiers-commune").empty());
  rule.enabled = true;
  rule.value = 100;
  ASSERT_TRUE(alerts_->ReplaceRule(Actor("admin"), rule).ok());
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:3"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(99)}});
  EXPECT_TRUE(Of("overdue-dossiers-commune").empty());
  Put({{"id", "urn:ngsi-ld:AdministrativeServiceIndex:3"},
       {"type", "AdministrativeServiceIndex"},
       {"overdueDossiers", Prop(101)}});
  EXPECT_EQ(Of("overdue-dossiers-commune").size(), 1u);
  ASSERT_TRUE(alerts_->DeleteRule(Actor("admin"), "overdue-dossiers-commune").ok());
  EXPECT_EQ(alerts_->GetRule("overdue-dossiers-commune").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Of("overdue-dossiers-commune").size(), 1u);  // its alerts stay
}

TEST_P(AlertsTest, StateIsSharedBetweenProcesses) {
  // A second server process on the same database: its own store, service and rule cache.
  ngsild::EntityStore entities2(db_.get(), &clock_);
  AlertService alerts2(db_.get(), &clock_, audit_.get(), &entities2, reg_);
  entities2.AddListener(&alerts2);
  const std::string s = "urn:ngsi-ld:AirQualityObserved:shared";
  Air(s, 200, kT0);  // through this process
  auto doc = ngsild::ExpandPayload(
      json{{"id", s}, {"type", "AirQualityObserved"}, {"pm25", Prop(210, FormatRfc3339(kT0 + 60 * kMinute))}}, *ctx_,
      ngsild::PayloadKind::kEntity);
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(entities2.Append("", s, *doc, false).ok());  // an hour later, through the other
  auto raised = Of("pm25-sustained-150");
  ASSERT_EQ(raised.size(), 1u);
  // Both sweep after the escalation delay: escalated once.
  clock_.Advance(31 * kMinute);
  int changed = *alerts2.Sweep() + *alerts_->Sweep();
  EXPECT_EQ(changed, 1);
  auto after = *alerts_->Get(raised[0].id);
  EXPECT_EQ(after.severity, "critical");
  EXPECT_EQ(after.version, 2);
  // A rule edited through one process is followed by the other.
  auto rule = *alerts_->GetRule("pm25-sustained-150");
  rule.enabled = false;
  ASSERT_TRUE(alerts_->ReplaceRule(Actor("admin"), rule).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(kRevisionCheckMs + 50));
  auto later = ngsild::ExpandPayload(json{{"id", "urn:ngsi-ld:AirQualityObserved:other"},
                                          {"type", "AirQualityObserved"},
                                          {"pm25", Prop(300, FormatRfc3339(kT0))}},
                                     *ctx_, ngsild::PayloadKind::kEntity);
  ASSERT_TRUE(entities2.Create("", *later).ok());
  auto again = ngsild::ExpandPayload(
      json{{"id", "urn:ngsi-ld:AirQualityObserved:other"}, {"pm25", Prop(300, FormatRfc3339(kT0 + 90 * kMinute))}},
      *ctx_, ngsild::PayloadKind::kFragment, "urn:ngsi-ld:AirQualityObserved:other");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(entities2.Append("", "urn:ngsi-ld:AirQualityObserved:other", *again, false).ok());
  EXPECT_EQ(Of("pm25-sustained-150").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertsTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::alerts
