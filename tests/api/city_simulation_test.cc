// The city simulator feeding a real server through the NGSI-LD API (src/app/city_simulation.h), and
// the one-stop shop's service index published as NGSI-LD entities (src/app/service_index_feed.h), on
// both backends.
#include <gtest/gtest.h>

#include <sstream>

#include "app/city_simulation.h"
#include "core/civil_date.h"
#include "tests/api/small_city.h"
#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

constexpr const char* kSdmPath = "/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld";

int64_t Local(int y, int mo, int d, int h, int mi = 0) {
  return (DaysSinceEpoch({y, mo, d}) * 86400 + h * 3600 + mi * 60 - 7 * 3600) * 1000LL;
}

std::string Key(TestApp& t, std::vector<std::string> scopes) {
  auto made = t.app().identity().CreateApiKey(identity::Actor::Cli("test"), "simulator", "VP01", scopes);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? made->second : std::string();
}

HttpResult GetEntity(TestApp& t, const std::string& id, const std::string& key) {
  std::string link = "<http://127.0.0.1:" + std::to_string(t.port()) + kSdmPath +
                     ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
  return HttpRequest(t.port(), "GET", "/ngsi-ld/v1/entities/" + id, "",
                     {{"Authorization", "Bearer " + key}, {"Link", link}});
}

class CitySimulationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CitySimulationTest, FeedsEverySensorThroughTheNgsiLdApi) {
  TestApp t(GetParam());
  std::string key = Key(t, {"ngsild.read", "ngsild.write"});
  citysim::CityModel city = SmallCity();
  // Batches of 3 entities, so entity lists and steps are split over many requests.
  auto feed = app::NgsiLdHttpFeed("http://127.0.0.1:" + std::to_string(t.port()) + "/", key, 3);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  auto o = FastRun(Local(2026, 11, 23, 17, 0), 2 * 3'600'000);
  auto report = Play(city, **feed, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entities, 16);
  // Two hours: air hourly (3 × 2), traffic, gauges and parkings every 5 minutes ((4 + 2 + 2) × 24),
  // and each light's switch-on at dusk.
  EXPECT_EQ(report->observations, 6 + 8 * 24 + 5);
  EXPECT_EQ(report->simulated_ms, 2 * 3'600'000);

  int64_t end = o.start_ms + *o.duration_ms;
  auto traffic = GetEntity(t, "urn:ngsi-ld:TrafficFlowObserved:HN-TF-0001", key);
  ASSERT_EQ(traffic.status, 200) << traffic.body;
  json tf = Json(traffic);
  EXPECT_EQ(tf["type"], "TrafficFlowObserved");
  EXPECT_DOUBLE_EQ(tf["averageVehicleSpeed"]["value"].get<double>(), city.Traffic(0, end).average_speed_kmh);
  EXPECT_EQ(tf["averageVehicleSpeed"]["observedAt"], FormatRfc3339(end));
  EXPECT_EQ(tf["averageVehicleSpeed"]["unitCode"], "KMH");
  EXPECT_EQ(tf["location"]["value"]["type"], "Point");
  auto air = GetEntity(t, "urn:ngsi-ld:AirQualityObserved:HN-AQ-US-EMBASSY", key);
  ASSERT_EQ(air.status, 200) << air.body;
  EXPECT_DOUBLE_EQ(Json(air)["pm25"]["value"].get<double>(), city.Pm25(0, end));
  auto light = GetEntity(t, "urn:ngsi-ld:Streetlight:HN-SL-00001", key);
  ASSERT_EQ(light.status, 200) << light.body;
  EXPECT_EQ(Json(light)["powerState"]["value"], "on");
  auto parking = GetEntity(t, "urn:ngsi-ld:OffStreetParking:HN-PK-001", key);
  ASSERT_EQ(parking.status, 200) << parking.body;
  json pk = Json(parking);
  EXPECT_EQ(pk["availableSpotNumber"]["value"].get<int>() + pk["occupiedSpotNumber"]["value"].get<int>(),
            pk["totalSpotNumber"]["value"].get<int>());
}

TEST_P(CitySimulationTest, StopsOnAKeyWithoutTheWriteScope) {
  TestApp t(GetParam());
  citysim::CityModel city = SmallCity();
  auto feed = app::NgsiLdHttpFeed("http://127.0.0.1:" + std::to_string(t.port()), Key(t, {"ngsild.read"}), 100);
  ASSERT_TRUE(feed.ok());
  auto o = FastRun(Local(2026, 11, 23, 8, 0), 600'000);
  auto report = Play(city, **feed, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kPermissionDenied) << report.status().ToString();
  // Nothing was written.
  auto none = GetEntity(t, "urn:ngsi-ld:TrafficFlowObserved:HN-TF-0001", Key(t, {"ngsild.read"}));
  EXPECT_EQ(none.status, 404);
}

TEST_P(CitySimulationTest, RefusesBadOptions) {
  EXPECT_EQ(app::NgsiLdHttpFeed("ftp://x", "k", 10).status().field(), "url");
  EXPECT_EQ(app::NgsiLdHttpFeed("http://127.0.0.1:1", "", 10).status().field(), "api_key");
  EXPECT_EQ(app::NgsiLdHttpFeed("http://127.0.0.1:1", "k", 0).status().field(), "batch");
  // An unreachable platform is an error, not a hang or a crash.
  citysim::CityModel city = SmallCity();
  auto feed = app::NgsiLdHttpFeed("http://127.0.0.1:1", "k", 10);
  ASSERT_TRUE(feed.ok());
  auto o = FastRun(Local(2026, 11, 23, 8, 0), 600'000);
  auto report = Play(city, **feed, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  o.speed = -1;
  EXPECT_EQ(Play(city, **feed, o).status().field(), "speed");
}

TEST_P(CitySimulationTest, ServiceIndexIsPublishedAsOneEntityPerCommune) {
  TestApp t(GetParam());
  auto written = t.app().service_index_feed().Refresh();
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 126);
  std::string op = t.Login("operator");
  auto list = t.Get("/ngsi-ld/v1/entities?type=AdministrativeServiceIndex&count=true&limit=5", op);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Header("ngsild-results-count"), "126");
  auto one = t.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AdministrativeServiceIndex:00004", op);
  ASSERT_EQ(one.status, 200) << one.body;
  json e = Json(one);
  EXPECT_EQ(e["name"]["value"], "Phường Ba Đình");
  EXPECT_EQ(e["administrativeUnitCode"]["value"], "00004");
  EXPECT_EQ(e["overdueDossiers"]["value"], 0);
  EXPECT_EQ(e["receivedDossiers"]["value"], 0);
  EXPECT_EQ(e["overdueDossiers"]["observedAt"], FormatRfc3339(t.clock().NowMillis()));
  EXPECT_FALSE(e.contains("onTimeRate"));  // nothing resolved yet
  // A second refresh updates in place.
  t.clock().Advance(60'000);
  ASSERT_TRUE(t.app().service_index_feed().Refresh().ok());
  e = Json(t.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AdministrativeServiceIndex:00004", op));
  EXPECT_EQ(e["overdueDossiers"]["observedAt"], FormatRfc3339(t.clock().NowMillis()));
}

INSTANTIATE_TEST_SUITE_P(Backends, CitySimulationTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
