// The role x route x jurisdiction matrix, table-driven, against the real server on both backends.
#include <gtest/gtest.h>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kCallers = {"anonymous", "citizen", "org",         "desk",    "specialist",
                                           "leader",    "agencyadmin", "admin", "operator"};

struct Case {
  std::string method;
  std::string target;
  std::string body;  // "{n}" is replaced by a per-caller number, to keep created names unique
  std::map<std::string, int> expected;  // caller -> status; callers not listed expect `otherwise`
  int otherwise;
};

std::string Fill(std::string body, int n) {
  auto pos = body.find("{n}");
  while (pos != std::string::npos) {
    body.replace(pos, 3, std::to_string(n));
    pos = body.find("{n}");
  }
  return body;
}

class AuthorizationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AuthorizationTest, RoleByRouteMatrix) {
  TestApp app(GetParam());
  std::map<std::string, std::string> tokens;
  for (const auto& c : kCallers) {
    if (c != "anonymous") tokens[c] = app.Login(c);
  }
  const std::string new_desk_in_ba_dinh =
      R"({"username":"m{n}","password":"Mật khẩu dài 2025","role":"desk_officer","full_name":"Cán bộ","agency_code":"UBND00004"})";
  const std::string new_procedure =
      R"({"code":"9.{n}","name":"Thủ tục thử {n}","sector":"Thử","levels":["commune"]})";
  const std::vector<Case> cases = {
      {"GET", "/api/v1/procedures?q=khai+sinh", "", {}, 200},
      {"GET", "/api/v1/admin-units?parent=01", "", {}, 200},
      {"GET", "/api/v1/me", "", {{"anonymous", 401}}, 200},
      {"GET", "/api/v1/users", "", {{"anonymous", 401}, {"agencyadmin", 200}, {"admin", 200}}, 403},
      {"POST", "/api/v1/users", new_desk_in_ba_dinh, {{"anonymous", 401}, {"agencyadmin", 201}, {"admin", 201}}, 403},
      {"GET", "/api/v1/users/desk", "", {{"anonymous", 401}, {"agencyadmin", 200}, {"admin", 200}}, 403},
      {"GET", "/api/v1/users/operator", "", {{"anonymous", 401}, {"admin", 200}}, 403},  // VP01: outside UBND00004
      {"POST", "/api/v1/procedures", new_procedure, {{"anonymous", 401}, {"admin", 201}}, 403},
      {"GET", "/api/v1/audit", "", {{"anonymous", 401}, {"admin", 200}}, 403},
      {"GET", "/api/v1/admin/api-keys", "", {{"anonymous", 401}, {"admin", 200}}, 403},
      {"POST", "/api/v1/admin/api-keys", R"({"name":"Hệ thống {n}","agency_code":"UBND00004","scopes":["ngsild.read"]})",
       {{"anonymous", 401}, {"admin", 201}}, 403},
      {"GET", "/api/v1/audit/verify", "", {{"anonymous", 401}, {"admin", 200}}, 403},
      // The official holiday schedule: public to read, city admins edit (Monday 4 January 2027 is a plain weekday).
      {"GET", "/api/v1/calendar/schedules/2026", "", {}, 200},
      {"PUT", "/api/v1/calendar/schedules/2027",
       R"({"entries":[{"date":"2027-01-04","kind":"day_off","reason":"Nghỉ thử {n}"}]})",
       {{"anonymous", 401}, {"admin", 200}}, 403},
      {"DELETE", "/api/v1/calendar/schedules/2027", "", {{"anonymous", 401}, {"admin", 204}}, 403},
  };
  int n = 0;
  for (const auto& c : cases) {
    for (const auto& caller : kCallers) {
      int want = c.expected.count(caller) ? c.expected.at(caller) : c.otherwise;
      auto r = app.Call(c.method, c.target, Fill(c.body, ++n), caller == "anonymous" ? "" : tokens[caller]);
      EXPECT_EQ(r.status, want) << caller << " " << c.method << " " << c.target << " -> " << r.body.substr(0, 200);
      if (r.status >= 400) {
        EXPECT_EQ(r.Header("content-type"), "application/problem+json");
      }
    }
  }
}

TEST_P(AuthorizationTest, AgencyAdminsActOnlyWithinTheirJurisdiction) {
  TestApp app(GetParam());
  std::string admin = app.Login("admin");
  std::string ba_dinh_admin = app.Login("agencyadmin");  // agency_admin @ UBND00004 (Phường Ba Đình)
  auto user = [](const std::string& name, const std::string& role, const std::string& agency) {
    return json{{"username", name}, {"password", "Mật khẩu dài 2025"}, {"role", role}, {"full_name", "Cán bộ " + name},
                {"agency_code", agency}}
        .dump();
  };
  // Within Ba Đình: yes. Another ward, a department, a city admin: no.
  EXPECT_EQ(app.Post("/api/v1/users", user("bd1", "specialist", "UBND00004"), ba_dinh_admin).status, 201);
  EXPECT_EQ(app.Post("/api/v1/users", user("nh1", "specialist", "UBND00008"), ba_dinh_admin).status, 403);
  EXPECT_EQ(app.Post("/api/v1/users", user("tp1", "specialist", "STP01"), ba_dinh_admin).status, 403);
  auto city = json::parse(user("ca1", "city_admin", "UBND00004"));
  EXPECT_EQ(app.Post("/api/v1/users", city.dump(), ba_dinh_admin).status, 403);
  EXPECT_EQ(app.Post("/api/v1/users/operator/disable", "", ba_dinh_admin).status, 403);
  EXPECT_EQ(app.Post("/api/v1/users/specialist/disable", "", ba_dinh_admin).status, 200);
  // The list holds only Ba Đình's officials.
  auto list = Json(app.Get("/api/v1/users", ba_dinh_admin));
  ASSERT_FALSE(list["items"].empty());
  for (const auto& u : list["items"]) EXPECT_EQ(u["agency_code"], "UBND00004") << u["username"];

  // An agency admin of the city's People's Committee covers every agency under it.
  ASSERT_EQ(app.Post("/api/v1/users", user("cityagencyadmin", "agency_admin", "UBND01"), admin).status, 201);
  std::string city_admin_of_agency = app.Login("cityagencyadmin", "Mật khẩu dài 2025");
  EXPECT_EQ(app.Post("/api/v1/users", user("nh2", "desk_officer", "UBND00008"), city_admin_of_agency).status, 201);
  EXPECT_EQ(app.Post("/api/v1/users", user("tp2", "leader", "STP01"), city_admin_of_agency).status, 201);
  // A department's agency admin does not reach the wards.
  ASSERT_EQ(app.Post("/api/v1/users", user("stpadmin", "agency_admin", "STP01"), admin).status, 201);
  std::string justice_admin = app.Login("stpadmin", "Mật khẩu dài 2025");
  EXPECT_EQ(app.Post("/api/v1/users", user("bd2", "desk_officer", "UBND00004"), justice_admin).status, 403);
  EXPECT_EQ(app.Post("/api/v1/users", user("tp3", "desk_officer", "STP01"), justice_admin).status, 201);
}

TEST_P(AuthorizationTest, PrincipalsCarryTheirJurisdiction) {
  TestApp app(GetParam());
  auto desk = app.app().identity().Authenticate(app.Login("desk"));
  ASSERT_TRUE(desk.ok());
  EXPECT_EQ(desk->agency, "UBND00004");
  EXPECT_TRUE(desk->CoversUnit("00004"));
  EXPECT_FALSE(desk->CoversUnit("00008"));
  EXPECT_TRUE(desk->CoversAgency("UBND00004"));
  EXPECT_FALSE(desk->CoversAgency("UBND00008"));
  EXPECT_FALSE(desk->city_wide);
  auto admin = app.app().identity().Authenticate(app.Login("admin"));
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->city_wide);
  EXPECT_TRUE(admin->CoversUnit("00008"));
  auto citizen = app.app().identity().Authenticate(app.Login("citizen"));
  ASSERT_TRUE(citizen.ok());
  EXPECT_FALSE(citizen->CoversUnit("00004"));
  EXPECT_FALSE(citizen->CoversAgency("UBND00004"));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthorizationTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
