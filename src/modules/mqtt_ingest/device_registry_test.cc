#include "modules/mqtt_ingest/device_registry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/scratch_store.h"

namespace tl::mqtt_ingest {
namespace {

using nlohmann::json;

constexpr const char* kEnv = "https://smartdatamodels.org/dataModel.Environment/";

class DeviceRegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_TRUE(db_);
    auto migrations = audit::AuditLog::Migrations();
    for (auto& m : DeviceRegistry::Migrations()) migrations.push_back(m);
    auto applied = storage::ApplyMigrations(*db_, migrations);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    auto contexts = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://127.0.0.1:8080");
    ASSERT_TRUE(contexts.ok()) << contexts.status().ToString();
    registry_ = std::make_unique<DeviceRegistry>(db_.get(), &clock_, audit_.get(), *contexts);
  }

  Device Make(const std::string& id, const std::string& agency = "VP01") {
    json j = {{"id", id},
              {"entity_id", "urn:ngsi-ld:AirQualityObserved:" + id},
              {"entity_type", "AirQualityObserved"},
              {"attributes", {{"pm25", {{"name", "pm25"}, {"unitCode", "GQ"}}}, {"aqi", "airQualityIndex"}}},
              {"owner_agency", agency}};
    auto d = registry_->FromJson(j);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Device{};
  }

  audit::Entry Ctx() { return audit::Entry{"test", "", "", "", "", ""}; }

  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<DeviceRegistry> registry_;
};

TEST_P(DeviceRegistryTest, RegistersAndReadsBackExpandedNames) {
  auto stored = registry_->Register(Make("aq-001"), nullptr, Ctx());
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  auto got = registry_->Get("aq-001", nullptr);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->entity_type, std::string(kEnv) + "AirQualityObserved");
  EXPECT_EQ(got->attributes.at("pm25").name, std::string(kEnv) + "pm25");
  EXPECT_EQ(got->attributes.at("pm25").unit_code, "GQ");
  EXPECT_EQ(got->attributes.at("aqi").name, std::string(kEnv) + "airQualityIndex");
  EXPECT_EQ(got->created_at_ms, 1795000000000);
  json shown = registry_->ToJson(*got);
  EXPECT_EQ(shown["entity_type"], "AirQualityObserved") << "compacted again for display";
  EXPECT_EQ(shown["attributes"]["aqi"]["name"], "airQualityIndex");
  EXPECT_EQ(shown["topic"], "devices/aq-001/measurements");

  auto again = registry_->Register(Make("aq-001"), nullptr, Ctx());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().field(), "id");
  EXPECT_EQ(registry_->Get("nope", nullptr).status().code(), StatusCode::kNotFound);
}

TEST_P(DeviceRegistryTest, RefusesBadRegistrationsNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"({"entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"}})", "id"},
      {R"({"id":"a/b","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"}})", "id"},
      {R"({"id":"a+","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"}})", "id"},
      {R"({"id":"a","entity_id":"not a uri","entity_type":"T","attributes":{"a":"b"}})", "entity_id"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"","attributes":{"a":"b"}})", "entity_type"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{}})", "attributes"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"t":"x"}})", "attributes.t"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":7}})", "attributes.a"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":{"name":"x","unitCode":"°C"}}})",
       "attributes.a.unitCode"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":{"unitCode":"CEL"}}})",
       "attributes.a.name"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"type"}})", "attributes.a"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"},"tenant":"x y"})", "tenant"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"},"disabled":"no"})", "disabled"},
      {R"({"id":"a","entity_id":"urn:a:b","entity_type":"T","attributes":{"a":"b"},"colour":"red"})", "colour"},
  };
  for (const auto& c : cases) {
    auto d = registry_->FromJson(json::parse(c.json), "devices[2]");
    ASSERT_FALSE(d.ok()) << c.json;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().field(), std::string("devices[2].") + c.field) << c.json;
  }
}

TEST_P(DeviceRegistryTest, BatchRegistersReplacesAndLoadsMany) {
  std::vector<Device> devices;
  for (int i = 0; i < 300; ++i) devices.push_back(Make("dev-" + std::to_string(1000 + i)));
  auto counts = registry_->RegisterBatch(devices, nullptr, Ctx());
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->first, 300);
  EXPECT_EQ(counts->second, 0);
  devices[0].disabled = true;
  auto again = registry_->RegisterBatch({devices[0], Make("dev-new")}, nullptr, Ctx());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->first, 1);
  EXPECT_EQ(again->second, 1);
  auto dup = registry_->RegisterBatch({Make("x"), Make("x")}, nullptr, Ctx());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().field(), "devices[1].id");

  std::vector<std::string> ids = {"dev-1000", "dev-1299", "missing"};
  for (int i = 0; i < 600; ++i) ids.push_back("dev-" + std::to_string(1000 + i));  // more than one IN chunk
  auto many = registry_->LoadMany(ids);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(many->size(), 300u);
  EXPECT_TRUE(many->at("dev-1000").disabled);
  EXPECT_FALSE(many->at("dev-1299").disabled);

  auto page = registry_->List("", 100, nullptr);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 100u);
  EXPECT_EQ(page->front().id, "dev-1000");
  auto next = registry_->List(page->back().id, 1000, nullptr);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size(), 201u);  // 300 + dev-new - 100

  ASSERT_TRUE(registry_->Delete("dev-1000", nullptr, Ctx()).ok());
  EXPECT_EQ(registry_->Get("dev-1000", nullptr).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Delete("dev-1000", nullptr, Ctx()).code(), StatusCode::kNotFound);
}

TEST_P(DeviceRegistryTest, OperatorsActWithinTheirJurisdiction) {
  http::Principal op;
  op.role = "operator";
  op.agency = "UBND00004";
  op.agencies_in_jurisdiction = {"UBND00004"};
  // The caller's agency is the default owner.
  Device mine = Make("mine", "");
  auto stored = registry_->Register(mine, &op, Ctx());
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->owner_agency, "UBND00004");
  auto other = registry_->Register(Make("other", "VP01"), &op, Ctx());
  EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(registry_->Register(Make("citys", "VP01"), nullptr, Ctx()).ok());
  EXPECT_EQ(registry_->Get("citys", &op).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Delete("citys", &op, Ctx()).code(), StatusCode::kNotFound);
  auto listed = registry_->List("", 100, &op);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, "mine");
  EXPECT_EQ(registry_->RegisterBatch({Make("b1", "VP01")}, &op, Ctx()).status().code(), StatusCode::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeviceRegistryTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::mqtt_ingest
