// NGSI-LD subscriptions through the real server (all modules wired) on both backends, notifying a
// real HTTP webhook on a loopback port: matching updates are notified; while the webhook is down,
// updates queue durably, the subscription's status shows the failures, and once the webhook is back
// on the same port every notification arrives, in order, with the later success recorded.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "modules/subscriptions/webhook_sink.h"
#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;
constexpr const char* kBadRequestData = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
constexpr const char* kResourceNotFound = "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";

class SubscriptionsApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    token_ = app_->Login("operator");
    ASSERT_TRUE(sink_.Start());
  }
  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> h = {{"Authorization", "Bearer " + token_},
                                                          {"NGSILD-Tenant", "city"}};
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    return HttpRequest(app_->port(), method, target, body, h);
  }
  json Subscription(const std::string& id) {
    auto r = Call("GET", "/ngsi-ld/v1/subscriptions/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // Every data element the webhook received, in order.
  std::vector<json> Received() {
    std::vector<json> out;
    for (const auto& b : sink_.Bodies()) {
      json n = json::parse(b);
      EXPECT_EQ(n["type"], "Notification");
      for (auto& d : n["data"]) out.push_back(d);
    }
    return out;
  }
  bool WaitForData(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (Received().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<TestApp> app_;
  std::string token_;
  WebhookSink sink_;
};

TEST_P(SubscriptionsApiTest, NoNotificationLostWhileTheWebhookRestarts) {
  const std::string sub = R"({"id": "urn:ngsi-ld:Subscription:pm25", "type": "Subscription",
      "entities": [{"type": "AirSensor"}], "watchedAttributes": ["pm25"], "q": "pm25>=0",
      "notification": {"attributes": ["pm25"], "format": "keyValues", "endpoint": {"uri": ")" +
                          sink_.url() + R"("}}})";
  auto created = Call("POST", "/ngsi-ld/v1/subscriptions", sub);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("location"), "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:pm25");
  EXPECT_EQ(Call("POST", "/ngsi-ld/v1/subscriptions", sub).status, 409);

  auto e = Call("POST", "/ngsi-ld/v1/entities",
                R"({"id": "urn:ngsi-ld:AirSensor:hk", "type": "AirSensor", "pm25": {"type": "Property", "value": 1},
                    "name": {"type": "Property", "value": "Hoàn Kiếm"}})");
  ASSERT_EQ(e.status, 201) << e.body;
  ASSERT_TRUE(WaitForData(1));
  json first = json::parse(sink_.Bodies()[0]);
  EXPECT_EQ(first["subscriptionId"], "urn:ngsi-ld:Subscription:pm25");
  EXPECT_EQ(first["data"][0], (json{{"id", "urn:ngsi-ld:AirSensor:hk"}, {"type", "AirSensor"}, {"pm25", 1}}));

  // A change of an unwatched attribute notifies nothing.
  ASSERT_EQ(Call("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirSensor:hk/attrs",
                 R"({"name": {"type": "Property", "value": "HK"}})")
                .status,
            204);

  uint16_t port = sink_.port();
  sink_.Stop();
  for (int v = 2; v <= 6; ++v) {
    auto r = Call("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirSensor:hk/attrs",
                  R"({"pm25": {"type": "Property", "value": )" + std::to_string(v) + "}}");
    ASSERT_EQ(r.status, 204) << r.body;
  }
  json status;
  for (int i = 0; i < 500; ++i) {
    status = Subscription("urn:ngsi-ld:Subscription:pm25");
    if (status["notification"].contains("lastFailure")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status["notification"]["status"], "failed");
  EXPECT_GE(status["notification"]["failures"].get<int>(), 1);
  EXPECT_EQ(status["notification"]["pendingNotifications"], 5);
  EXPECT_EQ(status["notification"]["timesSent"], 1);

  ASSERT_TRUE(sink_.Start(port));
  app_->clock().Advance(400000);  // past the longest backoff (5 min)
  ASSERT_TRUE(WaitForData(6));
  auto data = Received();
  ASSERT_EQ(data.size(), 6u);
  for (int v = 1; v <= 6; ++v) EXPECT_EQ(data[v - 1]["pm25"], v);
  for (int i = 0; i < 100; ++i) {
    status = Subscription("urn:ngsi-ld:Subscription:pm25");
    if (status["notification"]["status"] == "ok") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status["status"], "active");
  EXPECT_EQ(status["notification"]["status"], "ok");
  EXPECT_TRUE(status["notification"].contains("lastSuccess"));
  EXPECT_TRUE(status["notification"].contains("lastFailure"));
  EXPECT_EQ(status["notification"]["pendingNotifications"], 0);
  EXPECT_GE(status["notification"]["timesSent"].get<int>(), 2);
}

TEST_P(SubscriptionsApiTest, CrudValidationAndAccess) {
  auto bad = Call(
      "POST", "/ngsi-ld/v1/subscriptions",
      R"({"type": "Subscription", "entities": [{"type": "A"}], "notification": {"endpoint": {"uri": "file:///etc/passwd"}}})");
  EXPECT_EQ(bad.status, 400);
  json problem = json::parse(bad.body, nullptr, false);
  EXPECT_EQ(problem["type"], kBadRequestData) << bad.body;
  EXPECT_NE(bad.body.find("notification.endpoint.uri"), std::string::npos) << bad.body;

  auto created = Call("POST", "/ngsi-ld/v1/subscriptions",
                      R"({"type": "Subscription", "watchedAttributes": ["speed"], "throttling": 5,
                          "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string path = created.Header("location");
  ASSERT_EQ(path.rfind("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:", 0), 0u);
  EXPECT_EQ(Call("PATCH", path, R"({"isActive": false})").status, 204);
  auto got = json::parse(Call("GET", path).body);
  EXPECT_EQ(got["status"], "paused");
  EXPECT_EQ(got["throttling"], 5);
  EXPECT_EQ(Call("PATCH", path, R"({"throttling": "soon"})").status, 400);

  auto list = Call("GET", "/ngsi-ld/v1/subscriptions?count=true&limit=10");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.Header("ngsild-results-count"), "1");
  EXPECT_EQ(json::parse(list.body).size(), 1u);

  EXPECT_EQ(HttpRequest(app_->port(), "GET", "/ngsi-ld/v1/subscriptions").status, 401);
  EXPECT_EQ(Call("DELETE", path).status, 204);
  auto gone = Call("GET", path);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(json::parse(gone.body, nullptr, false)["type"], kResourceNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, SubscriptionsApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
