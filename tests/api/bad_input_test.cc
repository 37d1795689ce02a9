// Bad input of every kind gets a 4xx problem+json naming the problem, and nothing is half-written.
#include <gtest/gtest.h>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

class BadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  static int64_t CountUsers(TestApp& app) {
    int64_t n = -1;
    EXPECT_TRUE(app.app().db().Read([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM users"));
      n = rs.rows[0].Int(0);
      return Status::Ok();
    }).ok());
    return n;
  }
  static void ExpectProblem(const HttpResult& r, int status, const std::string& field) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << r.body;
    auto j = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["type"].get<std::string>().rfind("urn:thanglong:problem:", 0) == 0);
    EXPECT_FALSE(j["title"].get<std::string>().empty());
    EXPECT_FALSE(j["detail"].get<std::string>().empty());
    if (!field.empty()) {
      EXPECT_EQ(j.value("field", ""), field) << r.body;
    }
    // The detail speaks of the request, never of the storage or the code (the random request id is
    // left out of the check: it may spell anything).
    std::string detail = j["detail"].get<std::string>() + " " + j["title"].get<std::string>();
    for (const char* leak : {"sqlite", "SQLITE", "SELECT", "INSERT", "syntax", "postgres", "libpq", "terminate",
                             "what()", "constraint"}) {
      EXPECT_EQ(detail.find(leak), std::string::npos) << "leaks '" << leak << "': " << r.body;
    }
  }
};

TEST_P(BadInputTest, EachBadRequestGetsAProblemNamingTheField) {
  TestApp app(GetParam());
  std::string admin = app.Login("admin");
  int64_t users_before = CountUsers(app);
  const std::string reg = "/api/v1/auth/register";
  ExpectProblem(app.Post(reg, "{\"username\": \"x\","), 400, "body");                      // malformed JSON
  ExpectProblem(app.Post(reg, "[1,2]"), 400, "body");                                      // not an object
  ExpectProblem(app.Post(reg, R"({"username": 5, "password": "0123456789", "full_name": "A"})"), 400, "username");
  ExpectProblem(app.Post(reg, R"({"username":"abc","password":"0123456789","full_name":"A","personal_id":"001090012345","admin":true})"),
                400, "admin");                                                             // unknown field
  ExpectProblem(app.Post(reg, "{\"username\":\"ab\xff\xfe\"}"), 400, "body");               // invalid UTF-8
  ExpectProblem(app.Post(reg, R"({"username":"abc\u0000d","password":"0123456789","full_name":"A"})"), 400, "username");
  ExpectProblem(app.Post(reg, R"({"username":"newcitizen","password":"0123456789","full_name":"A","personal_id":"12345"})"),
                400, "personal_id");
  ExpectProblem(app.Post(reg, R"({"username":"newcitizen","password":"0123456789","full_name":"A","personal_id":"003090012345"})"),
                400, "personal_id");                                                       // no province 003
  ExpectProblem(app.Post(reg, R"({"username":"newcitizen","password":"0123456789","full_name":"A","personal_id":"001390012345"})"),
                400, "personal_id");                                                       // born 2090
  ExpectProblem(app.Post(reg, R"({"username":"newcitizen","password":"0123456789","full_name":"A","personal_id":"001090099999","phone":"12"})"),
                400, "phone");
  ExpectProblem(app.Post(reg, R"({"username":"newcitizen","password":"short","full_name":"A","personal_id":"001090099999"})"),
                400, "password");
  ExpectProblem(app.Post(reg, R"({"username":"Bad Name!","password":"0123456789","full_name":"A","personal_id":"001090099999"})"),
                400, "username");
  ExpectProblem(app.Post(reg, R"({"username":"admin","password":"0123456789","full_name":"A","personal_id":"001090099999"})"),
                409, "username");                                                          // taken
  ExpectProblem(HttpRequest(app.port(), "POST", reg, R"({"username":"x"})", {{"Content-Type", "text/plain"}}), 415,
                "Content-Type");
  std::string huge = R"({"username":")" + std::string(1 << 20, 'a') + R"("})";
  ExpectProblem(app.Post(reg, huge), 413, "body");
  ExpectProblem(app.Post("/api/v1/users", R"({"username":"zz1","password":"0123456789","role":"wizard","full_name":"Z"})", admin),
                400, "role");
  ExpectProblem(app.Post("/api/v1/users",
                         R"({"username":"zz2","password":"0123456789","role":"desk_officer","full_name":"Z","agency_code":"NOPE"})",
                         admin),
                400, "agency_code");
  ExpectProblem(app.Post("/api/v1/users", R"({"username":"zz3","password":"0123456789","role":"desk_officer","full_name":"Z"})", admin),
                400, "agency_code");
  EXPECT_EQ(CountUsers(app), users_before) << "a rejected request wrote something";
}

TEST_P(BadInputTest, QueryAndPathProblems) {
  TestApp app(GetParam());
  ExpectProblem(app.Get("/api/v1/procedures?q=%FF%FE"), 400, "q");
  ExpectProblem(app.Get("/api/v1/procedures?q=%ZZ"), 400, "q");
  ExpectProblem(app.Get("/api/v1/procedures?limit=abc"), 400, "limit");
  ExpectProblem(app.Get("/api/v1/procedures?limit=1000"), 400, "limit");
  ExpectProblem(app.Get("/api/v1/procedures?level=district"), 400, "level");
  ExpectProblem(app.Get("/api/v1/procedures?cursor=garbage"), 400, "cursor");
  ExpectProblem(app.Get("/api/v1/procedures/1.001193?at=2026-02-30"), 400, "at");
  ExpectProblem(app.Get("/api/v1/procedures/9.9"), 404, "");
  ExpectProblem(app.Get("/api/v1/nothing-here"), 404, "");
  auto wrong_method = app.Call("DELETE", "/api/v1/procedures", "", "");
  ExpectProblem(wrong_method, 405, "method");
  EXPECT_EQ(Json(wrong_method)["type"], "urn:thanglong:problem:method-not-allowed");
  EXPECT_NE(wrong_method.Header("allow").find("GET"), std::string::npos);
}

TEST_P(BadInputTest, MissingMalformedAndUnknownTokens) {
  TestApp app(GetParam());
  auto none = app.Get("/api/v1/me");
  ExpectProblem(none, 401, "");
  EXPECT_EQ(none.Header("www-authenticate"), "Bearer");
  ExpectProblem(HttpRequest(app.port(), "GET", "/api/v1/me", "", {{"Authorization", "Basic YWRtaW46eA=="}}), 401, "");
  ExpectProblem(app.Get("/api/v1/me", "not-a-real-token"), 401, "");
  ExpectProblem(app.Get("/api/v1/me", std::string(500, 'x')), 401, "");
}

TEST_P(BadInputTest, OversizeHeadersAndGarbageDoNotCrashTheServer) {
  TestApp app(GetParam());
  std::string big_header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  std::string reply = RawExchange(app.port(), big_header);
  EXPECT_TRUE(reply.empty() || reply.find(" 4") != std::string::npos) << reply.substr(0, 100);
  RawExchange(app.port(), "THIS IS NOT HTTP\r\n\r\n");
  RawExchange(app.port(), std::string("\x16\x03\x01\x02\x00", 5));  // a TLS hello to the plain port
  EXPECT_EQ(app.Get("/healthz").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, BadInputTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
