// Entity documents: validation and expansion of payloads, the attribute-level merges, rendering
// (compaction, simplified form, projection, system attributes), type selections and idPattern.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "modules/ngsild/entity.h"
#include "modules/ngsild/entity_store.h"
#include "modules/ngsild/errors.h"
#include "tests/support/scratch_store.h"

namespace tl::ngsild {
namespace {

using nlohmann::json;

constexpr const char* kTs = "https://ngsi-ld-test-suite/context#";
constexpr const char* kNow = "2026-11-18T07:00:00.000Z";
constexpr const char* kLater = "2026-11-18T08:00:00.000Z";

// The terms of the ETSI test suite's context that the samples use.
constexpr const char* kSuiteContext = R"({"ts": "https://ngsi-ld-test-suite/context#", "Building": "ts:Building",
  "Vehicle": "ts:Vehicle", "name": "ts:name", "subCategory": "ts:subCategory", "airQualityLevel": "ts:airQualityLevel",
  "almostFull": "ts:almostFull", "speed": "ts:speed", "source": "ts:source", "isParked": "ts:isParked",
  "providedBy": "ts:providedBy", "brandName": "ts:brandName"})";

std::string Ts(const std::string& term) {
  return kTs + term;
}

class EntityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    reg_ = *loaded;
    ctx_ = *reg_->FromValue(json::parse(kSuiteContext));
  }
  Result<json> Expand(const std::string& text, PayloadKind kind = PayloadKind::kEntity) {
    return ExpandPayload(json::parse(text), *ctx_, kind);
  }
  // Expects a BadRequestData naming `field`.
  void ExpectRefused(const std::string& text, const std::string& field, PayloadKind kind = PayloadKind::kEntity) {
    auto r = Expand(text, kind);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_STREQ(r.status().problem_type(), kBadRequestData) << text;
    EXPECT_EQ(r.status().field(), field) << text << ": " << r.status().message();
  }
  std::shared_ptr<const ContextRegistry> reg_;
  std::shared_ptr<const Context> ctx_;
};

TEST_F(EntityTest, APayloadIsExpandedWithTheContext) {
  auto doc = Expand(R"({"id": "urn:ngsi-ld:Building:b1", "type": "Building",
    "name": {"type": "Property", "value": "Eiffel Tower"},
    "airQualityLevel": {"type": "Property", "value": 4, "unitCode": "C62", "observedAt": "2020-09-09T16:40:00.000Z",
                        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:1"}},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.8523, 21.0287]}},
    "createdAt": "2000-01-01T00:00:00Z", "@context": "ignored here"})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)["id"], "urn:ngsi-ld:Building:b1");
  EXPECT_EQ((*doc)["type"], Ts("Building"));
  EXPECT_EQ((*doc)[Ts("name")]["value"], "Eiffel Tower");
  EXPECT_EQ((*doc)[Ts("airQualityLevel")]["unitCode"], "C62");
  EXPECT_EQ((*doc)[Ts("airQualityLevel")][Ts("providedBy")]["object"], "urn:ngsi-ld:Sensor:1");
  EXPECT_TRUE(doc->contains(std::string(kLocationIri)));
  EXPECT_FALSE(doc->contains("createdAt"));
  EXPECT_FALSE(doc->contains("@context"));
  auto bounds = LocationBounds(*doc);
  ASSERT_TRUE(bounds.has_value());
  EXPECT_DOUBLE_EQ(bounds->min_lon, 105.8523);
  EXPECT_DOUBLE_EQ(bounds->max_lat, 21.0287);
}

TEST_F(EntityTest, SeveralTypesAndMultiInstanceAttributes) {
  auto doc = Expand(R"({"id": "urn:ngsi-ld:Vehicle:v1", "type": ["Vehicle", "Building", "Vehicle"],
    "speed": [{"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Property:speedometer"},
              {"type": "Property", "value": 54.5}]})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(TypesOf(*doc), (std::vector<std::string>{Ts("Vehicle"), Ts("Building")}));
  ASSERT_TRUE((*doc)[Ts("speed")].is_array());
  EXPECT_EQ((*doc)[Ts("speed")].size(), 2u);
  // A one-element array is stored as the instance itself.
  auto one = Expand(R"({"id": "urn:a:1", "type": "Vehicle", "speed": [{"type": "Property", "value": 1}]})");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE((*one)[Ts("speed")].is_object());
}

TEST_F(EntityTest, BadPayloadsNameTheField) {
  ExpectRefused(R"({"type": "Building"})", "id");
  ExpectRefused(R"({"id": "thisisaninvaliduri", "type": "Building"})", "id");
  ExpectRefused(R"({"id": "urn:a:1"})", "type");
  ExpectRefused(R"({"id": "urn:a:1", "type": "type"})", "type");  // ETSI invalid-type: a keyword alias
  ExpectRefused(R"({"id": "urn:a:1", "type": 5})", "type");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Bad Type"})", "type");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": "plain"})", "name");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"value": 1}})", "name.type");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Thing", "value": 1}})", "name.type");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property"}})", "name.value");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property", "value": null}})", "name.value");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "isParked": {"type": "Relationship", "object": "nope"}})",
                "isParked.object");
  ExpectRefused(
      R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property", "value": 1, "observedAt": "yesterday"}})",
      "name.observedAt");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property", "value": 1, "datasetId": "x"}})",
                "name.datasetId");
  ExpectRefused(
      R"({"id": "urn:a:1", "type": "Building", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [200, 10]}}})",
      "location.value.coordinates");
  ExpectRefused(
      R"({"id": "urn:a:1", "type": "Building", "speed": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]})",
      "speed[1].datasetId");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "speed": []})", "speed");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "na(me": {"type": "Property", "value": 1}})", "na(me");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "name": {"type": "Property", "value": 1, "sub": 3}})",
                "name.sub");
  ExpectRefused(R"({"id": "urn:a:1", "type": "Building", "a": {"type": "Property", "value": 1, "b": {"type": "Property",
    "value": 1, "c": {"type": "Property", "value": 1, "d": {"type": "Property", "value": 1, "e": {"type": "Property",
    "value": 1, "f": {"type": "Property", "value": 1}}}}}}})",
                "a.b.c.d.e.f");
  ExpectRefused(R"([1, 2])", "body");
  // A fragment may not name another entity.
  auto r = ExpandPayload(json::parse(R"({"id": "urn:a:2", "name": {"type": "Property", "value": 1}})"), *ctx_,
                         PayloadKind::kFragment, "urn:a:1");
  EXPECT_EQ(r.status().field(), "id");
}

TEST_F(EntityTest, RenderingCompactsProjectsSimplifiesAndHidesSystemMembers) {
  auto doc = Expand(R"({"id": "urn:ngsi-ld:Building:b1", "type": "Building",
    "name": {"type": "Property", "value": "Eiffel Tower"}, "almostFull": {"type": "Property", "value": false},
    "isParked": {"type": "Relationship", "object": "urn:x:1", "providedBy": {"type": "Relationship", "object": "urn:p:1"}},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}}})");
  ASSERT_TRUE(doc.ok());
  for (const auto& name : AttributeNames(*doc)) Stamp((*doc)[name], nullptr, kNow);
  RenderOptions plain;
  json out = Render(*doc, *ctx_, plain, 1000, 2000);
  EXPECT_EQ(out["type"], "Building");
  EXPECT_EQ(out["name"]["value"], "Eiffel Tower");
  EXPECT_EQ(out["isParked"]["providedBy"]["object"], "urn:p:1");
  EXPECT_EQ(out["location"]["value"]["type"], "Point");
  EXPECT_FALSE(out["name"].contains("createdAt"));
  EXPECT_FALSE(out.contains("createdAt"));

  RenderOptions sys;
  sys.sys_attrs = true;
  json with_sys = Render(*doc, *ctx_, sys, 0, 1795000000000);
  EXPECT_EQ(with_sys["createdAt"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(with_sys["modifiedAt"], "2026-11-18T11:06:40.000Z");
  EXPECT_EQ(with_sys["name"]["createdAt"], kNow);

  RenderOptions kv;
  kv.key_values = true;
  std::set<std::string> keep = {Ts("name"), Ts("isParked")};
  kv.attrs = &keep;
  json simple = Render(*doc, *ctx_, kv, 0, 0);
  EXPECT_EQ(simple, json::parse(R"({"id": "urn:ngsi-ld:Building:b1", "type": "Building", "name": "Eiffel Tower",
                                    "isParked": "urn:x:1"})"));
  // Under the core context alone the suite's names stay IRIs.
  json core = Render(*doc, *reg_->Default(), plain, 0, 0);
  EXPECT_EQ(core["type"], Ts("Building"));
  EXPECT_TRUE(core.contains(Ts("almostFull")));
  EXPECT_TRUE(core.contains("location"));
  std::string text = DumpEntity(json{{"zeta", 1}, {"type", "T"}, {"id", "urn:a:1"}, {"@context", "c"}});
  EXPECT_EQ(text, R"({"@context":"c","id":"urn:a:1","type":"T","zeta":1})");
}

TEST_F(EntityTest, RenderingStoredTextEqualsRenderingTheDocument) {
  auto doc = Expand(R"({"id": "urn:ngsi-ld:Vehicle:v1", "type": ["Vehicle", "Building"], "scope": ["/Hanoi/BaDinh"],
    "speed": [{"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Property:speedometer",
               "source": {"type": "Property", "value": "Speedo \"meter\" \\ \u00e9", "unitCode": "KMH"}},
              {"type": "Property", "value": 54.5, "observedAt": "2026-01-01T00:00:00Z"}],
    "isParked": {"type": "Relationship", "object": ["urn:p:1", "urn:p:2"],
                 "providedBy": {"type": "Relationship", "object": "urn:bob", "since": {"type": "Property", "value": {"a": [1, {"b": null}]}}}},
    "brandName": {"type": "LanguageProperty", "languageMap": {"vi": "Xe Đạp", "en": "Bike"}},
    "note": {"type": "Property", "value": "C:\\dir\\ \"x\" \\", "remark": {"type": "Property", "value": "\\\""}},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [105.85, 21.03]}}})");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  for (const auto& name : AttributeNames(*doc)) Stamp((*doc)[name], nullptr, kNow);
  std::string stored = doc->dump();
  // Quotes after an even run of backslashes end a string; after an odd run they are part of it.
  ASSERT_NE(stored.find(R"("C:\\dir\\ \"x\" \\")"), std::string::npos) << stored;
  std::set<std::string> some = {Ts("speed"), std::string(kLocationIri)};
  for (int variant = 0; variant < 4; ++variant) {
    RenderOptions o;
    o.sys_attrs = variant & 1;
    if (variant & 2) o.attrs = &some;
    for (const Context* ctx : {ctx_.get(), reg_->Default().get()}) {
      auto text = RenderStoredText(stored, *ctx, o, 1000, 2000, variant == 3 ? "https://example.org/ctx" : "");
      ASSERT_TRUE(text.has_value()) << variant;
      json expected = Render(*doc, *ctx, o, 1000, 2000);
      if (variant == 3) {
        expected["@context"] = "https://example.org/ctx";
        EXPECT_EQ(text->rfind(R"({"@context":"https://example.org/ctx","id":"urn:ngsi-ld:Vehicle:v1","type":)", 0), 0u);
      } else {
        EXPECT_EQ(text->rfind(R"({"id":"urn:ngsi-ld:Vehicle:v1","type":)", 0), 0u) << *text;
      }
      EXPECT_EQ(json::parse(*text), expected) << variant << " " << *text;
    }
  }
  RenderOptions kv;
  kv.key_values = true;
  EXPECT_FALSE(RenderStoredText(stored, *ctx_, kv, 0, 0, "").has_value());
  EXPECT_FALSE(RenderStoredText("{\"id\":", *ctx_, RenderOptions(), 0, 0, "").has_value());
  EXPECT_FALSE(RenderStoredText("[]", *ctx_, RenderOptions(), 0, 0, "").has_value());
}

TEST_F(EntityTest, AppendAddsAndReplacesInstancesAndKeepsCreatedAt) {
  auto doc = Expand(R"({"id": "urn:ngsi-ld:Vehicle:v1", "type": "Vehicle",
    "speed": [{"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Property:speedometer"},
              {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Property:gps"}]})");
  ASSERT_TRUE(doc.ok());
  for (const auto& name : AttributeNames(*doc)) Stamp((*doc)[name], nullptr, kNow);
  auto fragment = Expand(R"({"speed": {"type": "Property", "value": 60, "datasetId": "urn:ngsi-ld:Property:gps"},
                             "brandName": {"type": "Property", "value": "Mercedes"}, "type": "Building"})",
                         PayloadKind::kFragment);
  ASSERT_TRUE(fragment.ok()) << fragment.status().ToString();
  json kept = *doc;
  UpdateOutcome skip = AppendAttributes(kept, *fragment, true, kLater);
  EXPECT_EQ(skip.updated, std::vector<std::string>{Ts("brandName")});
  ASSERT_EQ(skip.not_updated.size(), 1u);
  EXPECT_EQ(kept[Ts("speed")][1]["value"], 54.5);

  UpdateOutcome o = AppendAttributes(*doc, *fragment, false, kLater);
  EXPECT_EQ(o.updated.size(), 2u);
  EXPECT_TRUE(o.not_updated.empty());
  const json& gps = (*doc)[Ts("speed")][1];
  EXPECT_EQ(gps["value"], 60);
  EXPECT_EQ(gps["createdAt"], kNow);
  EXPECT_EQ(gps["modifiedAt"], kLater);
  EXPECT_EQ(TypesOf(*doc), (std::vector<std::string>{Ts("Vehicle"), Ts("Building")}));
  // A new datasetId is another instance.
  auto third = Expand(R"({"speed": {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Property:radar"}})",
                      PayloadKind::kFragment);
  AppendAttributes(*doc, *third, false, kLater);
  EXPECT_EQ((*doc)[Ts("speed")].size(), 3u);
}

// The merge on the stored text gives the text of the whole merge (AppendAttributes, then dump), byte
// for byte, over random entities and fragments: attributes replaced, added before, between and after
// the stored ones, instances with and without datasetIds, types added, scope, location moved or not.
TEST_F(EntityTest, AppendingOnTheStoredTextWritesWhatTheWholeMergeWrites) {
  std::mt19937 rng(20261124);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> names = {
      Ts("airQualityLevel"), Ts("name"), Ts("speed"), Ts("source"), std::string(kLocationIri), "a", "zz",
      "https://x/Ê",         "type2"};
  auto instance = [&](bool with_dataset) {
    json i;
    switch (pick(4)) {
      case 0:
        i = {{"type", "Property"}, {"value", pick(1000) / 8.0}};
        break;
      case 1:
        i = {{"type", "Property"}, {"value", "Phường Ba Đình \"" + std::to_string(pick(9)) + "\""}};
        break;
      case 2:
        i = {{"type", "Relationship"}, {"object", "urn:ngsi-ld:Building:" + std::to_string(pick(9))}};
        break;
      default:
        i = {{"type", "GeoProperty"},
             {"value", {{"type", "Point"}, {"coordinates", {105.0 + pick(100) / 100.0, 21.0}}}}};
        break;
    }
    if (pick(3) == 0) i["observedAt"] = kNow;
    if (pick(4) == 0) i[Ts("source")] = {{"type", "Property"}, {"value", pick(5)}};
    if (with_dataset) i["datasetId"] = "urn:ngsi-ld:Dataset:" + std::to_string(pick(3));
    return i;
  };
  auto attribute = [&] {
    if (pick(3) != 0) return instance(pick(4) == 0);
    json many = json::array();
    for (int n = 1 + pick(3); n > 0; --n) many.push_back(instance(n > 1 || pick(2) == 0));
    return many;
  };
  auto dump = [](const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); };
  int compared = 0;
  for (int round = 0; round < 2000; ++round) {
    json doc = {{"id", "urn:ngsi-ld:Thing:" + std::to_string(round)}};
    doc["type"] = pick(3) == 0 ? json::array({Ts("Vehicle"), Ts("Building")}) : json(Ts("Vehicle"));
    if (pick(4) == 0) doc["scope"] = "/Hanoi";
    for (const auto& n : names) {
      if (pick(2) == 0) doc[n] = attribute();
    }
    for (const auto& n : AttributeNames(doc)) Stamp(doc[n], nullptr, kNow);
    json fragment = {{"id", doc["id"]}, {"type", pick(4) == 0 ? Ts("Car") : Ts("Vehicle")}};
    if (pick(5) == 0) fragment["scope"] = pick(2) == 0 ? "/Hanoi" : "/Hanoi/BaDinh";
    for (int n = pick(4); n > 0; --n)
      fragment[names[static_cast<size_t>(pick(static_cast<int>(names.size())))]] = attribute();

    const std::string stored = dump(doc);
    json whole = doc;
    UpdateOutcome expected = AppendAttributes(whole, fragment, false, kLater);
    auto got = AppendAttributesToText(stored, fragment, kLater);
    ASSERT_TRUE(got) << stored;
    ASSERT_EQ(got->text, dump(whole)) << "stored " << stored << "\nfragment " << fragment.dump();
    EXPECT_EQ(got->outcome.updated, expected.updated);
    EXPECT_EQ(got->outcome.members_changed, expected.members_changed);
    const std::string location(kLocationIri);
    json before_location = doc.contains(location) ? doc[location] : json();
    json after_location = whole.contains(location) ? whole[location] : json();
    EXPECT_EQ(got->location_kept, before_location == after_location);
    // The members it holds are the merged document's; `type` always among them.
    EXPECT_TRUE(got->members.contains("type"));
    for (const auto& [name, value] : got->members.items()) EXPECT_EQ(value, whole[name]) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 2000);
  // A text not in the compact form is left to the whole merge.
  json fragment = {{Ts("speed"), {{"type", "Property"}, {"value", 1}}}};
  EXPECT_FALSE(AppendAttributesToText(R"({"type": "x"})", fragment, kLater));
  EXPECT_FALSE(AppendAttributesToText(R"({"type":"x","a":1})", fragment, kLater));  // keys out of order
  EXPECT_FALSE(AppendAttributesToText(R"({"https://ngsi-ld-test-suite/context#speed":{"type":}})", fragment, kLater));
}

TEST_F(EntityTest, UpdateTouchesOnlyExistingAttributesAndInstances) {
  auto doc = Expand(R"({"id": "urn:a:1", "type": "Vehicle", "speed": {"type": "Property", "value": 55},
                        "brandName": {"type": "Property", "value": "Mercedes"}})");
  auto fragment = Expand(R"({"speed": {"type": "Property", "value": 99}, "name": {"type": "Property", "value": "x"},
                             "brandName": {"type": "Property", "value": "BMW", "datasetId": "urn:d:1"}})",
                         PayloadKind::kFragment);
  ASSERT_TRUE(doc.ok() && fragment.ok());
  UpdateOutcome o = UpdateAttributes(*doc, *fragment, kLater);
  EXPECT_EQ(o.updated, std::vector<std::string>{Ts("speed")});
  EXPECT_EQ(o.not_updated.size(), 2u);
  EXPECT_EQ((*doc)[Ts("speed")]["value"], 99);
  EXPECT_EQ((*doc)[Ts("brandName")]["value"], "Mercedes");
  EXPECT_FALSE(doc->contains(Ts("name")));
}

TEST_F(EntityTest, PartialUpdateMergesIntoTheInstanceOfTheDatasetId) {
  auto doc = Expand(R"({"id": "urn:a:1", "type": "Vehicle",
    "speed": [{"type": "Property", "value": 55, "datasetId": "urn:ngsi-ld:Property:speedometer",
               "source": {"type": "Property", "value": "Speedometer"}},
              {"type": "Property", "value": 54.5, "datasetId": "urn:ngsi-ld:Property:gps"}],
    "isParked": {"type": "Relationship", "object": "urn:p:1", "providedBy": {"type": "Relationship", "object": "urn:bob"}}})");
  ASSERT_TRUE(doc.ok());
  auto f1 = ExpandPartialInstance(json::parse(R"({"value": 56, "datasetId": "urn:ngsi-ld:Property:speedometer"})"),
                                  *ctx_, "speed");
  ASSERT_TRUE(f1.ok());
  ASSERT_TRUE(PartialUpdate(*doc, Ts("speed"), *f1, kLater, "speed").ok());
  EXPECT_EQ((*doc)[Ts("speed")][0]["value"], 56);
  EXPECT_EQ((*doc)[Ts("speed")][0][Ts("source")]["value"], "Speedometer");
  EXPECT_EQ((*doc)[Ts("speed")][1]["value"], 54.5);
  auto f2 = ExpandPartialInstance(json::parse(R"({"providedBy": {"type": "Relationship", "object": "urn:john"}})"),
                                  *ctx_, "isParked");
  ASSERT_TRUE(f2.ok());
  ASSERT_TRUE(PartialUpdate(*doc, Ts("isParked"), *f2, kLater, "isParked").ok());
  EXPECT_EQ((*doc)[Ts("isParked")][Ts("providedBy")]["object"], "urn:john");
  EXPECT_EQ((*doc)[Ts("isParked")]["object"], "urn:p:1");
  // No such instance, no such attribute, and a merge that breaks the attribute.
  EXPECT_STREQ(PartialUpdate(*doc, Ts("speed"), json::parse(R"({"value": 1})"), kLater, "speed").problem_type(),
               kResourceNotFound);
  EXPECT_STREQ(PartialUpdate(*doc, Ts("nothing"), json::parse(R"({"value": 1})"), kLater, "x").problem_type(),
               kResourceNotFound);
  EXPECT_STREQ(
      PartialUpdate(*doc, Ts("isParked"), json::parse(R"({"type": "Property"})"), kLater, "isParked").problem_type(),
      kBadRequestData);
  EXPECT_FALSE(ExpandPartialInstance(json::parse(R"({"value": null})"), *ctx_, "speed").ok());
  EXPECT_FALSE(ExpandPartialInstance(json::parse(R"({})"), *ctx_, "speed").ok());
}

TEST_F(EntityTest, DeleteAttributeByDefaultInstanceDatasetIdOrAll) {
  const char* text = R"({"id": "urn:a:1", "type": "Vehicle",
    "speed": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:gps"},
              {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:radar"}]})";
  auto doc = Expand(text);
  ASSERT_TRUE(DeleteAttribute(*doc, Ts("speed"), std::nullopt, false).ok());
  EXPECT_EQ((*doc)[Ts("speed")].size(), 2u);
  ASSERT_TRUE(DeleteAttribute(*doc, Ts("speed"), std::string("urn:ngsi-ld:Dataset:gps"), false).ok());
  EXPECT_TRUE((*doc)[Ts("speed")].is_object());
  EXPECT_STREQ(DeleteAttribute(*doc, Ts("speed"), std::nullopt, false).problem_type(), kResourceNotFound);
  auto all = Expand(text);
  ASSERT_TRUE(DeleteAttribute(*all, Ts("speed"), std::nullopt, true).ok());
  EXPECT_FALSE(all->contains(Ts("speed")));
  EXPECT_STREQ(DeleteAttribute(*all, Ts("speed"), std::nullopt, true).problem_type(), kResourceNotFound);
}

TEST_F(EntityTest, DateTimesAreRfc3339) {
  for (const char* good : {"2020-09-09T16:40:00Z", "2020-09-09T16:40:00.000Z", "2017-07-29T12:00:04+07:00"}) {
    EXPECT_TRUE(IsDateTime(good)) << good;
  }
  for (const char* bad : {"2020-09-09", "2020-13-09T16:40:00Z", "2020-09-09T16:40:00", "2020-09-09 16:40:00Z",
                          "2020-09-09T16:40:00.Z", "2020-09-09T25:00:00Z"}) {
    EXPECT_FALSE(IsDateTime(bad)) << bad;
  }
}

TEST_F(EntityTest, TypeSelectionsAndIdPatterns) {
  auto list = TypeSelection::Parse("Building,Vehicle", *ctx_);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->is_list());
  EXPECT_EQ(list->names(), (std::vector<std::string>{Ts("Building"), Ts("Vehicle")}));
  EXPECT_TRUE(list->Matches({Ts("Vehicle")}));
  auto both = TypeSelection::Parse("(Building;TouristDestination),Parking", *ctx_);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_FALSE(both->is_list());
  const std::string tourist = "https://uri.etsi.org/ngsi-ld/default-context/TouristDestination";
  const std::string parking = "https://uri.etsi.org/ngsi-ld/default-context/Parking";
  EXPECT_TRUE(both->Matches({Ts("Building"), tourist}));
  EXPECT_FALSE(both->Matches({Ts("Building")}));
  EXPECT_TRUE(both->Matches({parking}));
  auto iri = TypeSelection::Parse("https://ngsi-ld-test-suite/context#Building", *ctx_);
  ASSERT_TRUE(iri.ok());
  EXPECT_EQ(iri->names()[0], Ts("Building"));
  for (const char* bad : {"", "(Building", "Building;", "A,,B", "(A))", "type"}) {
    auto r = TypeSelection::Parse(bad, *ctx_);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_STREQ(r.status().problem_type(), kBadRequestData);
    }
  }
  auto p = IdPattern::Compile("^urn:ngsi-ld:Building:.*");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches("urn:ngsi-ld:Building:1"));
  EXPECT_FALSE(p->Matches("urn:ngsi-ld:Vehicle:1"));
  auto bad = IdPattern::Compile("(unclosed");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "idPattern");
  EXPECT_STREQ(bad.status().problem_type(), kBadRequestData);
}

}  // namespace
}  // namespace tl::ngsild
