// The NGSI-LD temporal API through the real server (all modules wired) on both backends: entity writes
// recorded as history by the change listener, read back with timerel before/after/between, lastN,
// the normalized and temporalValues representations and aggregation; back-filling past instances;
// bad parameters; access.
//
// Cases named ETSI_<number> port the ETSI NGSI-LD API conformance suite (ETSI GS CIM 014): the suite's
// vehicle payload (tests/api/ngsild-etsi/temporal/, BSD-3-Clause, (c) ETSI, see the LICENSE there) and
// its expected aggregated representations. The suite creates the history with the temporal API's
// POST /temporal/entities, which this broker does not offer; the ports write the same instances, one
// after the other, through the entity API, which records them.
// The test server keeps history for 100 years (THANGLONG_TELEMETRY_*_DAYS), so the suite's 2020 data
// is not expired by the server's maintenance while the test runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

constexpr const char* kBadRequestData = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
constexpr const char* kResourceNotFound = "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
constexpr const char* kOperationNotSupported = "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported";
constexpr const char* kCoreUrl = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld";
constexpr const char* kBase = "/ngsi-ld/v1/temporal/entities";

// One server per backend, shared by the tests (each in its own tenant), stopped after the last test.
struct Shared {
  std::unique_ptr<TestApp> app;
  std::string operator_token;
};
std::map<std::string, std::unique_ptr<Shared>>& Servers() {
  static std::map<std::string, std::unique_ptr<Shared>> servers;
  return servers;
}
class ServersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Servers().clear(); }
};
const ::testing::Environment* const kServers =
    ::testing::AddGlobalTestEnvironment(std::make_unique<ServersEnvironment>().release());

json ReadJson(const std::string& name) {
  std::ifstream in(DataRoot() + "/../tests/api/ngsild-etsi/temporal/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, false);
}

class TemporalApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto& slot = Servers()[GetParam()];
    if (!slot) {
      for (const char* key :
           {"THANGLONG_TELEMETRY_RAW_DAYS", "THANGLONG_TELEMETRY_MINUTE_DAYS", "THANGLONG_TELEMETRY_HOUR_DAYS"}) {
        ::setenv(key, "36500", 1);
      }
      slot = std::make_unique<Shared>();
      slot->app = std::make_unique<TestApp>(GetParam());
      slot->operator_token = slot->app->Login("operator");
    }
    shared_ = slot.get();
    static int counter = 0;
    tenant_ = "temporal" + std::to_string(++counter);
  }
  TestApp& app() { return *shared_->app; }

  using Headers = std::vector<std::pair<std::string, std::string>>;
  HttpResult Call(const std::string& method, const std::string& target, const std::string& body, Headers headers,
                  const std::string& token = "\x01") {
    std::string t = token == "\x01" ? shared_->operator_token : token;
    if (!t.empty()) headers.emplace_back("Authorization", "Bearer " + t);
    headers.emplace_back("NGSILD-Tenant", tenant_);
    return HttpRequest(app().port(), method, target, body, headers);
  }
  HttpResult Write(const std::string& method, const std::string& target, const json& body) {
    return Call(method, target, body.dump(), {{"Content-Type", "application/json"}});
  }
  HttpResult Get(const std::string& target, Headers headers = {}) { return Call("GET", target, "", headers); }
  json Body(const HttpResult& r) { return testing::Json(r); }
  void ExpectProblem(const HttpResult& r, int status, const char* type, const std::string& field) {
    EXPECT_EQ(r.status, status) << r.body;
    json b = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(b.is_object()) << r.body;
    EXPECT_EQ(b["type"], type) << r.body;
    if (!field.empty()) {
      EXPECT_EQ(b.value("field", ""), field) << r.body;
    }
  }

  // An air-quality station with pm25 = k at T + k·30 min (k = 0..11) and a text attribute.
  std::string Station(int n) {
    std::string id = "urn:ngsi-ld:AirQualityObserved:" + tenant_ + "-" + std::to_string(n);
    json e = {{"id", id},
              {"type", "AirQualityObserved"},
              {"name", {{"type", "Property"}, {"value", "Trạm Hoàn Kiếm"}}},
              {"pm25", {{"type", "Property"}, {"value", 0}, {"observedAt", At(0)}}}};
    EXPECT_EQ(Write("POST", "/ngsi-ld/v1/entities", e).status, 201);
    for (int k = 1; k < 12; ++k) {
      json f = {{"pm25", {{"type", "Property"}, {"value", k}, {"observedAt", At(k * 30)}}}};
      EXPECT_EQ(Write("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", f).status, 204);
    }
    return id;
  }
  // T + minutes, T = 2026-11-17T00:00:00Z (the day before the test clock).
  static std::string At(int minutes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-11-17T%02d:%02d:00Z", minutes / 60, minutes % 60);
    return buf;
  }
  static std::vector<double> Values(const json& instances) {
    std::vector<double> out;
    for (const auto& i : instances) out.push_back(i["value"].get<double>());
    return out;
  }

  Shared* shared_ = nullptr;
  std::string tenant_;
};

TEST_P(TemporalApiTest, NormalizedInstancesWithBeforeAfterBetweenAndLastN) {
  std::string id = Station(1);
  auto all = Get(std::string(kBase) + "/" + id);
  ASSERT_EQ(all.status, 200) << all.body;
  json b = Body(all);
  EXPECT_EQ(b["id"], id);
  EXPECT_EQ(b["type"], "AirQualityObserved");
  EXPECT_FALSE(b.contains("name"));  // text has no history
  ASSERT_TRUE(b["pm25"].is_array()) << b.dump();
  ASSERT_EQ(b["pm25"].size(), 12u);
  EXPECT_EQ(b["pm25"][0], json({{"type", "Property"}, {"value", 0}, {"observedAt", "2026-11-17T00:00:00Z"}}));
  EXPECT_EQ(b["pm25"][11]["observedAt"], "2026-11-17T05:30:00Z");
  EXPECT_NE(all.Header("link").find(kCoreUrl), std::string::npos);

  auto values = [&](const std::string& query) {
    auto r = Get(std::string(kBase) + "/" + id + "?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return Values(Body(r).value("pm25", json::array()));
  };
  // before: t < timeAt; after: t >= timeAt; between: timeAt <= t < endTimeAt.
  EXPECT_EQ(values("timerel=before&timeAt=2026-11-17T01:00:00Z"), (std::vector<double>{0, 1}));
  EXPECT_EQ(values("timerel=after&timeAt=2026-11-17T04:30:00Z"), (std::vector<double>{9, 10, 11}));
  EXPECT_EQ(values("timerel=between&timeAt=2026-11-17T01:00:00Z&endTimeAt=2026-11-17T02:30:00Z"),
            (std::vector<double>{2, 3, 4}));
  // Offsets are read as such (08:00+07:00 is 01:00Z).
  EXPECT_EQ(values("timerel=before&timeAt=2026-11-17T08:00:00%2B07:00"), (std::vector<double>{0, 1}));
  EXPECT_EQ(values("lastN=2"), (std::vector<double>{10, 11}));
  EXPECT_EQ(values("timerel=before&timeAt=2026-11-17T02:00:00Z&lastN=3"), (std::vector<double>{1, 2, 3}));
  EXPECT_TRUE(values("timerel=before&timeAt=2020-01-01T00:00:00Z").empty());
}

TEST_P(TemporalApiTest, TemporalValuesAndTheQueryOverEntities) {
  std::string a = Station(1), c = Station(2);
  auto r = Get(std::string(kBase) + "/" + a +
               "?options=temporalValues&timerel=between&timeAt=2026-11-17T00:00:00Z&endTimeAt=2026-11-17T01:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["pm25"],
            json({{"type", "Property"}, {"values", {{0, "2026-11-17T00:00:00Z"}, {1, "2026-11-17T00:30:00Z"}}}}));

  // The query selects entities as GET /entities does, with paging and count.
  auto q = Get(std::string(kBase) + "?type=AirQualityObserved&lastN=1&count=true&limit=1");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.Header("ngsild-results-count"), "2");
  json page = Body(q);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["id"], std::min(a, c));
  EXPECT_EQ(Values(page[0]["pm25"]), std::vector<double>{11});
  auto both = Get(std::string(kBase) + "?id=" + a + "," + c + "&timerel=after&timeAt=2026-11-17T05:30:00Z");
  ASSERT_EQ(both.status, 200) << both.body;
  ASSERT_EQ(Body(both).size(), 2u);
  for (const auto& e : Body(both)) EXPECT_EQ(Values(e["pm25"]), std::vector<double>{11});
  // attrs narrows; an attribute without history gives none; q runs over the current values.
  auto none = Get(std::string(kBase) + "?type=AirQualityObserved&attrs=name");
  ASSERT_EQ(none.status, 200) << none.body;
  for (const auto& e : Body(none)) EXPECT_FALSE(e.contains("pm25"));
  auto filtered = Get(std::string(kBase) + "?type=AirQualityObserved&q=pm25%3E10&idPattern=.*-2$");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  ASSERT_EQ(Body(filtered).size(), 1u);
  EXPECT_EQ(Body(filtered)[0]["id"], c);

  // application/ld+json: the @context in the body.
  auto ld = Get(std::string(kBase) + "/" + a + "?lastN=1", {{"Accept", "application/ld+json"}});
  ASSERT_EQ(ld.status, 200) << ld.body;
  EXPECT_EQ(ld.Header("content-type"), "application/ld+json");
  EXPECT_EQ(Body(ld)["@context"], kCoreUrl);
}

TEST_P(TemporalApiTest, AggregatedValuesOverOneHourAndTheWholeInterval) {
  std::string id = Station(1);
  auto r = Get(std::string(kBase) + "/" + id +
               "?options=aggregatedValues&aggrMethods=avg,min,max,sum,totalCount&aggrPeriodDuration=PT1H"
               "&timerel=between&timeAt=2026-11-17T00:00:00Z&endTimeAt=2026-11-17T03:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  json pm25 = Body(r)["pm25"];
  EXPECT_EQ(pm25["type"], "Property");
  // Hour h holds 2h and 2h+1.
  EXPECT_EQ(pm25["avg"], json({{0.5, "2026-11-17T00:00:00Z", "2026-11-17T01:00:00Z"},
                               {2.5, "2026-11-17T01:00:00Z", "2026-11-17T02:00:00Z"},
                               {4.5, "2026-11-17T02:00:00Z", "2026-11-17T03:00:00Z"}}));
  EXPECT_EQ(pm25["min"][1][0], 2);
  EXPECT_EQ(pm25["max"][2][0], 5);
  EXPECT_EQ(pm25["sum"][2][0], 9);
  EXPECT_EQ(pm25["totalCount"], json({{2, "2026-11-17T00:00:00Z", "2026-11-17T01:00:00Z"},
                                      {2, "2026-11-17T01:00:00Z", "2026-11-17T02:00:00Z"},
                                      {2, "2026-11-17T02:00:00Z", "2026-11-17T03:00:00Z"}}));
  // No period: the whole interval; lastN keeps the last periods.
  auto whole = Get(std::string(kBase) + "/" + id +
                   "?options=aggregatedValues&aggrMethods=sum,totalCount,avg&timerel=between"
                   "&timeAt=2026-11-17T00:00:00Z&endTimeAt=2026-11-18T00:00:00Z");
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(Body(whole)["pm25"]["sum"],
            json::array({json::array({66, "2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z"})}));
  EXPECT_EQ(Body(whole)["pm25"]["totalCount"][0][0], 12);
  EXPECT_EQ(Body(whole)["pm25"]["avg"][0][0], 5.5);
  auto last = Get(std::string(kBase) + "/" + id +
                  "?options=aggregatedValues&aggrMethods=max&aggrPeriodDuration=PT1H&lastN=1"
                  "&timerel=after&timeAt=2026-11-17T00:00:00Z");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(Body(last)["pm25"]["max"],
            json::array({json::array({11, "2026-11-17T05:00:00Z", "2026-11-17T06:00:00Z"})}));
}

// ETSI 021_17: the aggregated temporal representation of entities (type=Vehicle, timerel=after
// timeAt=2020-01-01T12:03:00Z): avg PT1H, avg PT1H of fuelLevel, avg,max PT1H, min,max P1D.
TEST_P(TemporalApiTest, ETSI_021_17_AggregatedTemporalRepresentationOfEntities) {
  json payload = ReadJson("2020-08-vehicle-temporal-representation.jsonld");
  ASSERT_TRUE(payload.is_object());
  std::string id = "urn:ngsi-ld:Vehicle:" + tenant_;
  for (size_t i = 0; i < 3; ++i) {
    json instances = {{"speed", payload["speed"][i]}, {"fuelLevel", payload["fuelLevel"][i]}};
    if (i == 0) {
      instances["id"] = id;
      instances["type"] = "Vehicle";
      ASSERT_EQ(Write("POST", "/ngsi-ld/v1/entities", instances).status, 201);
    } else {
      ASSERT_EQ(Write("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs", instances).status, 204);
    }
  }
  struct Case {
    const char* methods;
    const char* period;
    const char* attrs;
    const char* expected;
  };
  for (const Case& c :
       {Case{"avg", "PT1H", "", "vehicle-temporal-representation-aggregated-avg-PT1H.json"},
        Case{"avg", "PT1H", "fuelLevel", "vehicle-temporal-representation-aggregated-avg-PT1H-fuelLevel.json"},
        Case{"avg,max", "PT1H", "", "vehicle-temporal-representation-aggregated-avg-max-PT1H.json"},
        Case{"min,max", "P1D", "", "vehicle-temporal-representation-aggregated-min-max-P1D.json"}}) {
    std::string target = std::string(kBase) + "?type=Vehicle&options=aggregatedValues&aggrMethods=" + c.methods +
                         "&aggrPeriodDuration=" + c.period + "&timerel=after&timeAt=2020-01-01T12:03:00Z";
    if (*c.attrs) target += std::string("&attrs=") + c.attrs;
    auto r = Get(target);
    ASSERT_EQ(r.status, 200) << c.expected << ": " << r.body;
    json got = Body(r);
    ASSERT_EQ(got.size(), 1u) << r.body;
    json expected = ReadJson(c.expected);
    expected["id"] = id;
    EXPECT_EQ(got[0], expected) << c.expected;
  }
}

TEST_P(TemporalApiTest, BadParametersAreProblemsNamingTheParameter) {
  std::string id = Station(1);
  const std::string one = std::string(kBase) + "/" + id + "?";
  ExpectProblem(Get(one + "timerel=during&timeAt=2026-11-17T00:00:00Z"), 400, kBadRequestData, "timerel");
  ExpectProblem(Get(one + "timerel=before"), 400, kBadRequestData, "timeAt");
  ExpectProblem(Get(one + "timeAt=2026-11-17T00:00:00Z"), 400, kBadRequestData, "timerel");
  ExpectProblem(Get(one + "timerel=between&timeAt=2026-11-17T00:00:00Z"), 400, kBadRequestData, "endTimeAt");
  ExpectProblem(Get(one + "timerel=between&timeAt=2026-11-17T00:00:00Z&endTimeAt=2026-11-16T00:00:00Z"), 400,
                kBadRequestData, "endTimeAt");
  ExpectProblem(Get(one + "timerel=after&timeAt=yesterday"), 400, kBadRequestData, "timeAt");
  ExpectProblem(Get(one + "lastN=0"), 400, kBadRequestData, "lastN");
  ExpectProblem(Get(one + "lastN=1.5"), 400, kBadRequestData, "lastN");
  ExpectProblem(Get(one + "timeproperty=modifiedAt"), 400, kBadRequestData, "timeproperty");
  ExpectProblem(Get(one + "options=bogus"), 400, kBadRequestData, "options");
  ExpectProblem(Get(one + "options=aggregatedValues"), 400, kBadRequestData, "aggrMethods");
  ExpectProblem(Get(one + "options=aggregatedValues&aggrMethods=median"), 400, kBadRequestData, "aggrMethods");
  ExpectProblem(Get(one + "options=aggregatedValues&aggrMethods=avg&aggrPeriodDuration=1H"), 400, kBadRequestData,
                "aggrPeriodDuration");
  ExpectProblem(Get(one + "options=aggregatedValues&aggrMethods=distinctCount"), 422, kOperationNotSupported,
                "aggrMethods");
  ExpectProblem(Get(one + "options=temporalValues,aggregatedValues&aggrMethods=avg"), 400, kBadRequestData, "options");
  ExpectProblem(Get(std::string(kBase) + "/not-a-uri"), 400, kBadRequestData, "entityId");
  ExpectProblem(Get(std::string(kBase) + "/urn:ngsi-ld:AirQualityObserved:nobody"), 404, kResourceNotFound, "");
  ExpectProblem(Get(std::string(kBase) + "?timerel=after&timeAt=2026-11-17T00:00:00Z"), 400, kBadRequestData, "type");
  ExpectProblem(Get(std::string(kBase) + "?type=AirQualityObserved&limit=5000"), 400, kBadRequestData, "limit");
}

TEST_P(TemporalApiTest, PastInstancesAreAddedForBackFilling) {
  std::string id = Station(1);
  const std::string attrs = std::string(kBase) + "/" + id + "/attrs";
  json past = {{"pm25",
                {{{"type", "Property"}, {"value", 101}, {"observedAt", "2026-11-16T00:00:00Z"}},
                 {{"type", "Property"}, {"value", 102.5}, {"observedAt", "2026-11-16T08:00:00+07:00"}}}}};
  auto added = Write("POST", attrs, past);
  ASSERT_EQ(added.status, 204) << added.body;
  auto r = Get(std::string(kBase) + "/" + id + "?timerel=before&timeAt=2026-11-17T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Values(Body(r)["pm25"]), (std::vector<double>{101, 102.5}));
  EXPECT_EQ(Body(r)["pm25"][1]["observedAt"], "2026-11-16T01:00:00Z");
  // The entity itself keeps its current value.
  auto now = Get("/ngsi-ld/v1/entities/" + id);
  EXPECT_EQ(Body(now)["pm25"]["value"], 11);

  // All or nothing, each refusal naming the instance.
  json bad = {{"pm25",
               {{{"type", "Property"}, {"value", 1}, {"observedAt", "2026-11-15T00:00:00Z"}},
                {{"type", "Property"}, {"value", "high"}, {"observedAt", "2026-11-15T01:00:00Z"}}}}};
  ExpectProblem(Write("POST", attrs, bad), 400, kBadRequestData, "pm25[1].value");
  bad["pm25"][1] = {{"type", "Property"}, {"value", 2}};
  ExpectProblem(Write("POST", attrs, bad), 400, kBadRequestData, "pm25[1].observedAt");
  bad["pm25"][1] = {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Device:1"}};
  ExpectProblem(Write("POST", attrs, bad), 400, kBadRequestData, "pm25[1].type");
  ExpectProblem(Write("POST", attrs, json::object()), 400, kBadRequestData, "body");
  ExpectProblem(Call("POST", attrs, "{", {{"Content-Type", "application/json"}}), 400,
                "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest", "body");
  auto before = Get(std::string(kBase) + "/" + id + "?timerel=before&timeAt=2026-11-16T00:00:00Z");
  EXPECT_FALSE(Body(before).contains("pm25")) << before.body;
  ExpectProblem(Write("POST", std::string(kBase) + "/urn:ngsi-ld:AirQualityObserved:nobody/attrs", past), 404,
                kResourceNotFound, "");
  auto reader = app().app().identity().CreateApiKey(identity::Actor::Cli("test"), "reader", "VP01", {"ngsild.read"});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(Call("POST", attrs, past.dump(), {{"Content-Type", "application/json"}}, reader->second).status, 403);
  EXPECT_EQ(Call("POST", attrs, past.dump(), {{"Content-Type", "application/json"}}, "").status, 401);
}

TEST_P(TemporalApiTest, AccessAsTheEntityRoutes) {
  std::string id = Station(1);
  const std::string one = std::string(kBase) + "/" + id;
  const std::string query = std::string(kBase) + "?type=AirQualityObserved";
  EXPECT_EQ(Call("GET", one, "", {}, "").status, 401);
  EXPECT_EQ(Call("GET", query, "", {}, "").status, 401);
  EXPECT_EQ(Call("GET", one, "", {}, app().Login("citizen")).status, 403);
  EXPECT_EQ(Call("GET", query, "", {}, app().Login("desk")).status, 403);
  EXPECT_EQ(Call("GET", one, "", {}, app().Login("admin")).status, 200);
  auto key = [&](std::vector<std::string> scopes) {
    auto made = app().app().identity().CreateApiKey(identity::Actor::Cli("test"), "history reader", "VP01", scopes);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? made->second : std::string();
  };
  EXPECT_EQ(Call("GET", one, "", {}, key({"ngsild.read"})).status, 200);
  EXPECT_EQ(Call("GET", query, "", {}, key({"ngsild.write"})).status, 200);
  EXPECT_EQ(Call("GET", one, "", {}, key({"registry.read"})).status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, TemporalApiTest, ::testing::ValuesIn(BackendNames()));

}  // namespace
}  // namespace tl::testing
