// End-to-end API tests: the real server with every module, on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

class ApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { app_ = std::make_unique<TestApp>(GetParam()); }
  void TearDown() override { app_.reset(); }
  TestApp& app() { return *app_; }
  std::unique_ptr<TestApp> app_;
};

TEST_P(ApiTest, HealthReadinessAndMetrics) {
  EXPECT_EQ(app().Get("/healthz").status, 200);
  auto ready = app().Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(Json(ready)["storage"], GetParam() == "sqlite" ? "sqlite" : "postgresql");
  app().Get("/api/v1/procedures/1.001193");
  auto m = app().Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find(R"(thanglong_http_requests_total{method="GET",route="/api/v1/procedures/{code}",status="200"} 1)"),
            std::string::npos)
      << m.body.substr(0, 2000);
  EXPECT_NE(m.body.find("thanglong_http_request_duration_seconds_bucket{"), std::string::npos);
  EXPECT_NE(m.body.find("thanglong_storage_transactions_committed_total"), std::string::npos);
  EXPECT_NE(m.body.find("thanglong_http_open_connections"), std::string::npos);
  if (GetParam() == "sqlite") {
    // The start-up's migrations and imports committed: their truncations had nothing to drop.
    auto at = m.body.find("\nthanglong_storage_page_cache_truncations_skipped_total ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_GT(std::stod(m.body.substr(at + 56)), 0) << m.body.substr(at, 80);
  }
}

TEST_P(ApiTest, EveryRouteIsInTheOpenApiDocument) {
  auto r = app().Get("/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  json doc = Json(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  const auto& routes = app().app().dispatcher().routes();
  EXPECT_GE(routes.size(), 25u);
  for (const auto& route : routes) {
    std::string method = http::MethodName(route.method);
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << "missing path " << route.pattern;
    EXPECT_TRUE(doc["paths"][route.pattern].contains(method)) << "missing " << method << " " << route.pattern;
  }
}

TEST_P(ApiTest, AdministrativeUnitsOfHanoi) {
  auto provinces = Json(app().Get("/api/v1/admin-units"));
  EXPECT_EQ(provinces["items"].size(), 34u);
  auto hn = Json(app().Get("/api/v1/admin-units?parent=01"));
  ASSERT_EQ(hn["items"].size(), 126u);
  int wards = 0, communes = 0;
  for (const auto& u : hn["items"]) {
    if (u["kind"] == "phường") wards++;
    if (u["kind"] == "xã") communes++;
    EXPECT_EQ(u["parent_code"], "01");
    EXPECT_EQ(u["level"], 2);
  }
  EXPECT_EQ(wards, 51);
  EXPECT_EQ(communes, 75);
  auto unit = Json(app().Get("/api/v1/admin-units/00004"));
  EXPECT_EQ(unit["name"], "Phường Ba Đình");
  EXPECT_GE(unit["predecessors"].size(), 5u);
  EXPECT_EQ(app().Get("/api/v1/admin-units?parent=99").status, 404);
  EXPECT_EQ(app().Get("/api/v1/admin-units/77777").status, 404);
}

TEST_P(ApiTest, OldUnitNamesResolveToTheCurrentUnit) {
  for (const char* q : {"Phường%20Trúc%20Bạch", "phuong%20truc%20bach", "Tr%C3%BAc%20B%E1%BA%A1ch"}) {
    auto r = Json(app().Get(std::string("/api/v1/admin-units/resolve?name=") + q));
    ASSERT_FALSE(r["matches"].empty()) << q;
    EXPECT_EQ(r["matches"][0]["unit"]["code"], "00004") << q;
    EXPECT_EQ(r["matches"][0]["unit"]["name"], "Phường Ba Đình");
    EXPECT_EQ(r["matches"][0]["via"]["name"], "Phường Trúc Bạch");
    EXPECT_EQ(r["matches"][0]["via"]["type"], "full");
  }
  // A current name resolves to itself, with no predecessor.
  auto cur = Json(app().Get("/api/v1/admin-units/resolve?name=Ph%C6%B0%E1%BB%9Dng%20Ba%20%C4%90%C3%ACnh&province=01"));
  ASSERT_FALSE(cur["matches"].empty());
  EXPECT_EQ(cur["matches"][0]["unit"]["code"], "00004");
  EXPECT_TRUE(cur["matches"][0]["via"].is_null());
  auto none = app().Get("/api/v1/admin-units/resolve?name=Atlantis");
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(Json(none)["matches"].empty());
  EXPECT_EQ(app().Get("/api/v1/admin-units/resolve").status, 400);
}

TEST_P(ApiTest, AgenciesComeFromTheUnits) {
  auto all = Json(app().Get("/api/v1/agencies"));
  int communes = 0, departments = 0, centers = 0, city = 0;
  for (const auto& a : all["items"]) {
    if (a["kind"] == "commune_committee") communes++;
    if (a["kind"] == "department") departments++;
    if (a["kind"] == "service_center") centers++;
    if (a["kind"] == "city_committee") city++;
  }
  EXPECT_EQ(communes, 126);
  EXPECT_GE(departments, 15);
  EXPECT_EQ(centers, 1);
  EXPECT_EQ(city, 1);
  auto ba_dinh = Json(app().Get("/api/v1/agencies?unit=00004"));
  ASSERT_EQ(ba_dinh["items"].size(), 1u);
  EXPECT_EQ(ba_dinh["items"][0]["code"], "UBND00004");
  EXPECT_EQ(ba_dinh["items"][0]["name"], "Ủy ban nhân dân Phường Ba Đình");
  EXPECT_EQ(ba_dinh["items"][0]["parent_code"], "UBND01");
}

TEST_P(ApiTest, CatalogueSearchIgnoresDiacriticsAndCase) {
  auto plain = Json(app().Get("/api/v1/procedures?q=dang+ky+khai+sinh&limit=50"));
  auto marked = Json(app().Get("/api/v1/procedures?q=%C4%90%C4%83ng%20k%C3%BD%20khai%20sinh&limit=50"));
  auto upper = Json(app().Get("/api/v1/procedures?q=DANG%20KY%20KHAI%20SINH&limit=50"));
  EXPECT_EQ(plain, marked);
  EXPECT_EQ(plain, upper);
  ASSERT_GE(plain["items"].size(), 8u);
  EXPECT_EQ(plain["items"][0]["code"], "1.001193");  // "Thủ tục đăng ký khai sinh" itself comes first
  EXPECT_EQ(plain["total"], plain["items"].size());
  // Names holding the phrase come before names that merely hold the words somewhere.
  bool phrase_run_ended = false;
  int with_phrase = 0;
  for (const auto& it : plain["items"]) {
    std::string name = it["name"];
    bool has = name.find("đăng ký khai sinh") != std::string::npos || name.find("Đăng ký khai sinh") != std::string::npos;
    if (has) {
      EXPECT_FALSE(phrase_run_ended) << "a phrase match ranked after a looser match: " << it["name"];
      with_phrase++;
    } else {
      phrase_run_ended = true;
    }
  }
  EXPECT_GE(with_phrase, 8);
}

TEST_P(ApiTest, CatalogueFiltersAndKeysetPagination) {
  auto all = Json(app().Get("/api/v1/procedures?limit=1"));
  EXPECT_EQ(all["total"], 1601);
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    auto page = Json(app().Get("/api/v1/procedures?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor)));
    for (const auto& it : page["items"]) EXPECT_TRUE(seen.insert(it["code"].get<std::string>()).second) << it["code"];
    pages++;
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
    ASSERT_LT(pages, 30);
  }
  EXPECT_EQ(seen.size(), 1601u);
  EXPECT_EQ(pages, 17);

  auto commune = Json(app().Get("/api/v1/procedures?level=commune&limit=100"));
  for (const auto& it : commune["items"]) {
    auto levels = it["levels"];
    EXPECT_NE(std::find(levels.begin(), levels.end(), "commune"), levels.end());
  }
  auto sectors = Json(app().Get("/api/v1/procedures/sectors"));
  ASSERT_FALSE(sectors["items"].empty());
  int64_t sum = 0;
  for (const auto& s : sectors["items"]) sum += s["count"].get<int64_t>();
  EXPECT_EQ(sum, 1601);
  auto ht = Json(app().Get("/api/v1/procedures?sector=H%E1%BB%99%20t%E1%BB%8Bch&limit=100"));
  EXPECT_GT(ht["total"].get<int>(), 10);
  for (const auto& it : ht["items"]) EXPECT_EQ(it["sector"], "Hộ tịch");
}

TEST_P(ApiTest, ProcedureDetailAndVersionsByEffectiveDate) {
  auto got = app().Get("/api/v1/procedures/1.001193");
  ASSERT_EQ(got.status, 200);
  auto p = Json(got);
  EXPECT_EQ(p["name"], "Thủ tục đăng ký khai sinh");
  EXPECT_EQ(p["sector"], "Hộ tịch");
  EXPECT_EQ(p["version"], 1);
  EXPECT_EQ(p["result"], "Giấy khai sinh");
  EXPECT_EQ(app().Get("/api/v1/procedures/9.999999").status, 404);

  std::string admin = app().Login("admin");
  json change = p;
  change.erase("version");
  change["name"] = "Thủ tục đăng ký khai sinh (sửa đổi 2027)";
  change["effective_from"] = "2027-01-01";
  auto put = app().Put("/api/v1/procedures/1.001193", change.dump(), admin);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put)["version"], 2);
  // Not in force yet: the current version is unchanged; the future one is visible by date.
  EXPECT_EQ(Json(app().Get("/api/v1/procedures/1.001193"))["version"], 1);
  EXPECT_EQ(Json(app().Get("/api/v1/procedures/1.001193?at=2027-02-01"))["version"], 2);
  EXPECT_EQ(Json(app().Get("/api/v1/procedures/1.001193/versions"))["items"].size(), 2u);
  // When the date arrives, the new version becomes current (and searchable).
  app().clock().Set(1798761600000 + 3600000);  // 2027-01-01T01:00Z
  auto now = Json(app().Get("/api/v1/procedures/1.001193"));
  EXPECT_EQ(now["version"], 2);
  auto search = Json(app().Get("/api/v1/procedures?q=sua+doi+2027"));
  ASSERT_EQ(search["items"].size(), 1u);
  EXPECT_EQ(search["items"][0]["code"], "1.001193");
}

TEST_P(ApiTest, AdminCreatesAProcedure) {
  std::string admin = app().Login("admin");
  json p = {{"code", "9.000001.H01"},
            {"name", "Thủ tục thí điểm cấp phép đỗ xe thông minh"},
            {"sector", "Giao thông vận tải"},
            {"levels", {"province"}},
            {"processing", {{{"channel", "online"}, {"duration", 3}, {"unit", "working_day"}}}},
            {"fees_vnd", {50000}}};
  auto r = app().Post("/api/v1/procedures", p.dump(), admin);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(app().Post("/api/v1/procedures", p.dump(), admin).status, 409);
  auto found = Json(app().Get("/api/v1/procedures?q=cap+phep+do+xe+thong+minh"));
  ASSERT_FALSE(found["items"].empty());
  EXPECT_EQ(found["items"][0]["code"], "9.000001.H01");
  p["levels"] = {"district"};
  p["code"] = "9.000002";
  auto bad = app().Post("/api/v1/procedures", p.dump(), admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["field"], "levels");
}

TEST_P(ApiTest, LoginLogoutAndTokenLifecycle) {
  auto bad = app().Post("/api/v1/auth/login", R"({"username":"citizen","password":"wrong password"})");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(Json(bad)["type"], "urn:thanglong:problem:unauthenticated");
  std::string token = app().Login("citizen");
  ASSERT_EQ(token.size(), 43u);  // 256 bits, base64url
  auto me = app().Get("/api/v1/me", token);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(Json(me)["full_name"], "Nguyễn Văn An");
  EXPECT_EQ(Json(me)["personal_id"], "001090012345");
  EXPECT_EQ(me.Header("cache-control"), "no-store");
  // Only a hash of the token is stored.
  bool plaintext_found = false;
  Status st = app().app().db().Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT token_hash FROM sessions"));
    for (const auto& r : rs.rows) plaintext_found = plaintext_found || r.Text(0) == token;
    EXPECT_FALSE(rs.empty());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(plaintext_found);
  EXPECT_EQ(app().Post("/api/v1/auth/logout", "", token).status, 204);
  auto after = app().Get("/api/v1/me", token);
  EXPECT_EQ(after.status, 401);
  EXPECT_NE(Json(after)["detail"].get<std::string>().find("revoked"), std::string::npos);
  // Tokens expire.
  std::string t2 = app().Login("citizen");
  EXPECT_EQ(app().Get("/api/v1/me", t2).status, 200);
  app().clock().Advance(13LL * 3600 * 1000);
  auto expired = app().Get("/api/v1/me", t2);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(Json(expired)["detail"].get<std::string>().find("expired"), std::string::npos);
}

TEST_P(ApiTest, FailedLoginsAreRateLimitedPerAccountAndAddress) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(app().Post("/api/v1/auth/login", R"({"username":"leader","password":"not the password"})").status, 401);
  }
  auto limited = app().Post("/api/v1/auth/login", R"({"username":"leader","password":"ThangLong@2025"})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(Json(limited)["type"], "urn:thanglong:problem:rate-limited");
  // Other accounts are not locked by it...
  EXPECT_EQ(app().Post("/api/v1/auth/login", R"({"username":"desk","password":"ThangLong@2025"})").status, 200);
  // ...until the address itself has failed too often.
  for (int i = 0; i < 15; ++i) {
    app().Post("/api/v1/auth/login", json{{"username", "ghost" + std::to_string(i)}, {"password", "xxxxxxxxxxxx"}}.dump());
  }
  EXPECT_EQ(app().Post("/api/v1/auth/login", R"({"username":"specialist","password":"ThangLong@2025"})").status, 429);
  // The window passes.
  app().clock().Advance(16 * 60 * 1000);
  EXPECT_EQ(app().Post("/api/v1/auth/login", R"({"username":"leader","password":"ThangLong@2025"})").status, 200);
}

TEST_P(ApiTest, WritesAndPersonalDataReadsAreAudited) {
  std::string admin = app().Login("admin");
  auto create = app().Post("/api/v1/users",
                           json{{"username", "desk2"}, {"password", "Mật khẩu dài 2025"}, {"role", "desk_officer"},
                                {"full_name", "Đỗ Thị Lan"}, {"agency_code", "UBND00008"}}
                               .dump(),
                           admin);
  ASSERT_EQ(create.status, 201) << create.body;
  auto list = app().Get("/api/v1/users", admin);
  ASSERT_EQ(list.status, 200);
  std::string list_request_id = list.Header("x-request-id");
  auto audit = Json(app().Get("/api/v1/audit?limit=200", admin));
  bool saw_create = false, saw_read = false, saw_login = false;
  for (const auto& e : audit["items"]) {
    if (e["action"] == "user.create" && e["resource"] == "user:desk2" && e["actor"] == "admin") saw_create = true;
    if (e["action"] == "read" && e["resource"] == "/api/v1/users" && e["request_id"] == list_request_id) saw_read = true;
    if (e["action"] == "auth.login" && e["actor"] == "admin") saw_login = true;
    EXPECT_FALSE(e["client_ip"].get<std::string>().empty());
  }
  EXPECT_TRUE(saw_create);
  EXPECT_TRUE(saw_read);
  EXPECT_TRUE(saw_login);
  auto verify = Json(app().Get("/api/v1/audit/verify", admin));
  EXPECT_TRUE(verify["intact"].get<bool>());
  EXPECT_GT(verify["entries"].get<int>(), 5);
}

TEST_P(ApiTest, AuditVerificationDetectsEditsAndDeletions) {
  std::string admin = app().Login("admin");
  app().Get("/api/v1/users", admin);
  auto& log = app().app().audit();
  auto ok = log.Verify();
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(ok->intact);
  // Edit one entry.
  ASSERT_TRUE(app().app().db().Write([](storage::Session& s) {
    return s.Exec("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3").status();
  }).ok());
  auto edited = log.Verify();
  ASSERT_TRUE(edited.ok());
  EXPECT_FALSE(edited->intact);
  EXPECT_EQ(edited->first_bad_seq, 3);
  // Delete one instead.
  TestApp fresh(GetParam());
  std::string t = fresh.Login("admin");
  fresh.Get("/api/v1/users", t);
  // On PostgreSQL the entries wait in audit_pending until chained; tamper with the chain itself.
  ASSERT_TRUE(fresh.app().audit().ChainPending().ok());
  ASSERT_TRUE(fresh.app().db().Write([](storage::Session& s) {
    return s.Exec("DELETE FROM audit_log WHERE seq = 2").status();
  }).ok());
  auto deleted = fresh.app().audit().Verify();
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->intact);
  EXPECT_EQ(deleted->first_bad_seq, 2);
  // And the tail.
  TestApp tail(GetParam());
  std::string t2 = tail.Login("admin");
  ASSERT_TRUE(tail.app().audit().ChainPending().ok());
  ASSERT_TRUE(tail.app().db().Write([](storage::Session& s) {
    return s.Exec("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").status();
  }).ok());
  auto cut = tail.app().audit().Verify();
  ASSERT_TRUE(cut.ok());
  EXPECT_FALSE(cut->intact);
}

TEST_P(ApiTest, CitizensRegisterWithAValidPersonalIdAndTextIsStoredNfc) {
  // "Nguyễn" written decomposed (NFD): e + combining circumflex + combining tilde.
  std::string nfd_name;
  nfd_name = "Nguye\xCC\x82\xCC\x83n Ma\xCC\x80i";
  auto r = app().Post("/api/v1/auth/register", json{{"username", "mai.nguyen"}, {"password", "một mật khẩu dài"},
                                                     {"full_name", nfd_name}, {"personal_id", "001305012345"},
                                                     {"phone", "0912345678"}}
                                                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["full_name"], "Nguyễn Mài");  // precomposed
  std::string t = app().Login("mai.nguyen", "một mật khẩu dài");
  EXPECT_EQ(Json(app().Get("/api/v1/me", t))["role"], "citizen");
  // The same personal ID cannot register twice.
  auto dup = app().Post("/api/v1/auth/register", json{{"username", "mai2"}, {"password", "một mật khẩu dài"},
                                                       {"full_name", "Mai"}, {"personal_id", "001305012345"}}
                                                      .dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Json(dup)["field"], "personal_id");
  // Self-registration cannot make officials.
  auto official = app().Post("/api/v1/auth/register", json{{"username", "sneaky"}, {"password", "một mật khẩu dài"},
                                                            {"full_name", "X"}, {"role", "city_admin"}}
                                                           .dump());
  EXPECT_EQ(official.status, 400);
  EXPECT_EQ(Json(official)["field"], "role");
}

TEST_P(ApiTest, DisablingAnAccountRevokesItsTokens) {
  std::string admin = app().Login("admin");
  std::string desk = app().Login("desk");
  EXPECT_EQ(app().Get("/api/v1/me", desk).status, 200);
  EXPECT_EQ(app().Post("/api/v1/users/desk/disable", "", admin).status, 200);
  EXPECT_EQ(app().Get("/api/v1/me", desk).status, 401);
  EXPECT_EQ(app().Post("/api/v1/auth/login", R"({"username":"desk","password":"ThangLong@2025"})").status, 401);
  EXPECT_EQ(app().Post("/api/v1/users/admin/disable", "", admin).status, 422);  // not yourself
  EXPECT_EQ(app().Post("/api/v1/users/desk/enable", "", admin).status, 200);
  EXPECT_FALSE(app().Login("desk").empty());
}

TEST_P(ApiTest, SecurityHeadersOnEveryResponse) {
  for (const auto& r : {app().Get("/api/v1/procedures/1.001193"), app().Get("/api/v1/nope"), app().Get("/healthz")}) {
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
    EXPECT_NE(r.Header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_NE(r.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(r.Header("x-frame-options"), "DENY");
    EXPECT_FALSE(r.Header("x-request-id").empty());
  }
  auto echoed = HttpRequest(app().port(), "GET", "/healthz", "", {{"X-Request-Id", "trace-abc-123"}});
  EXPECT_EQ(echoed.Header("x-request-id"), "trace-abc-123");
}

TEST_P(ApiTest, ConcurrentReadsAndWritesAllSucceed) {
  std::string admin = app().Login("admin");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (app().Get("/api/v1/procedures/1.001193").status == 200) ok++;
        if (i % 5 == 0) {
          auto r = app().Post("/api/v1/users",
                              json{{"username", "u" + std::to_string(t) + "x" + std::to_string(i)},
                                   {"password", "Mật khẩu dài 2025"}, {"role", "specialist"}, {"full_name", "Chuyên viên"},
                                   {"agency_code", "UBND00004"}}
                                  .dump(),
                              admin);
          if (r.status == 201) ok++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8 * 25 + 8 * 5);
  EXPECT_TRUE(app().app().audit().Verify()->intact);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

// Static front end: served with safe headers, hashed assets cached, single-page-app fallback.
TEST(StaticFilesTest, ServesTheFrontEndWithSpaFallback) {
  auto dir = std::filesystem::temp_directory_path() / ("tl-web-" + crypto::RandomToken(6));
  std::filesystem::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<!doctype html><title>ThangLong</title>";
  std::ofstream(dir / "assets" / "app-abc123.js") << "console.log(1)";
  {
    TestApp app("sqlite", dir.string());
    auto index = app.Get("/");
    EXPECT_EQ(index.status, 200);
    EXPECT_NE(index.Header("content-type").find("text/html"), std::string::npos);
    EXPECT_NE(index.Header("content-security-policy").find("default-src 'self'"), std::string::npos);
    auto js = app.Get("/assets/app-abc123.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_NE(js.Header("content-type").find("text/javascript"), std::string::npos);
    EXPECT_NE(js.Header("cache-control").find("immutable"), std::string::npos);
    auto deep = app.Get("/procedures/1.001193");
    EXPECT_EQ(deep.status, 200);
    EXPECT_EQ(deep.body, index.body);
    EXPECT_EQ(app.Get("/missing.png").status, 404);
    EXPECT_EQ(app.Get("/api/v1/not-a-route").status, 404);
    EXPECT_EQ(app.Get("/api/v1/not-a-route").Header("content-type"), "application/problem+json");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tl::testing
