// MQTT ingestion end to end: the real server (all modules wired) on both backends, ingesting from a
// real Mosquitto broker (THANGLONG_TEST_MQTT_URL, started by scripts/test.sh): the device registry's
// API, compact measurements and NGSI-LD fragments reaching the entities, bad messages counted in
// /metrics while the server keeps working, and messages published while the server is down applied
// once it is back (its persistent session on the broker).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "app/city_simulation.h"
#include "core/crypto.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"
#include "tests/api/small_city.h"
#include "tests/api/test_app.h"

namespace tl::testing {
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

// The whole application with MQTT ingestion on a scratch store; Restart() stops the server and starts
// a new process-like Application on the same store with the same MQTT client id.
class MqttServer {
 public:
  MqttServer(const std::string& backend, const std::string& broker, const std::string& token)
      : clock_(1795000000000), store_(std::make_unique<ScratchStore>(backend)), broker_(broker), token_(token) {
    Start(true);
  }
  ~MqttServer() { Stop(); }

  void Start(bool seed) {
    std::map<std::string, std::string> o = {{"listen", "127.0.0.1:0"},      {"data_dir", store_->data_dir()},
                                            {"password_cost", "minimum"},   {"access_log", "false"},
                                            {"workers", "2"},               {"data_root", DataRoot()},
                                            {"web_root", "/nonexistent"},   {"log_level", "error"},
                                            {"mqtt_url", broker_},          {"mqtt_client_id", "api-test-" + token_},
                                            {"mqtt_group", "api-test-" + token_},
                                            {"mqtt_topic_prefix", "api-test-" + token_ + "/"}};
    if (!store_->database_url().empty()) o["database"] = store_->database_url();
    auto cfg = app::LoadConfig(std::nullopt, o);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    auto created = app::Application::Create(*cfg, &clock_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    app_ = std::move(*created);
    if (seed) {
      std::ostringstream sink;
      Status seeded = app_->Seed(sink);
      ASSERT_TRUE(seeded.ok()) << seeded.ToString();
    }
    Status started = app_->StartServer();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  void Stop() {
    if (app_) app_->Shutdown();
    app_.reset();
  }

  app::Application& app() { return *app_; }
  uint16_t port() const { return app_->port(); }

 private:
  ManualClock clock_;
  std::unique_ptr<ScratchStore> store_;
  std::unique_ptr<app::Application> app_;
  std::string broker_, token_;
};

class MqttApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    broker_ = BrokerUrl();
    ASSERT_FALSE(broker_.empty());
    token_ = crypto::RandomToken(9);
    for (auto& c : token_) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = 'x';
    }
    server_ = std::make_unique<MqttServer>(GetParam(), broker_, token_);
    ASSERT_TRUE(server_->app().mqtt_ingester() != nullptr);
    operator_ = Login("operator");
    WaitSubscribed();
    auto pub = mqtt_ingest::Publisher::Connect(broker_);
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    publisher_ = std::move(*pub);
  }

  // Topics of this test: the server's prefix keeps tests running at once on one broker apart.
  std::string T(const std::string& topic) const { return "api-test-" + token_ + "/" + topic; }

  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& token = "", const std::string& tenant = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    if (!tenant.empty()) h.emplace_back("NGSILD-Tenant", tenant);
    return HttpRequest(server_->port(), method, target, body, h);
  }

  std::string Login(const std::string& user) {
    auto r = Call("POST", "/api/v1/auth/login", json{{"username", user}, {"password", kDemoPassword}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false).value("token", "");
  }

  void WaitSubscribed() {
    ASSERT_TRUE(Eventually([&] { return Metric("thanglong_mqtt_connected") == 1; })) << "the ingester never subscribed";
  }

  // The value of one series on /metrics (name with its labels), -1 when absent.
  double Metric(const std::string& series) {
    auto r = Call("GET", "/metrics");
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 300; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  // The entity as the API shows it, or nullopt while it is not there.
  std::optional<json> Entity(const std::string& id, const std::string& tenant = "") {
    auto r = Call("GET", "/ngsi-ld/v1/entities/" + id, "", operator_, tenant);
    if (r.status != 200) return std::nullopt;
    return json::parse(r.body, nullptr, false);
  }

  void RegisterDevice(const std::string& id, const std::string& entity) {
    json d = {{"id", id},
              {"entity_id", entity},
              {"entity_type", "AirQualityObserved"},
              {"attributes", {{"pm25", {{"name", "pm25"}, {"unitCode", "GQ"}}}, {"no2", "no2"}}}};
    auto r = Call("POST", "/api/v1/devices", d.dump(), operator_);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  std::string broker_, token_, operator_;
  std::unique_ptr<MqttServer> server_;
  std::unique_ptr<mqtt_ingest::Publisher> publisher_;
};

TEST_P(MqttApiTest, DeviceRegistryApi) {
  json d = {{"id", "aq-" + token_},
            {"entity_id", "urn:ngsi-ld:AirQualityObserved:" + token_},
            {"entity_type", "AirQualityObserved"},
            {"attributes", {{"pm25", {{"name", "pm25"}, {"unitCode", "GQ"}}}}}};
  EXPECT_EQ(Call("POST", "/api/v1/devices", d.dump()).status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/devices", d.dump(), Login("citizen")).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/devices", "", Login("desk")).status, 403);
  auto created = Call("POST", "/api/v1/devices", d.dump(), operator_);
  ASSERT_EQ(created.status, 201) << created.body;
  json c = json::parse(created.body);
  EXPECT_EQ(c["owner_agency"], "VP01") << "the operator's agency by default";
  EXPECT_EQ(c["attributes"]["pm25"]["name"], "pm25");
  EXPECT_EQ(c["topic"], "devices/aq-" + token_ + "/measurements");
  EXPECT_EQ(Call("POST", "/api/v1/devices", d.dump(), operator_).status, 409);

  json bad = d;
  bad["id"] = "has/slash";
  auto refused = Call("POST", "/api/v1/devices", bad.dump(), operator_);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
  EXPECT_EQ(json::parse(refused.body)["field"], "id");
  bad = d;
  bad["attributes"] = {{"pm25", {{"name", "pm25"}, {"unitCode", "µg"}}}};
  refused = Call("POST", "/api/v1/devices", bad.dump(), operator_);
  EXPECT_EQ(json::parse(refused.body)["field"], "attributes.pm25.unitCode");
  EXPECT_EQ(Call("POST", "/api/v1/devices", "{not json", operator_).status, 400);

  json batch = {{"devices", json::array()}};
  for (int i = 0; i < 2000; ++i) {
    batch["devices"].push_back({{"id", "sim-" + token_ + "-" + std::to_string(i)},
                                {"entity_id", "urn:ngsi-ld:AirQualityObserved:sim-" + std::to_string(i)},
                                {"entity_type", "AirQualityObserved"},
                                {"attributes", {{"pm25", "pm25"}}}});
  }
  const std::string admin = Login("admin");
  auto registered = Call("POST", "/api/v1/devices:batch", batch.dump(), admin);
  ASSERT_EQ(registered.status, 200) << registered.body.substr(0, 300);
  EXPECT_EQ(json::parse(registered.body)["created"], 2000);
  batch["devices"][1500]["entity_id"] = "nope";
  refused = Call("POST", "/api/v1/devices:batch", batch.dump(), operator_);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(json::parse(refused.body)["field"], "devices[1500].entity_id");

  auto page = Call("GET", "/api/v1/devices?limit=1000", "", admin);
  ASSERT_EQ(page.status, 200);
  json p = json::parse(page.body);
  EXPECT_EQ(p["items"].size(), 1000u);
  EXPECT_TRUE(p.contains("next"));
  size_t total = p["items"].size();
  while (p.contains("next")) {
    p = json::parse(Call("GET", "/api/v1/devices?limit=1000&after=" + p["next"].get<std::string>(), "", admin).body);
    total += p["items"].size();
  }
  EXPECT_EQ(total, 2001u) << "every page read: the 2,000 and the operator's";
  // The operator (VP01) sees its agency's device only, not the city admin's.
  p = json::parse(Call("GET", "/api/v1/devices", "", operator_).body);
  ASSERT_EQ(p["items"].size(), 1u);
  EXPECT_EQ(p["items"][0]["id"], "aq-" + token_);
  EXPECT_EQ(Call("GET", "/api/v1/devices/sim-" + token_ + "-7", "", operator_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/devices/sim-" + token_ + "-7", "", admin).status, 200);
  EXPECT_EQ(json::parse(Call("GET", "/api/v1/devices?limit=0", "", operator_).body)["field"], "limit");
  EXPECT_EQ(Call("GET", "/api/v1/devices/aq-" + token_, "", operator_).status, 200);
  EXPECT_EQ(Call("DELETE", "/api/v1/devices/aq-" + token_, "", operator_).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/devices/aq-" + token_, "", operator_).status, 404);

  auto openapi = json::parse(Call("GET", "/api/openapi.json").body);
  EXPECT_TRUE(openapi["paths"].contains("/api/v1/devices"));
  EXPECT_TRUE(openapi["paths"].contains("/api/v1/devices:batch"));
}

TEST_P(MqttApiTest, MeasurementsAndFragmentsUpdateEntities) {
  const std::string device = "aq-" + token_;
  const std::string entity = "urn:ngsi-ld:AirQualityObserved:" + token_;
  RegisterDevice(device, entity);
  ASSERT_TRUE(publisher_->Publish(T("devices/" + device + "/measurements"),
                                  R"([{"t":"2026-11-18T06:00:00Z","pm25":35.5},{"t":1794999600000,"pm25":41,"no2":20}])")
                  .ok());
  ASSERT_TRUE(publisher_->Flush().ok());
  std::optional<json> e;
  ASSERT_TRUE(Eventually([&] {
    e = Entity(entity);
    return e && e->contains(std::string(kEnv) + "no2");
  })) << "the measurements never reached " << entity;
  const json& pm = (*e)[std::string(kEnv) + "pm25"];
  EXPECT_EQ(pm["value"], 41);
  EXPECT_EQ(pm["unitCode"], "GQ");
  EXPECT_EQ(pm["observedAt"], "2026-11-18T11:00:00.000Z");
  EXPECT_EQ((*e)["type"], std::string(kEnv) + "AirQualityObserved");

  // An NGSI-LD fragment, concise, to a tenant; then a normalized update of the same entity.
  const std::string tenant = "t" + token_;
  const std::string water = "urn:ngsi-ld:WaterObserved:" + token_;
  ASSERT_TRUE(publisher_->Publish(T("ngsi-ld/v1/" + tenant + "/entities"),
                                  json{{"id", water}, {"type", "WaterObserved"}, {"flow", 3.5},
                                       {"location", {{"type", "Point"}, {"coordinates", {105.85, 21.03}}}}}
                                      .dump())
                  .ok());
  ASSERT_TRUE(publisher_->Publish(T("ngsi-ld/v1/" + tenant + "/entities"),
                                  json::array({json{{"id", water},
                                                    {"type", "WaterObserved"},
                                                    {"height", {{"type", "Property"}, {"value", 1.25}}}}})
                                      .dump())
                  .ok());
  ASSERT_TRUE(publisher_->Flush().ok());
  ASSERT_TRUE(Eventually([&] {
    e = Entity(water, tenant);
    return e && e->contains(std::string(kEnv) + "height");
  })) << "the fragments never reached " << water;
  EXPECT_EQ((*e)[std::string(kEnv) + "flow"]["value"], 3.5);
  EXPECT_EQ((*e)["location"]["type"], "GeoProperty");
  EXPECT_FALSE(Entity(water).has_value()) << "not in the default tenant";
  EXPECT_GE(Metric("thanglong_mqtt_messages_applied_total"), 3);
}

TEST_P(MqttApiTest, TheCitySimulatorPublishesMeasurementsThatUpdateTheEntities) {
  // As `thanglong simulate city --mqtt` does: register the sensors as devices, create their entities
  // through the NGSI-LD API, then publish every observation as a device measurement.
  citysim::CityModel city = SmallCity();
  std::vector<mqtt_ingest::Device> devices;
  for (const auto& sensor : city.Sensors()) {
    auto d = server_->app().devices().FromJson(app::DeviceRegistration(sensor, "VP01"));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    devices.push_back(std::move(*d));
  }
  audit::Entry ctx;
  ctx.actor = "test";
  auto registered = server_->app().devices().RegisterBatch(std::move(devices), nullptr, ctx);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  auto key = server_->app().identity().CreateApiKey(identity::Actor::Cli("test"), "simulator", "VP01",
                                                    {"ngsild.read", "ngsild.write"});
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto entities = app::NgsiLdHttpFeed("http://127.0.0.1:" + std::to_string(server_->port()), key->second, 100);
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  EXPECT_FALSE(app::MqttMeasurementFeed(broker_, nullptr, "no-slash").ok());
  auto feed = app::MqttMeasurementFeed(broker_, std::move(*entities), T(""));
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  auto o = FastRun(1795428000000, 3'600'000);  // 2026-11-23 17:00 in Hà Nội: the lights switch on at dusk
  auto report = Play(city, **feed, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entities, 16);
  ASSERT_GT(report->observations, 16);
  // Every observation is one message, and every one was applied.
  ASSERT_TRUE(Eventually([&] { return Metric("thanglong_mqtt_messages_applied_total") == report->observations; }))
      << "applied " << Metric("thanglong_mqtt_messages_applied_total") << " of " << report->observations;
  EXPECT_EQ(Metric("thanglong_mqtt_messages_unknown_device_total"), 0);
  const int64_t end = o.start_ms + *o.duration_ms;
  auto air = Entity("urn:ngsi-ld:AirQualityObserved:HN-AQ-US-EMBASSY");
  ASSERT_TRUE(air.has_value());
  const json& pm = (*air)[std::string(kEnv) + "pm25"];
  EXPECT_DOUBLE_EQ(pm["value"].get<double>(), city.Pm25(0, end));
  EXPECT_EQ(pm["observedAt"], FormatRfc3339(end));
  EXPECT_EQ(pm["unitCode"], "GQ");
  auto traffic = Entity("urn:ngsi-ld:TrafficFlowObserved:HN-TF-0001");
  ASSERT_TRUE(traffic.has_value());
  const json& speed = (*traffic)["https://smartdatamodels.org/dataModel.Transportation/averageVehicleSpeed"];
  EXPECT_DOUBLE_EQ(speed["value"].get<double>(), city.Traffic(0, end).average_speed_kmh);
  EXPECT_EQ(speed["observedAt"], FormatRfc3339(end));
}

TEST_P(MqttApiTest, BadMessagesAreCountedAndTheServerKeepsWorking) {
  const std::string device = "aq-" + token_;
  const std::string entity = "urn:ngsi-ld:AirQualityObserved:" + token_;
  RegisterDevice(device, entity);
  const std::string topic = T("devices/" + device + "/measurements");
  ASSERT_TRUE(publisher_->Publish(topic, "{this is not json").ok());
  ASSERT_TRUE(publisher_->Publish(topic, std::string("{\"pm25\":\"\xff\xfe\"}")).ok());
  ASSERT_TRUE(publisher_->Publish(topic, "{\"pm25\":\"" + std::string(300 * 1024, 'x') + "\"}").ok());
  ASSERT_TRUE(publisher_->Publish(topic, R"({"pm25":{"nested":true}})").ok());
  ASSERT_TRUE(publisher_->Publish(topic, R"({"pm25":1,"humidity":3})").ok());
  ASSERT_TRUE(publisher_->Publish(T("devices/ghost-" + token_ + "/measurements"), R"({"pm25":1})").ok());
  ASSERT_TRUE(publisher_->Publish(T("ngsi-ld/v1/entities"), R"([{"id":"no uri","type":"X"}])").ok());
  ASSERT_TRUE(publisher_->Publish(T("ngsi-ld/v1/entities"), "").ok());
  ASSERT_TRUE(publisher_->Publish(topic, R"({"t":"2026-11-18T07:00:00Z","pm25":12})").ok());  // the good one
  ASSERT_TRUE(publisher_->Flush().ok());

  ASSERT_TRUE(Eventually([&] { return Metric("thanglong_mqtt_messages_received_total") >= 9; }));
  ASSERT_TRUE(Eventually([&] { return Metric(R"(thanglong_mqtt_messages_malformed_total{reason="json"})") == 2; }))
      << "the broken JSON and the empty payload";
  EXPECT_EQ(Metric(R"(thanglong_mqtt_messages_malformed_total{reason="utf8"})"), 1);
  EXPECT_EQ(Metric(R"(thanglong_mqtt_messages_malformed_total{reason="too_large"})"), 1);
  EXPECT_EQ(Metric(R"(thanglong_mqtt_messages_malformed_total{reason="format"})"), 1);
  // Counted later than the others, when the device's measurements are applied (not when parsed).
  EXPECT_TRUE(Eventually([&] { return Metric(R"(thanglong_mqtt_messages_malformed_total{reason="unknown_attribute"})") == 1; }));
  EXPECT_EQ(Metric(R"(thanglong_mqtt_messages_malformed_total{reason="entity"})"), 1);
  EXPECT_EQ(Metric("thanglong_mqtt_messages_unknown_device_total"), 1);
  EXPECT_EQ(Metric("thanglong_mqtt_storage_errors_total"), 0);
  ASSERT_TRUE(Eventually([&] { return Entity(entity).has_value(); })) << "the good message after the bad ones";
  EXPECT_EQ((*Entity(entity))[std::string(kEnv) + "pm25"]["value"], 12);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Metric("thanglong_mqtt_connected"), 1);
}

TEST_P(MqttApiTest, MessagesPublishedWhileTheServerIsDownAreAppliedWhenItReturns) {
  const std::string device = "aq-" + token_;
  const std::string entity = "urn:ngsi-ld:AirQualityObserved:" + token_;
  RegisterDevice(device, entity);
  server_->Stop();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(publisher_
                    ->Publish(T("devices/" + device + "/measurements"),
                              json{{"t", 1795000000000 + i * 1000}, {"pm25", i}}.dump())
                    .ok());
  }
  ASSERT_TRUE(publisher_->Flush().ok()) << "the broker holds them for the server's session";
  server_->Start(false);
  operator_ = Login("operator");
  std::optional<json> e;
  ASSERT_TRUE(Eventually([&] {
    e = Entity(entity);
    return e && (*e)[std::string(kEnv) + "pm25"]["value"] == 49;
  })) << "the messages published while the server was down never arrived";
  EXPECT_EQ((*e)[std::string(kEnv) + "pm25"]["observedAt"], "2026-11-18T11:07:29.000Z");
  EXPECT_TRUE(Eventually([&] { return Metric("thanglong_mqtt_messages_applied_total") == 50; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, MqttApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
