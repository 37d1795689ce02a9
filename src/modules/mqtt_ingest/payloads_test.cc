#include "modules/mqtt_ingest/payloads.h"

#include <gtest/gtest.h>

#include "tests/support/scratch_store.h"

namespace tl::mqtt_ingest {
namespace {

using nlohmann::json;

constexpr const char* kSdm = "https://smartdatamodels.org/dataModel.Environment/";

std::shared_ptr<const ngsild::ContextRegistry> Contexts() {
  auto r = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://127.0.0.1:8080");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

std::shared_ptr<const ngsild::Context> SmartDataModels(const ngsild::ContextRegistry& reg) {
  auto h = reg.FindById("thanglong-smart-data-models.jsonld");
  EXPECT_NE(h, nullptr);
  auto c = reg.FromUrl(h->url);
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(MqttTopics, RecognisesTheDocumentedTopics) {
  auto t = ParseTopic("ngsi-ld/v1/entities");
  EXPECT_EQ(t.kind, TopicKind::kEntities);
  EXPECT_EQ(t.tenant, "");
  t = ParseTopic("ngsi-ld/v1/hanoi.env/entities");
  EXPECT_EQ(t.kind, TopicKind::kEntities);
  EXPECT_EQ(t.tenant, "hanoi.env");
  t = ParseTopic("devices/aq-001/measurements");
  EXPECT_EQ(t.kind, TopicKind::kMeasurements);
  EXPECT_EQ(t.device_id, "aq-001");
  for (const char* bad : {"devices//measurements", "devices/a/b/measurements", "ngsi-ld/v1/a b/entities",
                          "ngsi-ld/v2/entities", "devices/aq-001/state", "", "ngsi-ld/v1//entities"}) {
    EXPECT_EQ(ParseTopic(bad).kind, TopicKind::kUnknown) << bad;
  }
}

TEST(MqttPayloads, RefusesHugeAndInvalidUtf8Payloads) {
  EXPECT_FALSE(CheckPayload(R"({"pm25": 1})").has_value());
  auto big = CheckPayload(std::string(kMaxPayloadBytes + 1, ' '));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->reason, "too_large");
  auto utf8 = CheckPayload(std::string("{\"name\":\"\xC3\x28\"}"));
  ASSERT_TRUE(utf8.has_value());
  EXPECT_EQ(utf8->reason, "utf8");
}

TEST(MqttPayloads, ParsesDateTimes) {
  EXPECT_EQ(ParseDateTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseDateTime("2026-11-18T11:06:40Z"), 1795000000000);
  EXPECT_EQ(ParseDateTime("2026-11-18T18:06:40.250+07:00"), 1795000000250);
  EXPECT_EQ(ParseDateTime("2024-02-29T00:00:00.1Z"), 1709164800100);
  for (const char* bad : {"2026-11-18", "2026-11-18T07:06:40", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                          "2026-11-18T07:06:40+7", "2026-11-18T07:06:40Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseDateTime(bad).has_value()) << bad;
  }
}

TEST(MqttPayloads, ParsesCompactMeasurements) {
  auto one = ParseMeasurements(R"({"t":"2026-11-18T11:06:40Z","pm25":41.5,"status":"ok","on":true})", 5);
  ASSERT_TRUE(one.ok()) << one.error.detail;
  ASSERT_EQ(one.value->size(), 1u);
  EXPECT_EQ((*one.value)[0].at_ms, 1795000000000);
  ASSERT_EQ((*one.value)[0].values.size(), 3u);
  EXPECT_EQ((*one.value)[0].values[0].first, "on");  // JSON object members come sorted
  auto many = ParseMeasurements(R"([{"t":1795000000000,"pm25":1},{"pm25":2}])", 77);
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many.value->size(), 2u);
  EXPECT_EQ((*many.value)[0].at_ms, 1795000000000);
  EXPECT_EQ((*many.value)[1].at_ms, 77) << "without t, the time of receipt";
}

TEST(MqttPayloads, RefusesMalformedMeasurementsNamingTheField) {
  struct Case {
    const char* payload;
    const char* reason;
    const char* detail_has;
  };
  const Case cases[] = {
      {"{not json", "json", ""},
      {"42", "format", ""},
      {"[]", "format", ""},
      {R"({"t":"2026-11-18T07:06:40Z"})", "format", "no measured value"},
      {R"({"t":"last tuesday","pm25":1})", "format", "t"},
      {R"({"t":-5,"pm25":1})", "format", "t"},
      {R"({"t":1.5,"pm25":1})", "format", "t"},
      {R"({"pm25":null})", "format", "pm25"},
      {R"({"pm25":{"v":1}})", "format", "pm25"},
      {R"({"pm25":[1,2]})", "format", "pm25"},
      {R"({"bad name":1})", "format", "bad name"},
      {R"([{"pm25":1},"x"])", "format", "[1]"},
  };
  for (const auto& c : cases) {
    auto p = ParseMeasurements(c.payload, 0);
    ASSERT_FALSE(p.ok()) << c.payload;
    EXPECT_EQ(p.error.reason, c.reason) << c.payload;
    EXPECT_NE(p.error.detail.find(c.detail_has), std::string::npos) << c.payload << " → " << p.error.detail;
  }
  std::string many = "[";
  for (size_t i = 0; i <= kMaxMeasurements; ++i) many += std::string(i ? "," : "") + R"({"a":1})";
  many += "]";
  EXPECT_EQ(ParseMeasurements(many, 0).error.reason, "format");
}

TEST(MqttPayloads, MapsMeasurementsThroughTheDevice) {
  Device d;
  d.id = "aq-001";
  d.entity_id = "urn:ngsi-ld:AirQualityObserved:hn-001";
  d.entity_type = std::string(kSdm) + "AirQualityObserved";
  d.attributes["pm25"] = {std::string(kSdm) + "pm25", "GQ"};
  d.attributes["aqi"] = {std::string(kSdm) + "airQualityIndex", ""};
  auto ms = ParseMeasurements(R"([{"t":1795000000000,"pm25":41.5,"aqi":87},{"t":1795000060000,"pm25":40}])", 0);
  ASSERT_TRUE(ms.ok());
  auto items = MeasurementItems(d, *ms.value);
  ASSERT_TRUE(items.ok()) << items.error.detail;
  ASSERT_EQ(items.value->size(), 2u);
  const json& doc = (*items.value)[0].doc;
  EXPECT_EQ((*items.value)[0].id, d.entity_id);
  EXPECT_EQ(doc["type"], d.entity_type);
  const json& pm = doc[std::string(kSdm) + "pm25"];
  EXPECT_EQ(pm["type"], "Property");
  EXPECT_EQ(pm["value"], 41.5);
  EXPECT_EQ(pm["unitCode"], "GQ");
  EXPECT_EQ(pm["observedAt"], "2026-11-18T11:06:40.000Z");
  EXPECT_FALSE(doc[std::string(kSdm) + "airQualityIndex"].contains("unitCode"));
  EXPECT_EQ((*items.value)[1].doc[std::string(kSdm) + "pm25"]["observedAt"], "2026-11-18T11:07:40.000Z");

  auto unmapped = ParseMeasurements(R"({"pm25":1,"noise":60})", 0);
  auto refused = MeasurementItems(d, *unmapped.value);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error.reason, "unknown_attribute");
  EXPECT_NE(refused.error.detail.find("noise"), std::string::npos);
}

TEST(MqttPayloads, NormalizesConciseEntities) {
  json concise = json::parse(R"({
    "id": "urn:ngsi-ld:X:1", "type": "X",
    "pm25": 41,
    "name": {"value": "Hoàn Kiếm"},
    "refDevice": {"object": "urn:ngsi-ld:Device:1"},
    "location": {"type": "Point", "coordinates": [105.85, 21.03]},
    "geo2": {"value": {"type": "Point", "coordinates": [105.8, 21.0]}},
    "tags": ["a", "b"],
    "meta": {"k": 1},
    "full": {"type": "Property", "value": 3, "accuracy": 0.5}
  })");
  json n = NormalizeConcise(concise);
  EXPECT_EQ(n["pm25"], json::parse(R"({"type":"Property","value":41})"));
  EXPECT_EQ(n["name"]["type"], "Property");
  EXPECT_EQ(n["refDevice"]["type"], "Relationship");
  EXPECT_EQ(n["location"]["type"], "GeoProperty");
  EXPECT_EQ(n["location"]["value"]["type"], "Point");
  EXPECT_EQ(n["geo2"]["type"], "GeoProperty");
  EXPECT_EQ(n["tags"], json::parse(R"({"type":"Property","value":["a","b"]})"));
  EXPECT_EQ(n["meta"], json::parse(R"({"type":"Property","value":{"k":1}})"));
  EXPECT_EQ(n["full"]["accuracy"], json::parse(R"({"type":"Property","value":0.5})"));
  EXPECT_EQ(n["id"], "urn:ngsi-ld:X:1");
  EXPECT_EQ(n["type"], "X");
}

TEST(MqttPayloads, ParsesNgsiLdEntitiesWithTheSmartDataModelsContext) {
  auto reg = Contexts();
  ASSERT_TRUE(reg);
  auto sdm = SmartDataModels(*reg);
  auto p = ParseEntities(R"([
      {"id":"urn:ngsi-ld:AirQualityObserved:hn-002","type":"AirQualityObserved","pm25":{"type":"Property","value":12}},
      {"id":"urn:ngsi-ld:AirQualityObserved:hn-003","type":"AirQualityObserved","pm25":13,
       "location":{"type":"Point","coordinates":[105.85,21.03]}},
      {"id":"not a uri","type":"AirQualityObserved"},
      {"id":"urn:ngsi-ld:AirQualityObserved:hn-004"},
      "nope",
      {"id":"urn:ngsi-ld:X:5","type":"X","@context":"https://example.org/unknown.jsonld"},
      {"id":"urn:ngsi-ld:X:6","type":"X","@context":{"X":"https://example.org/X"},"pm25":1}
    ])",
                         *reg, *sdm);
  ASSERT_TRUE(p.ok()) << p.error.detail;
  const auto& items = *p.value;
  ASSERT_EQ(items.size(), 7u);
  ASSERT_TRUE(items[0].status.ok()) << items[0].status.ToString();
  EXPECT_EQ(items[0].doc["type"], std::string(kSdm) + "AirQualityObserved");
  EXPECT_EQ(items[0].doc[std::string(kSdm) + "pm25"]["value"], 12);
  ASSERT_TRUE(items[1].status.ok()) << items[1].status.ToString();
  EXPECT_EQ(items[1].doc[std::string(kSdm) + "pm25"]["value"], 13);
  EXPECT_EQ(items[1].doc["https://uri.etsi.org/ngsi-ld/location"]["type"], "GeoProperty");
  EXPECT_FALSE(items[2].status.ok());
  EXPECT_EQ(items[2].status.field(), "[2].id");
  EXPECT_FALSE(items[3].status.ok());
  EXPECT_EQ(items[3].status.field(), "[3].type");
  EXPECT_FALSE(items[4].status.ok());
  EXPECT_FALSE(items[5].status.ok());
  EXPECT_EQ(items[5].status.field(), "[5].@context");
  ASSERT_TRUE(items[6].status.ok()) << items[6].status.ToString();
  EXPECT_EQ(items[6].doc["type"], "https://example.org/X");

  EXPECT_EQ(ParseEntities("{oops", *reg, *sdm).error.reason, "json");
  EXPECT_EQ(ParseEntities("[]", *reg, *sdm).error.reason, "format");
  EXPECT_EQ(ParseEntities("7", *reg, *sdm).error.reason, "format");
}

}  // namespace
}  // namespace tl::mqtt_ingest
