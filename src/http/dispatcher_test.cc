// The request pipeline without sockets: routing, limits, errors and headers.
#include "http/dispatcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http/json_body.h"
#include "http/problem.h"

namespace tl::http {
namespace {

class FakeAuthenticator : public Authenticator {
 public:
  Result<Principal> Authenticate(std::string_view token) override {
    if (token != "good") return Unauthenticated("unknown token");
    Principal p;
    p.username = "tester";
    p.role = "citizen";
    return p;
  }
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_.SetAuthenticator(&auth_);
    std::vector<Route> routes;
    routes.push_back({Method::kGet, "/api/v1/things/{id}", Access::Public(),
                      [](Request& r) -> Result<Response> {
                        return Response::Json(200, nlohmann::json{{"id", r.Param("id")}, {"q", r.Query("q").value_or("")}}.dump());
                      },
                      {}});
    routes.push_back({Method::kPost, "/api/v1/things", Access::Roles({"citizen"}),
                      [](Request& r) -> Result<Response> {
                        TL_ASSIGN_OR_RETURN(auto body, JsonBody::Parse(r, {"name"}));
                        TL_ASSIGN_OR_RETURN(auto name, body.String("name"));
                        return Response::Json(201, nlohmann::json{{"name", name}}.dump());
                      },
                      {}});
    routes.push_back({Method::kGet, "/api/v1/boom", Access::Public(),
                      [](Request&) -> Result<Response> { throw std::runtime_error("secret internals"); }, {}});
    routes.push_back({Method::kGet, "/api/v1/broken", Access::Public(),
                      [](Request&) -> Result<Response> { return Internal("SELECT * FROM secret failed"); }, {}});
    routes.push_back({Method::kGet, "/api/v1/things/{id}/status", Access::Public(),
                      [](Request& r) -> Result<Response> { return Response::Json(200, "\"" + r.Param("id") + "\""); },
                      {}});
    routes.back().quick = true;
    // Deferred answers, completed on another thread (as after a durable write).
    routes.push_back({Method::kGet, "/api/v1/later/{outcome}", Access::Public(),
                      [](Request& r) -> Result<Response> {
                        std::string outcome = r.Param("outcome");
                        return Response::Later([outcome](Reply reply) {
                          std::thread([outcome, reply = std::move(reply)] {
                            if (outcome == "ok") reply(Response::Json(201, R"({"done":true})"));
                            else if (outcome == "error") reply(InvalidArgument("not like this", "version"));
                            // "dropped": the reply is never called, only destroyed.
                          }).detach();
                        });
                      },
                      {}});
    ASSERT_TRUE(dispatcher_.AddRoutes(std::move(routes)).ok());
  }
  Response Call(std::string method, std::string target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    RawRequest raw;
    raw.method = std::move(method);
    raw.target = std::move(target);
    raw.body = std::move(body);
    raw.headers = std::move(headers);
    raw.client_ip = "127.0.0.1";
    return dispatcher_.Handle(std::move(raw));
  }
  Metrics metrics_;
  FakeAuthenticator auth_;
  Dispatcher dispatcher_{DispatcherOptions{64, 1024, false}, &metrics_};
};

TEST_F(DispatcherTest, ADeferredResponseIsFinishedByItsReplyOnAnotherThread) {
  auto ok = Call("GET", "/api/v1/later/ok", {}, {{"x-request-id", "deferred-1"}});
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(ok.body, R"({"done":true})");
  bool has_id = false, no_store = false;
  for (auto& [k, v] : ok.headers) {
    has_id = has_id || (k == "X-Request-Id" && v == "deferred-1");
    no_store = no_store || (k == "Cache-Control" && v == "no-store");
  }
  EXPECT_TRUE(has_id);
  EXPECT_TRUE(no_store);

  auto err = Call("GET", "/api/v1/later/error");
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.content_type, "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(err.body)["field"], "version");

  // A reply dropped without a call still answers the client, with a 500 problem.
  auto dropped = Call("GET", "/api/v1/later/dropped");
  EXPECT_EQ(dropped.status, 500);
  EXPECT_EQ(dropped.content_type, "application/problem+json");
}

TEST(DispatcherDeferredTest, APersonalDataRouteMayNotDeferItsAnswer) {
  Metrics metrics;
  Dispatcher d(DispatcherOptions{}, &metrics);
  FakeAuthenticator auth;
  d.SetAuthenticator(&auth);
  std::vector<Route> routes;
  routes.push_back({Method::kGet, "/api/v1/me/secret", Access::Authenticated().PersonalData(),
                    [](Request&) -> Result<Response> {
                      return Response::Later([](Reply reply) { reply(Response::Json(200, "{}")); });
                    },
                    {}});
  ASSERT_TRUE(d.AddRoutes(std::move(routes)).ok());
  RawRequest raw;
  raw.method = "GET";
  raw.target = "/api/v1/me/secret";
  raw.headers = {{"authorization", "Bearer good"}};
  EXPECT_EQ(d.Handle(std::move(raw)).status, 500);  // its read would have escaped the audit
}

TEST_F(DispatcherTest, RoutesWithPathAndQueryParameters) {
  auto r = Call("GET", "/api/v1/things/a%20b?q=H%C3%A0+N%E1%BB%99i");
  EXPECT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["id"], "a b");
  EXPECT_EQ(j["q"], "Hà Nội");
}

TEST(DispatcherRoutingTest, LiteralSegmentsWinOverParametersWhateverTheOrder) {
  Metrics metrics;
  Dispatcher d(DispatcherOptions{}, &metrics);
  auto route = [](const char* pattern, const char* tag) {
    return Route{Method::kGet, pattern, Access::Public(),
                 [tag](Request&) -> Result<Response> { return Response::Json(200, tag); }, {}};
  };
  ASSERT_TRUE(d.AddRoutes({route("/x/{id}", "param"), route("/x/counts", "literal")}).ok());
  RawRequest a;
  a.method = "GET";
  a.target = "/x/counts";
  EXPECT_EQ(d.Handle(a).body, "literal");
  a.target = "/x/42";
  EXPECT_EQ(d.Handle(a).body, "param");
}

TEST_F(DispatcherTest, AccessIsCheckedBeforeTheHandler) {
  EXPECT_EQ(Call("POST", "/api/v1/things", R"({"name":"x"})", {{"content-type", "application/json"}}).status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/things", R"({"name":"x"})",
                 {{"content-type", "application/json"}, {"authorization", "Bearer bad"}})
                .status,
            401);
  EXPECT_EQ(Call("POST", "/api/v1/things", R"({"name":"x"})",
                 {{"content-type", "application/json"}, {"authorization", "Bearer good"}})
                .status,
            201);
}

TEST_F(DispatcherTest, BodyLimitGives413) {
  auto r = Call("POST", "/api/v1/things", R"({"name":")" + std::string(100, 'x') + "\"}",
                {{"content-type", "application/json"}, {"authorization", "Bearer good"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.content_type, "application/problem+json");
}

TEST_F(DispatcherTest, ExceptionsAndInternalErrorsDoNotLeak) {
  for (const char* path : {"/api/v1/boom", "/api/v1/broken"}) {
    auto r = Call("GET", path);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("request_id"), std::string::npos);
  }
}

TEST_F(DispatcherTest, MetricsCountByRouteAndStatus) {
  Call("GET", "/api/v1/things/1");
  Call("GET", "/api/v1/things/2");
  Call("GET", "/nowhere");
  std::string text = metrics_.Render();
  EXPECT_NE(text.find(R"(route="/api/v1/things/{id}",status="200"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(route="unmatched",status="404"} 1)"), std::string::npos) << text;
}

TEST_F(DispatcherTest, DrainingAndOverCapacityGive503) {
  RawRequest raw;
  raw.method = "GET";
  raw.target = "/api/v1/things/1";
  raw.over_capacity = true;
  EXPECT_EQ(dispatcher_.Handle(raw).status, 503);
  dispatcher_.SetDraining(true);
  EXPECT_EQ(Call("GET", "/api/v1/things/1").status, 503);
}

TEST(ProblemTest, MapsEveryStatusToAStableTypeAndCode) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413);
  auto r = ProblemResponse(InvalidArgument("must be a string", "name"), "rid", "/x");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["type"], "urn:thanglong:problem:invalid-request");
  EXPECT_EQ(j["field"], "name");
  EXPECT_EQ(j["status"], 400);
}

TEST_F(DispatcherTest, OnlyQuickRoutesAndStaticFilesRunOnTheIoThread) {
  EXPECT_TRUE(dispatcher_.IsQuick("GET", "/api/v1/things/7/status?x=1"));
  EXPECT_TRUE(dispatcher_.IsQuick("HEAD", "/api/v1/things/7/status"));
  EXPECT_FALSE(dispatcher_.IsQuick("GET", "/api/v1/things/7"));         // not marked quick
  EXPECT_FALSE(dispatcher_.IsQuick("POST", "/api/v1/things/7/status"));  // no such route: its 405 goes to the pool
  EXPECT_FALSE(dispatcher_.IsQuick("GET", "/api/v1/nothing"));           // an API 404 goes to the pool
  EXPECT_TRUE(dispatcher_.IsQuick("GET", "/assets/app.js"));             // static files are in memory
  Dispatcher pooled{DispatcherOptions{64, 1024, false, false}, &metrics_};
  std::vector<Route> routes;
  routes.push_back({Method::kGet, "/q", Access::Public(), [](Request&) -> Result<Response> { return Response::Json(200, "1"); }, {}});
  routes.back().quick = true;
  // A write that only queues its work and answers later (Response::Later) may be quick too.
  routes.push_back({Method::kPost,
                    "/q",
                    Access::Public(),
                    [](Request&) -> Result<Response> { return Response::Json(200, "2"); },
                    {}});
  routes.back().quick = true;
  routes.push_back({Method::kPost,
                    "/slow",
                    Access::Public(),
                    [](Request&) -> Result<Response> { return Response::Json(200, "3"); },
                    {}});
  Dispatcher inline_{DispatcherOptions{}, &metrics_};
  ASSERT_TRUE(inline_.AddRoutes(routes).ok());
  EXPECT_TRUE(inline_.IsQuick("GET", "/q"));
  EXPECT_TRUE(inline_.IsQuick("POST", "/q"));
  EXPECT_FALSE(inline_.IsQuick("POST", "/slow"));
  ASSERT_TRUE(pooled.AddRoutes(std::move(routes)).ok());
  EXPECT_FALSE(pooled.IsQuick("GET", "/q"));  // a networked store: quick routes still go to the pool
  EXPECT_FALSE(pooled.IsQuick("POST", "/q"));
  // The quick route still answers through the same pipeline.
  auto r = Call("GET", "/api/v1/things/a%20b/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "\"a b\"");
}

}  // namespace
}  // namespace tl::http
