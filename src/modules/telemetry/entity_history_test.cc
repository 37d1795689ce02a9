// Entity history on both backends: numeric Properties of NGSI-LD entity writes become measurements in
// the write's own transaction (read back through the history store), nothing else does, and a write
// that rolls back leaves neither a measurement nor a series (nor a cached id that a later series
// could be confused with).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/ngsild/entity.h"
#include "modules/telemetry/entity_history.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::telemetry {
namespace {

using nlohmann::json;

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr const char* kVocab = "https://uri.etsi.org/ngsi-ld/default-context/";

std::string Iri(const std::string& term) {
  return kVocab + term;
}

// Refuses every change when `fail` is set (registered after the history, so it rolls its rows back).
class Refuser final : public ngsild::ChangeListener {
 public:
  Status OnEntityChanged(storage::Session&, const ngsild::EntityChange&) override {
    return fail ? Conflict("the second listener refuses") : Status::Ok();
  }
  bool fail = false;
};

class EntityHistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto m = ngsild::EntityStore::Migrations();
    auto t = TelemetryStore::Migrations(db_->dialect());
    m.insert(m.end(), t.begin(), t.end());
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    auto opened = TelemetryStore::Open(db_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    history_ = std::move(*opened);
    listener_ = std::make_unique<EntityHistory>(history_.get());
    entities_ = std::make_unique<ngsild::EntityStore>(db_.get(), &clock_);
    entities_->AddListener(listener_.get());
    entities_->AddListener(&refuser_);
    auto loaded = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://localhost");
    ASSERT_TRUE(loaded.ok());
    ctx_ = (*loaded)->Default();
  }
  json Expand(const std::string& text, ngsild::PayloadKind kind = ngsild::PayloadKind::kEntity) {
    auto d = ngsild::ExpandPayload(json::parse(text), *ctx_, kind);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : json::object();
  }
  std::vector<Sample> Read(const std::string& tenant, const std::string& id, const std::string& term) {
    auto r = history_->ReadRaw({tenant, id, Iri(term)}, kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Sample>();
  }

  ManualClock clock_{kT0};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<TelemetryStore> history_;
  std::unique_ptr<EntityHistory> listener_;
  std::unique_ptr<ngsild::EntityStore> entities_;
  Refuser refuser_;
  std::shared_ptr<const ngsild::Context> ctx_;
};

TEST_P(EntityHistoryTest, NumericPropertiesBecomeMeasurementsAtObservedAtOrTheChangeTime) {
  const std::string id = "urn:ngsi-ld:AirQualityObserved:hk-01";
  ASSERT_TRUE(entities_
                  ->Create("", Expand(R"({"id": ")" + id + R"(", "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 42.5, "observedAt": "2026-01-01T06:00:00+07:00",
                 "accuracy": {"type": "Property", "value": 7}},
        "name": {"type": "Property", "value": "Hoàn Kiếm"},
        "alarm": {"type": "Property", "value": true},
        "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:1"}})"))
                  .ok());
  auto pm25 = Read("", id, "pm25");
  ASSERT_EQ(pm25.size(), 1u);
  EXPECT_EQ(pm25[0].t_ms, kT0 - 3'600'000);  // 06:00 in Hà Nội is 23:00 UTC the day before
  EXPECT_EQ(pm25[0].v, 42.5);
  // Only numeric top-level Property values have history.
  auto names = history_->ListAttributes("", id);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{Iri("pm25")});

  // An update without observedAt is recorded at the change time; an untouched attribute is not.
  clock_.Advance(60'000);
  ASSERT_TRUE(entities_
                  ->Append("", id,
                           Expand(R"({"pm25": {"type": "Property", "value": 50},
      "pm10": {"type": "Property", "value": 80}})",
                                  ngsild::PayloadKind::kFragment),
                           false)
                  .ok());
  clock_.Advance(60'000);
  ASSERT_TRUE(
      entities_
          ->Update("", id, Expand(R"({"pm10": {"type": "Property", "value": 81}})", ngsild::PayloadKind::kFragment))
          .ok());
  pm25 = Read("", id, "pm25");
  ASSERT_EQ(pm25.size(), 2u);
  EXPECT_EQ(pm25[1].t_ms, kT0 + 60'000);
  EXPECT_EQ(pm25[1].v, 50);
  auto pm10 = Read("", id, "pm10");
  ASSERT_EQ(pm10.size(), 2u);
  EXPECT_EQ(pm10[0].v, 80);
  EXPECT_EQ(pm10[1].t_ms, kT0 + 120'000);
  EXPECT_EQ(pm10[1].v, 81);

  // Tenants are separate series; folding keeps everything readable.
  ASSERT_TRUE(entities_
                  ->Create("t2", Expand(R"({"id": ")" + id + R"(", "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 7}})"))
                  .ok());
  ASSERT_TRUE(history_->Maintain(clock_.NowMillis()).ok());
  EXPECT_EQ(Read("", id, "pm25").size(), 2u);
  auto other = Read("t2", id, "pm25");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].v, 7);

  // Deleting the entity keeps its history.
  ASSERT_TRUE(entities_->Delete("", id).ok());
  EXPECT_EQ(Read("", id, "pm10").size(), 2u);
}

TEST_P(EntityHistoryTest, AFailedEntityWriteLeavesNoMeasurement) {
  const std::string a = "urn:ngsi-ld:Sensor:a", b = "urn:ngsi-ld:Sensor:b";
  refuser_.fail = true;
  EXPECT_FALSE(entities_
                   ->Create("", Expand(R"({"id": ")" + a + R"(", "type": "Sensor",
      "temperature": {"type": "Property", "value": 31}})"))
                   .ok());
  EXPECT_TRUE(Read("", a, "temperature").empty());
  auto names = history_->ListAttributes("", a);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());  // the series row rolled back with the entity
  EXPECT_FALSE(entities_->Retrieve("", a).ok());

  // Another series created next may take the id the rolled-back one had: nothing may mix them up.
  refuser_.fail = false;
  ASSERT_TRUE(entities_
                  ->Create("", Expand(R"({"id": ")" + b + R"(", "type": "Sensor",
      "temperature": {"type": "Property", "value": 20}})"))
                  .ok());
  ASSERT_TRUE(entities_
                  ->Create("", Expand(R"({"id": ")" + a + R"(", "type": "Sensor",
      "temperature": {"type": "Property", "value": 32}})"))
                  .ok());
  auto ra = Read("", a, "temperature"), rb = Read("", b, "temperature");
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(ra[0].v, 32);
  EXPECT_EQ(rb[0].v, 20);

  // An update that rolls back leaves the earlier history as it was.
  auto update_temperature = [&](int value, bool refused) {
    refuser_.fail = refused;
    clock_.Advance(1000);
    auto fragment = R"({"temperature": {"type": "Property", "value": )" + std::to_string(value) + "}}";
    return entities_->Update("", a, Expand(fragment, ngsild::PayloadKind::kFragment)).ok();
  };
  EXPECT_FALSE(update_temperature(99, true));
  ra = Read("", a, "temperature");
  ASSERT_EQ(ra.size(), 1u);
  EXPECT_EQ(ra[0].v, 32);

  // Nothing of the rolled-back update is kept for the next write to append.
  ASSERT_TRUE(update_temperature(33, false));
  ra = Read("", a, "temperature");
  ASSERT_EQ(ra.size(), 2u);
  EXPECT_EQ(ra[0].v, 32);
  EXPECT_EQ(ra[1].v, 33);
  EXPECT_EQ(ra[1].t_ms, kT0 + 2000);
}

TEST_P(EntityHistoryTest, ABatchWriteAppendsItsMeasurementsOnceNotOncePerEntity) {
  // 200 entities in one batch: their readings go to the log together, a row per shard at most,
  // instead of a row per entity.
  std::vector<ngsild::BatchItem> items;
  for (int i = 0; i < 200; ++i) {
    std::string id = "urn:ngsi-ld:Sensor:batch-" + std::to_string(i);
    items.push_back({id,
                     Expand(R"({"id": ")" + id + R"(", "type": "Sensor",
      "temperature": {"type": "Property", "value": )" +
                            std::to_string(i) + R"(},
      "humidity": {"type": "Property", "value": 50}})"),
                     Status::Ok()});
  }
  auto written = entities_->BatchUpsert("", std::move(items), ngsild::UpsertMode::kUpdate);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->success.size(), 200u);
  int64_t log_rows = -1;
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                   TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM telemetry_log"));
                   log_rows = rs.rows[0].Int(0);
                   return Status::Ok();
                 }).ok());
  EXPECT_GE(log_rows, 1);
  EXPECT_LE(log_rows, 16);
  for (int i : {0, 77, 199}) {
    auto r = Read("", "urn:ngsi-ld:Sensor:batch-" + std::to_string(i), "temperature");
    ASSERT_EQ(r.size(), 1u) << i;
    EXPECT_EQ(r[0].v, i);
    EXPECT_EQ(r[0].t_ms, kT0);
    EXPECT_EQ(Read("", "urn:ngsi-ld:Sensor:batch-" + std::to_string(i), "humidity").size(), 1u);
  }
}

TEST_P(EntityHistoryTest, AnObservedAtOutOfRangeRefusesTheWriteNamingTheField) {
  Status st = entities_->Create("", Expand(R"({"id": "urn:ngsi-ld:Sensor:old", "type": "Sensor",
      "temperature": {"type": "Property", "value": 1, "observedAt": "0000-06-01T00:00:00Z"}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.field(), Iri("temperature") + ".observedAt");
  EXPECT_FALSE(entities_->Retrieve("", "urn:ngsi-ld:Sensor:old").ok());
}

TEST(NumericReadingsTest, TakesNumericPropertyInstancesWithoutDatasetId) {
  json doc = {{"id", "urn:x"},
              {"a", json::array({{{"type", "Property"}, {"value", 1}},
                                 {{"type", "Property"}, {"value", 2}, {"datasetId", "urn:d"}}})},
              {"b", {{"type", "Property"}, {"value", "3"}}},
              {"c", {{"type", "Property"}, {"value", false}}},
              {"d", {{"type", "Property"}, {"value", -2.5e-3}, {"observedAt", "2026-01-01T00:00:01.5Z"}}},
              {"e", {{"type", "Relationship"}, {"object", "urn:y"}}}};
  auto r = NumericReadings(ngsild::ChangedDoc(doc), {"a", "b", "c", "d", "e", "gone"}, 5);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].attribute, "a");
  EXPECT_EQ((*r)[0].t_ms, 5);
  EXPECT_EQ((*r)[0].v, 1);
  EXPECT_EQ((*r)[1].attribute, "d");
  EXPECT_EQ((*r)[1].t_ms, kT0 + 1500);
  EXPECT_EQ((*r)[1].v, -2.5e-3);
}

INSTANTIATE_TEST_SUITE_P(Backends, EntityHistoryTest, ::testing::ValuesIn(testing::BackendNames()));

}  // namespace
}  // namespace tl::telemetry
