// The Publisher and the Ingester against a real Mosquitto broker (THANGLONG_TEST_MQTT_URL, started by
// scripts/test.sh with scripts/mosquitto.sh) and the entity store on both backends.
#include <gtest/gtest.h>

#include <filesystem>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/crypto.h"
#include "modules/mqtt_ingest/journal.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"
#include "tests/support/scratch_store.h"

namespace tl::mqtt_ingest {
namespace {

using nlohmann::json;

constexpr const char* kEnv = "https://smartdatamodels.org/dataModel.Environment/";

std::string BrokerUrl() {
  const char* url = std::getenv("THANGLONG_TEST_MQTT_URL");
  if (!url || !*url) {
    ADD_FAILURE() << "THANGLONG_TEST_MQTT_URL is not set: run the suite with scripts/test.sh, which starts a "
                     "Mosquitto broker (scripts/mosquitto.sh start DIR prints the URL)";
    return "";
  }
  return url;
}

TEST(MqttUrl, Parses) {
  auto u = MqttUrl::Parse("mqtt://127.0.0.1:18830");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 18830);
  EXPECT_EQ(MqttUrl::Parse("tcp://broker/")->port, 1883);
  for (const char* bad : {"http://x:1", "mqtt://", "mqtt://x:0", "mqtt://x:99999", "mqtt://u@x:1", "x:1"}) {
    auto r = MqttUrl::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "mqtt_url");
  }
}

TEST(Publisher, FailsClearlyWithoutABroker) {
  auto pub = Publisher::Connect("mqtt://127.0.0.1:1", "", std::chrono::milliseconds(500));
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.status().code(), StatusCode::kUnavailable);
}

class IngesterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = BrokerUrl();
    ASSERT_FALSE(url_.empty());
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_TRUE(db_);
    auto migrations = audit::AuditLog::Migrations();
    for (auto& m : DeviceRegistry::Migrations()) migrations.push_back(m);
    for (auto& m : ngsild::EntityStore::Migrations()) migrations.push_back(m);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, migrations).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    auto contexts = ngsild::ContextRegistry::Load(testing::DataRoot() + "/ngsi-ld", "http://127.0.0.1:8080");
    ASSERT_TRUE(contexts.ok());
    contexts_ = *contexts;
    registry_ = std::make_unique<DeviceRegistry>(db_.get(), &clock_, audit_.get(), contexts_);
    entities_ = std::make_unique<ngsild::EntityStore>(db_.get(), &clock_);
    token_ = crypto::RandomToken(9);
    for (auto& c : token_) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = 'x';
    }
  }

  std::unique_ptr<Ingester> MakeIngester(const std::string& journal_dir = "") {
    IngesterOptions o;
    o.journal_dir = journal_dir;
    o.url = url_;
    o.client_id = "test-ingester-" + token_;
    o.group = "test-" + token_;
    o.topic_prefix = Prefix();  // tests running at once on one broker stay apart
    return std::make_unique<Ingester>(o, entities_.get(), registry_.get(), contexts_, &clock_);
  }

  // Waits until `done` holds (the broker and the ingester work in the background).
  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 300; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::optional<json> Entity(const std::string& id, const std::string& tenant = "") {
    auto e = entities_->Retrieve(tenant, id);
    if (!e.ok()) return std::nullopt;
    return e->doc;
  }

  std::string Dev(const std::string& name) const { return name + "-" + token_; }
  std::string Prefix() const { return "test-" + token_ + "/"; }

  ManualClock clock_{1795000000000};
  std::string url_, token_;
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::shared_ptr<const ngsild::ContextRegistry> contexts_;
  std::unique_ptr<DeviceRegistry> registry_;
  std::unique_ptr<ngsild::EntityStore> entities_;
};

TEST_P(IngesterTest, AppliesMeasurementsAndEntitiesAndCountsTheRest) {
  json reg = {{"id", Dev("aq")},
              {"entity_id", "urn:ngsi-ld:AirQualityObserved:" + token_},
              {"entity_type", "AirQualityObserved"},
              {"attributes", {{"pm25", {{"name", "pm25"}, {"unitCode", "GQ"}}}}}};
  auto device = registry_->FromJson(reg);
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  ASSERT_TRUE(registry_->Register(*device, nullptr, audit::Entry{"test", "", "", "", "", ""}).ok());

  auto ingester = MakeIngester();
  ASSERT_TRUE(ingester->Start().ok());
  ASSERT_TRUE(Eventually([&] { return ingester->counters().connected.load(); }));

  auto pub = Publisher::Connect(url_);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  Publisher& p = **pub;
  const std::string topic = Prefix() + "devices/" + Dev("aq") + "/measurements";
  ASSERT_TRUE(p.Publish(topic, R"({"t":"2026-11-18T07:00:00Z","pm25":41.5})").ok());
  ASSERT_TRUE(p.Publish(topic, R"({"t":"2026-11-18T07:00:00Z","pm25":)").ok());            // malformed JSON
  ASSERT_TRUE(p.Publish(topic, R"({"pm25":1,"noise":3})").ok());                            // unmapped name
  ASSERT_TRUE(p.Publish(Prefix() + "devices/" + Dev("ghost") + "/measurements", R"({"pm25":1})").ok());  // unknown device
  ASSERT_TRUE(p.Publish(Prefix() + "ngsi-ld/v1/" + token_ + "/entities",
                        R"({"id":"urn:ngsi-ld:WaterObserved:w1","type":"WaterObserved","flow":{"value":3.5}})")
                  .ok());
  ASSERT_TRUE(p.Flush().ok());

  const auto& c = ingester->counters();
  ASSERT_TRUE(Eventually([&] { return c.received.load() >= 5 && c.applied.load() >= 2; }))
      << "received " << c.received.load() << ", applied " << c.applied.load();
  ASSERT_TRUE(Eventually([&] { return c.unknown_device.load() == 1; }));
  EXPECT_EQ(c.malformed[2].load(), 1) << "json";
  EXPECT_EQ(c.malformed[5].load(), 1) << "unknown_attribute";
  EXPECT_EQ(c.storage_errors.load(), 0);

  auto aq = Entity("urn:ngsi-ld:AirQualityObserved:" + token_);
  ASSERT_TRUE(aq.has_value()) << "the measurement created the device's entity";
  const json& pm = (*aq)[std::string(kEnv) + "pm25"];
  EXPECT_EQ(pm["value"], 41.5);
  EXPECT_EQ(pm["unitCode"], "GQ");
  EXPECT_EQ(pm["observedAt"], "2026-11-18T07:00:00.000Z");
  auto w = Entity("urn:ngsi-ld:WaterObserved:w1", token_);
  ASSERT_TRUE(w.has_value()) << "the fragment went to the topic's tenant";
  EXPECT_EQ((*w)[std::string(kEnv) + "flow"]["value"], 3.5);
  ingester->Stop();
}

TEST_P(IngesterTest, AppliesWhatTheJournalKeptBeforeConnecting) {
  // What a crashed run left: lane 0 of this run and lane 3 of a run with more workers, each with a
  // message past its mark (the broker had them acknowledged and forgot them).
  const std::string dir = store_->data_dir() + "/mqtt-journal-" + token_;
  const std::string topic = Prefix() + "ngsi-ld/v1/entities";
  {
    auto lane0 = Journal::Open(dir + "/lane-0");
    auto lane3 = Journal::Open(dir + "/lane-3");
    ASSERT_TRUE(lane0.ok() && lane3.ok());
    ASSERT_TRUE((*lane0)->Append(topic, R"({"id":"urn:ngsi-ld:WaterObserved:j0","type":"WaterObserved","flow":1.5})").ok());
    ASSERT_TRUE((*lane3)->Append(topic, R"({"id":"urn:ngsi-ld:WaterObserved:j3","type":"WaterObserved","flow":2.5})").ok());
  }
  auto ingester = MakeIngester(dir);
  ASSERT_TRUE(ingester->Start().ok());
  // Applied by Start() itself, before anything new can arrive.
  EXPECT_EQ(ingester->counters().recovered.load(), 2);
  auto j0 = Entity("urn:ngsi-ld:WaterObserved:j0");
  auto j3 = Entity("urn:ngsi-ld:WaterObserved:j3");
  ASSERT_TRUE(j0.has_value() && j3.has_value());
  EXPECT_EQ((*j3)[std::string(kEnv) + "flow"]["value"], 2.5);
  EXPECT_FALSE(std::filesystem::exists(dir + "/lane-3"));  // a lane this run does not have: applied, gone
  EXPECT_TRUE(std::filesystem::exists(dir + "/lane-0"));
  ingester->Stop();
  // Marked applied: a further start finds nothing to apply again.
  auto again = MakeIngester(dir);
  ASSERT_TRUE(again->Start().ok());
  EXPECT_EQ(again->counters().recovered.load(), 0);
  again->Stop();
}

TEST_P(IngesterTest, KeepsMessagesPublishedWhileStoppedForTheNextStart) {
  auto ingester = MakeIngester();
  ASSERT_TRUE(ingester->Start().ok());
  ASSERT_TRUE(Eventually([&] { return ingester->counters().connected.load(); }));
  ingester->Stop();

  auto pub = Publisher::Connect(url_);
  ASSERT_TRUE(pub.ok());
  for (int i = 0; i < 20; ++i) {
    json e = {{"id", "urn:ngsi-ld:WaterObserved:offline-" + std::to_string(i)},
              {"type", "WaterObserved"},
              {"flow", i}};
    ASSERT_TRUE((*pub)->Publish(Prefix() + "ngsi-ld/v1/" + token_ + "/entities", e.dump()).ok());
  }
  ASSERT_TRUE((*pub)->Flush().ok());
  EXPECT_FALSE(Entity("urn:ngsi-ld:WaterObserved:offline-0", token_).has_value());

  auto again = MakeIngester();  // the same client id: the same session on the broker
  ASSERT_TRUE(again->Start().ok());
  ASSERT_TRUE(Eventually([&] { return again->counters().applied.load() >= 20; }))
      << "applied " << again->counters().applied.load();
  for (int i = 0; i < 20; ++i) {
    auto e = Entity("urn:ngsi-ld:WaterObserved:offline-" + std::to_string(i), token_);
    ASSERT_TRUE(e.has_value()) << i;
    EXPECT_EQ((*e)[std::string(kEnv) + "flow"]["value"], i);
  }
  again->Stop();
}

TEST_P(IngesterTest, IngestersOfOneGroupShareTheMessages) {
  IngesterOptions o;
  o.url = url_;
  o.group = "test-" + token_;
  o.topic_prefix = Prefix();
  o.client_id = "test-a-" + token_;
  Ingester a(o, entities_.get(), registry_.get(), contexts_, &clock_);
  o.client_id = "test-b-" + token_;
  Ingester b(o, entities_.get(), registry_.get(), contexts_, &clock_);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  ASSERT_TRUE(Eventually([&] { return a.counters().connected.load() && b.counters().connected.load(); }));
  auto pub = Publisher::Connect(url_);
  ASSERT_TRUE(pub.ok());
  for (int i = 0; i < 100; ++i) {
    json e = {{"id", "urn:ngsi-ld:WaterObserved:shared-" + std::to_string(i)}, {"type", "WaterObserved"}, {"flow", i}};
    ASSERT_TRUE((*pub)->Publish(Prefix() + "ngsi-ld/v1/" + token_ + "/entities", e.dump()).ok());
  }
  ASSERT_TRUE((*pub)->Flush().ok());
  auto applied = [&] { return a.counters().applied.load() + b.counters().applied.load(); };
  ASSERT_TRUE(Eventually([&] { return applied() >= 100; })) << "applied " << applied();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(applied(), 100) << "each message went to one member of the group";
  EXPECT_GT(a.counters().received.load(), 0);
  EXPECT_GT(b.counters().received.load(), 0);
  auto all = entities_->QueryEntities(token_, [] {
    ngsild::EntityQuery q;
    q.limit = 1000;
    return q;
  }());
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->entities.size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Backends, IngesterTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::mqtt_ingest
