// The operations feed through the real server on both backends: who may open it, bad parameters as
// problems naming the field, and an entity written through the NGSI-LD API arriving on an open
// text/event-stream, then resumed from its event id.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

// An open GET on a raw socket, read as it streams.
class EventStreamClient {
 public:
  EventStreamClient(uint16_t port, const std::string& target, const std::string& token,
                    const std::string& last_event_id = "") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                      "Authorization: Bearer " + token + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    (void)!::write(fd_, req.data(), req.size());
  }
  ~EventStreamClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads until `marker` arrives, the server closes, or 10 s pass (a guard against a hang).
  // Reads until `marker` has arrived, and `then` after it (e.g. "\n\n": the rest of that event, since a
  // read may stop anywhere in it).
  const std::string& ReadUntil(const std::string& marker, const std::string& then = "") {
    auto done = [&] {
      size_t at = received_.find(marker);
      return at != std::string::npos && received_.find(then, at + marker.size()) != std::string::npos;
    };
    for (int i = 0; !done() && !closed_ && i < 100; ++i) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[8192];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) closed_ = true;
      else received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

class OpsApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { app_ = std::make_unique<TestApp>(GetParam()); }
  std::unique_ptr<TestApp> app_;
};

TEST_P(OpsApiTest, OnlyOperatorsAndCityAdminsOpenTheFeedAndBadParametersAreProblems) {
  EXPECT_EQ(app_->Get("/api/v1/ops/events").status, 401);
  auto citizen = app_->Get("/api/v1/ops/events", app_->Login("citizen"));
  EXPECT_EQ(citizen.status, 403);
  EXPECT_EQ(citizen.Header("content-type"), "application/problem+json");
  EXPECT_EQ(app_->Get("/api/v1/ops/events", app_->Login("desk")).status, 403);
  {
    EventStreamClient admin(app_->port(), "/api/v1/ops/events", app_->Login("admin"));
    EXPECT_NE(admin.ReadUntil(": connected\n\n").find("HTTP/1.1 200"), std::string::npos);
  }
  const std::string op = app_->Login("operator");
  // Bad input: 400 naming the parameter or header, whichever carried it.
  auto expect_bad = [&](const std::string& query, const std::string& header, const std::string& value,
                        const std::string& field) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer " + op}};
    if (!header.empty()) headers.emplace_back(header, value);
    auto r = HttpRequest(app_->port(), "GET", "/api/v1/ops/events" + query, "", headers);
    EXPECT_EQ(r.status, 400) << field;
    EXPECT_EQ(Json(r)["field"], field);
  };
  expect_bad("?type=Air%20Quality", "", "", "type");
  expect_bad("", "Last-Event-ID", "yesterday", "Last-Event-ID");
  expect_bad("?lastEventId=12", "", "", "lastEventId");
  expect_bad("?tenant=hn%20water", "", "", "tenant");
  expect_bad("", "NGSILD-Tenant", "hn water", "NGSILD-Tenant");
  // The OpenAPI document describes the stream's media type.
  auto doc = Json(app_->Get("/api/openapi.json"));
  EXPECT_TRUE(doc["paths"]["/api/v1/ops/events"]["get"]["responses"]["200"]["content"].contains("text/event-stream"));
}

TEST_P(OpsApiTest, AnEntityWrittenThroughTheApiArrivesOnTheStreamAndResumes) {
  const std::string op = app_->Login("operator");
  EventStreamClient stream(app_->port(), "/api/v1/ops/events?type=AirQualityObserved", op);
  const std::string& head = stream.ReadUntil(": connected\n\n");
  ASSERT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("retry: 3000"), std::string::npos) << head;

  app_->clock().Advance(1000);
  const std::string link =
      "<http://localhost/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld>; "
      "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
  auto created = HttpRequest(app_->port(), "POST", "/ngsi-ld/v1/entities",
                             R"({"id":"urn:ngsi-ld:AirQualityObserved:hn-hoankiem","type":"AirQualityObserved",
                                 "pm25":{"type":"Property","value":162.5,"observedAt":"2026-11-18T07:00:00Z"},
                                 "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[105.852,21.028]}}})",
                             {{"Authorization", "Bearer " + op}, {"Link", link}});
  ASSERT_EQ(created.status, 201) << created.body;
  // Not of the followed type: filtered out.
  ASSERT_EQ(app_->Post("/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Thing:1","type":"Thing"})", op).status, 201);
  const std::string& got = stream.ReadUntil("hn-hoankiem\",", "\n\n");
  size_t at = got.find("event: entity\ndata: ");
  ASSERT_NE(at, std::string::npos) << got;
  size_t from = at + 20;
  json event = json::parse(got.substr(from, got.find('\n', from) - from));
  EXPECT_EQ(event["id"], "urn:ngsi-ld:AirQualityObserved:hn-hoankiem");
  EXPECT_EQ(event["type"], "AirQualityObserved");
  EXPECT_EQ(event["attributes"]["pm25"], 162.5);
  EXPECT_EQ(event["location"]["type"], "Point");
  EXPECT_EQ(got.find("urn:ngsi-ld:Thing:1"), std::string::npos);
  size_t id_at = got.rfind("id: ", at);
  ASSERT_NE(id_at, std::string::npos);
  std::string event_id = got.substr(id_at + 4, got.find('\n', id_at) - id_at - 4);
  EXPECT_EQ(event_id, "1795000001000:urn:ngsi-ld:AirQualityObserved:hn-hoankiem");

  // A reconnecting client sends the last id it saw and gets the change that came after it.
  app_->clock().Advance(10000);
  ASSERT_EQ(HttpRequest(app_->port(), "PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:hn-hoankiem/attrs",
                        R"({"pm25":{"type":"Property","value":171,"observedAt":"2026-11-18T08:10:00Z"}})",
                        {{"Authorization", "Bearer " + op}, {"Link", link}})
                .status,
            204);
  EventStreamClient resumed(app_->port(), "/api/v1/ops/events", op, event_id);
  const std::string& again = resumed.ReadUntil("\"pm25\":171", "\n\n");
  EXPECT_NE(again.find("id: 1795000011000:urn:ngsi-ld:AirQualityObserved:hn-hoankiem"), std::string::npos) << again;
  EXPECT_NE(again.find("\"changed\":[\"pm25\"]"), std::string::npos) << again;
  // The server's shutdown ends the open streams (the last chunk), rather than waiting on them.
  app_.reset();
  EXPECT_NE(resumed.ReadUntil("\r\n0\r\n\r\n").find("\r\n0\r\n\r\n"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, OpsApiTest, ::testing::ValuesIn(BackendNames()));

}  // namespace
}  // namespace tl::testing
