// The population registry and the data access log through the real server (all modules wired), on
// both backends: officials look people up only with a stated purpose, every such read shows up in
// the person's own "who looked at my data" log (an organisation's in the organisation account's),
// other roles are refused, and the log's chain verifies.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <sstream>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

class RegistryApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    // The demo citizen (001090012345) with a wife and a son.
    std::istringstream family(
        R"({"personal_id":"001090012345","full_name":"Nguyễn Văn An","birth_date":"1990-03-15","sex":"male","birth_place":"00004","permanent_unit":"00004","permanent_address":"Số 12 phố Quán Thánh","household_id":"001090012345","household_role":"head","spouse_id":"001192034567"}
{"personal_id":"001192034567","full_name":"Trần Thị Mai","birth_date":"1992-07-01","sex":"female","birth_place":"00004","permanent_unit":"00004","household_id":"001090012345","household_role":"spouse","spouse_id":"001090012345"}
{"personal_id":"001219045678","full_name":"Nguyễn Minh Khôi","birth_date":"2019-09-09","sex":"male","birth_place":"00004","permanent_unit":"00004","household_id":"001090012345","household_role":"child","father_id":"001090012345","mother_id":"001192034567"}
)");
    int rejected = 0;
    auto r = app_->app().registry().Import(family, population::InputFormat::kNdjson, "test",
                                           [&](const population::Rejection&) { ++rejected; });
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(rejected, 0);
  }
  // Revokes the demo grants of `service` to `agency` (the demo seeds the ward's grants for both
  // registry services); returns how many there were.
  int RevokeDemoGrants(const std::string& agency, const std::string& service, const std::string& admin) {
    int revoked = 0;
    const json grants = Json(app_->Get("/api/v1/exchange/grants", admin))["items"];  // a copy: not into a temporary
    for (const auto& g : grants) {
      if (g["consumer_agency"] != agency || g["service"] != service || g["active"] != true) continue;
      EXPECT_EQ(app_->Post("/api/v1/exchange/grants/" + std::to_string(g["id"].get<int64_t>()) + "/revoke", "", admin)
                    .status,
                204);
      revoked++;
    }
    return revoked;
  }
  std::unique_ptr<TestApp> app_;
};

TEST_P(RegistryApiTest, AnOfficialsLookUpNeedsAPurposeAndAppearsInTheCitizensLog) {
  std::string desk = app_->Login("desk");
  std::string citizen = app_->Login("citizen");
  // No purpose: refused, naming the parameter, and nothing is logged.
  auto missing = app_->Get("/api/v1/registry/people/001090012345", desk);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Json(missing)["field"], "purpose");
  auto bad_id = app_->Get("/api/v1/registry/people/12345?purpose=x%C3%A1c+minh+h%E1%BB%93+s%C6%A1", desk);
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(Json(bad_id)["field"], "personal_id");
  auto unknown = app_->Get("/api/v1/registry/people/001090099999?purpose=x%C3%A1c+minh+h%E1%BB%93+s%C6%A1", desk);
  EXPECT_EQ(unknown.status, 404);

  auto found = app_->Get(
      "/api/v1/registry/people/001090012345?purpose=X%C3%A1c+minh+nh%C3%A2n+th%C3%A2n&dossier=UBND00004-261118-0001",
      desk);
  ASSERT_EQ(found.status, 200) << found.body;
  json p = Json(found);
  EXPECT_EQ(p["full_name"], "Nguyễn Văn An");
  EXPECT_EQ(p["spouse"]["full_name"], "Trần Thị Mai");
  ASSERT_EQ(p["children"].size(), 1u);
  EXPECT_EQ(p["household"]["members"].size(), 3u);

  auto log = app_->Get("/api/v1/me/data-access-log", citizen);
  ASSERT_EQ(log.status, 200) << log.body;
  json items = Json(log)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["agency"], "UBND00004");
  EXPECT_EQ(items[0]["official"], "desk");
  EXPECT_EQ(items[0]["purpose"], "Xác minh nhân thân");
  EXPECT_EQ(items[0]["dossier_code"], "UBND00004-261118-0001");
  // The citizen's own record, and the chain verifies.
  // The citizen reports that read; it reaches the city admins' queue, once.
  std::string seq = std::to_string(items[0]["seq"].get<int64_t>());
  auto report = app_->Post("/api/v1/me/data-access-log/" + seq + "/report",
                           R"({"reason":"Tôi không nộp hồ sơ nào ở phường này"})", citizen);
  ASSERT_EQ(report.status, 201) << report.body;
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + seq + "/report", R"({"reason":"lần nữa, xin xem lại"})", citizen).status,
            409);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + seq + "/report", R"({"reason":"x"})", citizen).status, 400);
  EXPECT_EQ(app_->Get("/api/v1/exchange/reports", desk).status, 403);
  std::string admin = app_->Login("admin");
  auto queue = Json(app_->Get("/api/v1/exchange/reports", admin));
  ASSERT_EQ(queue["items"].size(), 1u);
  EXPECT_EQ(queue["items"][0]["status"], "open");
  EXPECT_EQ(queue["items"][0]["read_by_official"], "desk");
  std::string rid = std::to_string(queue["items"][0]["id"].get<int64_t>());
  EXPECT_EQ(app_->Post("/api/v1/exchange/reports/" + rid + "/resolve",
                       R"({"resolution":"Đã xác minh: cán bộ tra cứu đúng hồ sơ khai sinh"})", admin)
                .status,
            204);
  EXPECT_EQ(Json(app_->Get("/api/v1/exchange/reports", admin))["items"][0]["status"], "resolved");
  auto own = app_->Get("/api/v1/me/registry", citizen);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(Json(own)["children"][0]["full_name"], "Nguyễn Minh Khôi");
  auto verified = app_->app().access_log().Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact);
  EXPECT_EQ(verified->entries, 1);
  // The serving platform seals the log every second with its own certified key.
  for (int i = 0; i < 100 && verified->sealed_upto < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    verified = app_->app().access_log().Verify();
    ASSERT_TRUE(verified.ok());
  }
  EXPECT_TRUE(verified->intact) << verified->problem;
  EXPECT_EQ(verified->sealed_upto, 1);
}

TEST_P(RegistryApiTest, OnlyOfficialsLookUpAndOnlyCitizensReadTheirOwnLog) {
  const std::string target = "/api/v1/registry/people/001090012345?purpose=ki%E1%BB%83m+tra+h%E1%BB%93+s%C6%A1";
  EXPECT_EQ(app_->Get(target).status, 401);
  for (const char* who : {"citizen", "org", "agencyadmin", "admin", "operator"}) {
    EXPECT_EQ(app_->Get(target, app_->Login(who)).status, 403) << who;
  }
  for (const char* who : {"desk", "specialist", "leader"}) {
    EXPECT_EQ(app_->Get(target, app_->Login(who)).status, 200) << who;
  }
  EXPECT_EQ(app_->Get("/api/v1/me/data-access-log").status, 401);
  EXPECT_EQ(app_->Get("/api/v1/me/data-access-log", app_->Login("desk")).status, 403);
  // A citizen without a registry number sees nothing of anyone else's.
  auto reg = app_->Post("/api/v1/auth/register",
                        R"({"username":"binh","password":"Mật khẩu dài 2025","full_name":"Lê Văn Bình","personal_id":"001085000777"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto other = app_->Get("/api/v1/me/data-access-log", app_->Login("binh", "Mật khẩu dài 2025"));
  ASSERT_EQ(other.status, 200);
  EXPECT_TRUE(Json(other)["items"].empty());
  EXPECT_EQ(app_->Get("/api/v1/me/registry", app_->Login("binh", "Mật khẩu dài 2025")).status, 404);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/1/report", R"({"reason":"không phải của tôi"})",
                       app_->Login("binh", "Mật khẩu dài 2025"))
                .status,
            404);
  EXPECT_EQ(Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")))["items"].size(), 3u);
}

TEST_P(RegistryApiTest, AnAgencyWithoutAGrantIsRefusedUntilAnAdminGrantsSomeFields) {
  std::string admin = app_->Login("admin");
  auto made = app_->Post("/api/v1/users",
                         json{{"username", "snv.desk"}, {"password", "Mật khẩu dài 2025"}, {"role", "specialist"},
                              {"full_name", "Cán bộ Sở Nội vụ"}, {"agency_code", "SNV01"}}
                             .dump(),
                         admin);
  ASSERT_EQ(made.status, 201) << made.body;
  std::string snv = app_->Login("snv.desk", "Mật khẩu dài 2025");
  const std::string target = "/api/v1/registry/people/001090012345?purpose=ki%E1%BB%83m+tra+h%E1%BB%93+s%C6%A1";
  auto refused = app_->Get(target, snv);
  EXPECT_EQ(refused.status, 403) << refused.body;
  auto audit = Json(app_->Get("/api/v1/audit?actor=snv.desk", admin));
  bool logged = false;
  for (const auto& e : audit["items"]) logged = logged || e["action"] == "exchange.denied";
  EXPECT_TRUE(logged) << audit.dump();
  EXPECT_TRUE(Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")))["items"].empty());
  // The services on offer, and a grant of the basic facts only.
  auto services = Json(app_->Get("/api/v1/exchange/services", snv));
  ASSERT_EQ(services["items"].size(), 2u) << services.dump();
  EXPECT_EQ(services["items"][0]["code"], "registry.organisation");
  EXPECT_EQ(services["items"][1]["code"], "registry.person");
  json grant = {{"consumer_agency", "SNV01"}, {"service", "registry.person"}, {"fields", {"basic"}},
                {"legal_basis", "Luật Căn cước 2023, Điều 10"}, {"purpose", "Kiểm tra hồ sơ công chức"},
                {"expires_on", "2027-12-31"}};
  EXPECT_EQ(app_->Post("/api/v1/exchange/grants", grant.dump(), snv).status, 403);
  json bad = grant;
  bad["fields"] = {"basic", "salary"};
  auto refused_grant = app_->Post("/api/v1/exchange/grants", bad.dump(), admin);
  EXPECT_EQ(refused_grant.status, 400);
  EXPECT_EQ(Json(refused_grant)["field"], "fields");
  auto created = app_->Post("/api/v1/exchange/grants", grant.dump(), admin);
  ASSERT_EQ(created.status, 201) << created.body;
  auto read = app_->Get(target, snv);
  ASSERT_EQ(read.status, 200) << read.body;
  json p = Json(read);
  EXPECT_EQ(p["full_name"], "Nguyễn Văn An");
  EXPECT_FALSE(p.contains("spouse"));
  EXPECT_FALSE(p.contains("household"));
  EXPECT_FALSE(p.contains("permanent_address"));
  json items = Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")))["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["agency"], "SNV01");
  EXPECT_EQ(items[0]["fields"], "basic");
  // Revoked: refused again.
  ASSERT_EQ(app_->Post("/api/v1/exchange/grants/" + std::to_string(Json(created)["id"].get<int64_t>()) + "/revoke", "",
                       admin)
                .status,
            204);
  EXPECT_EQ(app_->Get(target, snv).status, 403);
  // The admins' list tells a revoked grant from a live one.
  auto listed = Json(app_->Get("/api/v1/exchange/grants", admin));
  bool found = false;
  for (const auto& g : listed["items"]) {
    if (g["id"] != Json(created)["id"]) continue;
    found = true;
    EXPECT_EQ(g["status"], "revoked");
    EXPECT_FALSE(g["revoked_at"].is_null());
    EXPECT_EQ(g["active"], false);
  }
  EXPECT_TRUE(found) << listed.dump();
}

TEST_P(RegistryApiTest, OrganisationsAreReadUnderAGrantWithAPurposeAndEveryReadIsLogged) {
  population::Organisation org;
  org.tax_code = "0101234567";
  org.name = "Công ty TNHH Thăng Long Số";
  org.representative_id = 1090012345;
  org.representative_name = "Nguyễn Văn An";
  org.address = "Số 5 phố Điện Biên Phủ, Phường Ba Đình";
  org.unit_code = "00004";
  ASSERT_TRUE(app_->app().db().Write([&](storage::Session& s) { return app_->app().registry().SaveOrganisation(s, org); }).ok());
  population::Organisation bad = org;
  bad.tax_code = "12345";
  EXPECT_EQ(app_->app().db().Write([&](storage::Session& s) { return app_->app().registry().SaveOrganisation(s, bad); }).field(),
            "tax_code");
  std::string desk = app_->Login("desk"), admin = app_->Login("admin");
  const std::string target = "/api/v1/registry/organisations/0101234567?purpose=X%C3%A1c+minh+doanh+nghi%E1%BB%87p";
  // Bad input names the field; other roles are refused.
  EXPECT_EQ(Json(app_->Get("/api/v1/registry/organisations/0101234567", desk))["field"], "purpose");
  EXPECT_EQ(Json(app_->Get("/api/v1/registry/organisations/01012?purpose=x%C3%A1c+minh+th%C3%B4i", desk))["field"], "tax_code");
  EXPECT_EQ(app_->Get(target).status, 401);
  for (const char* who : {"citizen", "org", "admin", "operator"}) {
    EXPECT_EQ(app_->Get(target, app_->Login(who)).status, 403) << who;
  }
  // Deny by default: without the demo's grant of the organisations' service the ward is refused,
  // and the refusal is audited.
  ASSERT_EQ(RevokeDemoGrants("UBND00004", "registry.organisation", admin), 1);
  auto refused = app_->Get(target, desk);
  EXPECT_EQ(refused.status, 403) << refused.body;
  auto audit = Json(app_->Get("/api/v1/audit?actor=desk", admin));
  bool logged = false;
  for (const auto& e : audit["items"]) logged = logged || (e["action"] == "exchange.denied" && e["resource"] == "registry.organisation");
  EXPECT_TRUE(logged) << audit.dump();
  json grant = {{"consumer_agency", "UBND00004"}, {"service", "registry.organisation"}, {"fields", {"basic", "address"}},
                {"legal_basis", "Luật Doanh nghiệp 2020"}, {"purpose", "Giải quyết thủ tục hành chính"},
                {"expires_on", "2027-12-31"}};
  auto created = app_->Post("/api/v1/exchange/grants", grant.dump(), admin);
  ASSERT_EQ(created.status, 201) << created.body;
  auto read = app_->Get(target + "&dossier=UBND00004-261118-0009", desk);
  ASSERT_EQ(read.status, 200) << read.body;
  json o = Json(read);
  EXPECT_EQ(o["name"], "Công ty TNHH Thăng Long Số");
  EXPECT_EQ(o["unit_code"], "00004");
  EXPECT_FALSE(o.contains("representative_id"));  // not granted
  EXPECT_FALSE(o.contains("representative_name"));
  EXPECT_EQ(app_->Get("/api/v1/registry/organisations/0109999999?purpose=x%C3%A1c+minh+th%C3%B4i", desk).status, 404);
  // The read is in the data access log under the tax code, with its purpose; not in any person's log.
  auto log = app_->app().access_log().ForOrganisation("0101234567", 0, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].official, "desk");
  EXPECT_EQ((*log)[0].consumer_agency, "UBND00004");
  EXPECT_EQ((*log)[0].service, "registry.organisation");
  EXPECT_EQ((*log)[0].fields, "address,basic");
  EXPECT_EQ((*log)[0].purpose, "Xác minh doanh nghiệp");
  EXPECT_EQ((*log)[0].dossier_code, "UBND00004-261118-0009");
  EXPECT_TRUE(Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")))["items"].empty());
  auto verified = app_->app().access_log().Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
  EXPECT_EQ(verified->entries, 1);
  // With the representative group granted as well, the representative's personal id and name are read:
  // the read is then also in that person's own log, naming the organisation.
  json wider = grant;
  wider["fields"] = {"basic", "representative"};
  ASSERT_EQ(RevokeDemoGrants("UBND00004", "registry.organisation", admin), 1);  // the narrower one above
  ASSERT_EQ(app_->Post("/api/v1/exchange/grants", wider.dump(), admin).status, 201);
  auto with_rep = app_->Get(target, desk);
  ASSERT_EQ(with_rep.status, 200) << with_rep.body;
  EXPECT_EQ(Json(with_rep)["representative_id"], "001090012345");
  auto mine = Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")));
  ASSERT_EQ(mine["items"].size(), 1u) << mine.dump();
  EXPECT_EQ(mine["items"][0]["service"], "registry.organisation");
  EXPECT_EQ(mine["items"][0]["fields"], "representative_of:0101234567");
  EXPECT_EQ(mine["items"][0]["agency"], "UBND00004");
  EXPECT_EQ(mine["items"][0]["purpose"], "Xác minh doanh nghiệp");
  EXPECT_EQ(app_->app().access_log().ForOrganisation("0101234567", 0, 10)->size(), 2u);
  auto both = app_->app().access_log().Verify();
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->intact) << both->problem;
  EXPECT_EQ(both->entries, 3);
  // Editing the logged tax code breaks the chain.
  ASSERT_TRUE(app_->app().db().Write([](storage::Session& s) {
                    return s.ExecScript("UPDATE data_access_log SET tax_code = '0109999999'");
                  }).ok());
  EXPECT_FALSE(app_->app().access_log().Verify()->intact);
}

TEST_P(RegistryApiTest, AnOrganisationSeesWhoReadItsDataAndReportsAReadButSeesNoOneElses) {
  // Two organisations, imported; the demo account "org" holds the first's tax code.
  std::istringstream orgs(
      R"({"tax_code":"0101234567","name":"Công ty TNHH Thăng Long Số","representative_id":"001090012345","representative_name":"Nguyễn Văn An","address":"Số 5 phố Điện Biên Phủ","unit_code":"00004"}
{"tax_code":"0109876543","name":"Công ty Cổ phần Hồ Tây","address":"Số 1 đường Thanh Niên"}
)");
  int rejected = 0;
  auto imported = app_->app().registry().ImportOrganisations(orgs, population::InputFormat::kNdjson, "test",
                                                             [&](const population::Rejection&) { ++rejected; });
  ASSERT_TRUE(imported.ok()) << imported.status().message();
  ASSERT_EQ(imported->loaded, 2);
  ASSERT_EQ(rejected, 0);
  std::string admin = app_->Login("admin"), desk = app_->Login("desk"), org = app_->Login("org"),
              citizen = app_->Login("citizen");
  auto reg = app_->Post("/api/v1/auth/register",
                        R"({"username":"hotay","password":"Mật khẩu dài 2025","full_name":"Công ty Cổ phần Hồ Tây","role":"organisation","tax_code":"0109876543"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  std::string other = app_->Login("hotay", "Mật khẩu dài 2025");
  // A second account cannot claim a tax code an organisation account holds: it would see its log.
  auto claim = app_->Post("/api/v1/auth/register",
                          R"({"username":"mao","password":"Mật khẩu dài 2025","full_name":"Giả mạo","role":"organisation","tax_code":"0109876543"})");
  EXPECT_EQ(claim.status, 409) << claim.body;
  EXPECT_EQ(Json(claim)["field"], "tax_code");
  // The demo's grant (every field group) gives way to one of the basic group only.
  ASSERT_EQ(RevokeDemoGrants("UBND00004", "registry.organisation", admin), 1);
  json grant = {{"consumer_agency", "UBND00004"}, {"service", "registry.organisation"}, {"fields", {"basic"}},
                {"legal_basis", "Luật Doanh nghiệp 2020"}, {"purpose", "Giải quyết thủ tục hành chính"},
                {"expires_on", "2027-12-31"}};
  ASSERT_EQ(app_->Post("/api/v1/exchange/grants", grant.dump(), admin).status, 201);
  // Before any read the organisation's log is empty.
  auto empty = app_->Get("/api/v1/me/data-access-log", org);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(Json(empty)["items"].empty());
  // The ward reads both organisations and the demo citizen.
  ASSERT_EQ(app_->Get("/api/v1/registry/organisations/0101234567?purpose=X%C3%A1c+minh+doanh+nghi%E1%BB%87p"
                      "&dossier=UBND00004-261118-0009",
                      desk)
                .status,
            200);
  ASSERT_EQ(app_->Get("/api/v1/registry/organisations/0109876543?purpose=Ki%E1%BB%83m+tra+h%E1%BB%93+s%C6%A1", desk).status,
            200);
  ASSERT_EQ(app_->Get("/api/v1/registry/people/001090012345?purpose=X%C3%A1c+minh+nh%C3%A2n+th%C3%A2n", desk).status, 200);

  // Each organisation sees exactly the reads of its own data: agency, purpose, time.
  json mine = Json(app_->Get("/api/v1/me/data-access-log", org))["items"];
  ASSERT_EQ(mine.size(), 1u) << mine.dump();
  EXPECT_EQ(mine[0]["agency"], "UBND00004");
  EXPECT_EQ(mine[0]["official"], "desk");
  EXPECT_EQ(mine[0]["service"], "registry.organisation");
  EXPECT_EQ(mine[0]["subject"], "organisation");
  EXPECT_EQ(mine[0]["fields"], "basic");
  EXPECT_EQ(mine[0]["purpose"], "Xác minh doanh nghiệp");
  EXPECT_EQ(mine[0]["dossier_code"], "UBND00004-261118-0009");
  EXPECT_FALSE(mine[0]["at"].get<std::string>().empty());
  json theirs = Json(app_->Get("/api/v1/me/data-access-log", other))["items"];
  ASSERT_EQ(theirs.size(), 1u) << theirs.dump();
  EXPECT_EQ(theirs[0]["purpose"], "Kiểm tra hồ sơ");
  json persons = Json(app_->Get("/api/v1/me/data-access-log", citizen))["items"];
  ASSERT_EQ(persons.size(), 1u) << persons.dump();
  EXPECT_EQ(persons[0]["service"], "registry.person");
  EXPECT_EQ(persons[0]["subject"], "person");
  const std::string own_seq = std::to_string(mine[0]["seq"].get<int64_t>());
  const std::string their_seq = std::to_string(theirs[0]["seq"].get<int64_t>());
  const std::string person_seq = std::to_string(persons[0]["seq"].get<int64_t>());

  // Reports: only of one's own reads; another's entry answers as a missing one does.
  const std::string reason = R"({"reason":"Công ty không có hồ sơ nào tại phường này"})";
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + their_seq + "/report", reason, org).status, 404);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + person_seq + "/report", reason, org).status, 404);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + own_seq + "/report", reason, citizen).status, 404);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/99999/report", reason, org).status, 404);
  auto bad = app_->Post("/api/v1/me/data-access-log/" + own_seq + "/report", R"({"reason":"x"})", org);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["field"], "reason");
  auto report = app_->Post("/api/v1/me/data-access-log/" + own_seq + "/report", reason, org);
  ASSERT_EQ(report.status, 201) << report.body;
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + own_seq + "/report", reason, org).status, 409);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + person_seq + "/report", reason, citizen).status, 201);
  auto queue = Json(app_->Get("/api/v1/exchange/reports", admin))["items"];
  ASSERT_EQ(queue.size(), 2u) << queue.dump();
  EXPECT_EQ(queue[0]["subject"], "organisation");
  EXPECT_EQ(queue[0]["tax_code"], "0101234567");
  EXPECT_EQ(queue[0]["reporter"], "org");
  EXPECT_EQ(queue[0]["read_by_agency"], "UBND00004");
  EXPECT_EQ(queue[1]["subject"], "person");
  EXPECT_TRUE(queue[1]["tax_code"].is_null());
  // Officials have no log of their own; the chain still verifies.
  EXPECT_EQ(app_->Get("/api/v1/me/data-access-log", desk).status, 403);
  EXPECT_EQ(app_->Post("/api/v1/me/data-access-log/" + own_seq + "/report", reason, desk).status, 403);
  auto verified = app_->app().access_log().Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact) << verified->problem;
  EXPECT_EQ(verified->entries, 3);
}

TEST_P(RegistryApiTest, CityAdminsManageApiKeysThroughTheApiAndSeeTheSecretOnce) {
  std::string admin = app_->Login("admin");
  // Bad input names the field; other roles are refused.
  auto no_scope = app_->Post("/api/v1/admin/api-keys", R"({"name":"Hệ thống A","agency_code":"UBND00004","scopes":[]})", admin);
  EXPECT_EQ(no_scope.status, 400) << no_scope.body;
  EXPECT_EQ(Json(no_scope)["field"], "scopes");
  auto bad_scope = app_->Post("/api/v1/admin/api-keys",
                              R"({"name":"Hệ thống A","agency_code":"UBND00004","scopes":["everything"]})", admin);
  EXPECT_EQ(Json(bad_scope)["field"], "scopes");
  auto bad_agency = app_->Post("/api/v1/admin/api-keys",
                               R"({"name":"Hệ thống A","agency_code":"NOWHERE","scopes":["registry.read"]})", admin);
  EXPECT_EQ(bad_agency.status, 400) << bad_agency.body;
  EXPECT_EQ(Json(bad_agency)["field"], "agency_code");
  EXPECT_EQ(Json(app_->Post("/api/v1/admin/api-keys", R"({"agency_code":"UBND00004","scopes":["registry.read"]})", admin))["field"],
            "name");
  EXPECT_EQ(Json(app_->Post("/api/v1/admin/api-keys", R"({"name":"x","agency_code":"UBND00004","scopes":["registry.read"],"role":"city_admin"})", admin))["field"],
            "role");
  EXPECT_EQ(app_->Post("/api/v1/admin/api-keys/abc/revoke", "", admin).status, 400);
  EXPECT_EQ(app_->Post("/api/v1/admin/api-keys/999/revoke", "", admin).status, 404);
  const std::string body = R"({"name":"Hệ thống hộ tịch phường","agency_code":"UBND00004","scopes":["registry.read"]})";
  for (const char* who : {"citizen", "desk", "agencyadmin", "operator"}) {
    EXPECT_EQ(app_->Get("/api/v1/admin/api-keys", app_->Login(who)).status, 403) << who;
    EXPECT_EQ(app_->Post("/api/v1/admin/api-keys", body, app_->Login(who)).status, 403) << who;
  }
  EXPECT_EQ(app_->Get("/api/v1/admin/api-keys").status, 401);

  auto created = app_->Post("/api/v1/admin/api-keys", body, admin);
  ASSERT_EQ(created.status, 201) << created.body;
  json key = Json(created);
  const std::string secret = key["secret"];
  EXPECT_EQ(secret.rfind("tlk_", 0), 0u);
  EXPECT_EQ(key["scopes"], json({"registry.read"}));
  EXPECT_TRUE(key["revoked_at"].is_null());
  const std::string target = "/api/v1/registry/people/001090012345?purpose=%C4%91%E1%BB%93ng+b%E1%BB%99+h%E1%BB%99+t%E1%BB%8Bch";
  EXPECT_EQ(app_->Get(target, secret).status, 200);
  // The list never shows a secret again.
  auto list = app_->Get("/api/v1/admin/api-keys", admin);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  ASSERT_EQ(Json(list)["items"].size(), 1u);
  EXPECT_EQ(Json(list)["items"][0]["name"], "Hệ thống hộ tịch phường");
  EXPECT_FALSE(Json(list)["items"][0].contains("secret"));
  const std::string revoke = "/api/v1/admin/api-keys/" + std::to_string(key["id"].get<int64_t>()) + "/revoke";
  EXPECT_EQ(app_->Post(revoke, "", app_->Login("desk")).status, 403);
  EXPECT_EQ(app_->Post(revoke, "", admin).status, 204);
  EXPECT_EQ(app_->Post(revoke, "", admin).status, 404);  // already revoked
  EXPECT_EQ(app_->Get(target, secret).status, 401);
  EXPECT_FALSE(Json(app_->Get("/api/v1/admin/api-keys", admin))["items"][0]["revoked_at"].is_null());
  // Both are in the audit log.
  auto audit = Json(app_->Get("/api/v1/audit?actor=admin", admin));
  int seen = 0;
  for (const auto& e : audit["items"]) seen += e["action"] == "api_key.create" || e["action"] == "api_key.revoke";
  EXPECT_EQ(seen, 2) << audit.dump();
}

TEST_P(RegistryApiTest, AnotherAgencysSystemReadsWithAScopedRevocableApiKey) {
  auto cli = identity::Actor::Cli("test");
  auto key = app_->app().identity().CreateApiKey(cli, "Hệ thống hộ tịch phường", "UBND00004", {"registry.read"});
  ASSERT_TRUE(key.ok()) << key.status().message();
  const std::string secret = key->second;
  EXPECT_EQ(secret.rfind("tlk_", 0), 0u);
  const std::string target = "/api/v1/registry/people/001090012345?purpose=%C4%91%E1%BB%93ng+b%E1%BB%99+h%E1%BB%99+t%E1%BB%8Bch";
  auto read = app_->Get(target, secret);
  ASSERT_EQ(read.status, 200) << read.body;
  auto items = Json(app_->Get("/api/v1/me/data-access-log", app_->Login("citizen")))["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["official"], "key:" + std::to_string(key->first.id));
  EXPECT_EQ(items[0]["agency"], "UBND00004");
  // Keys cannot do what officials do elsewhere.
  EXPECT_EQ(app_->Get("/api/v1/dossiers", secret).status, 403);
  EXPECT_EQ(app_->Get("/api/v1/registry/people/001090012345", secret).status, 400);  // still needs a purpose
  // A key of an agency without a grant is refused; unknown and revoked keys are not keys.
  auto other = app_->app().identity().CreateApiKey(cli, "Hệ thống Sở Nội vụ", "SNV01", {"registry.read"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(app_->Get(target, other->second).status, 403);
  EXPECT_EQ(app_->Get(target, "tlk_" + std::string(43, 'A')).status, 401);
  EXPECT_EQ(app_->app().identity().CreateApiKey(cli, "x", "UBND00004", {"everything"}).status().field(), "scope");
  ASSERT_TRUE(app_->app().identity().RevokeApiKey(cli, key->first.id).ok());
  EXPECT_EQ(app_->Get(target, secret).status, 401);
  auto listed = app_->app().identity().ListApiKeys();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE((*listed)[0].revoked_at.has_value());
}

// Carries a dossier of `procedure` with `form` from online submission to issue-result.
json CarryToResult(TestApp& app, const std::string& procedure, const json& applicant, const json& form,
                   const json& components) {
  std::string citizen = app.Login("citizen"), desk = app.Login("desk"), specialist = app.Login("specialist"),
              leader = app.Login("leader");
  auto r = app.Post("/api/v1/dossiers",
                    json{{"procedure_code", procedure}, {"unit_code", "00004"}, {"delivery", "online"},
                         {"applicant", applicant}, {"form", form}, {"components", components}}
                        .dump(),
                    citizen);
  EXPECT_EQ(r.status, 201) << r.body;
  json d = Json(r);
  for (auto [token, action] : {std::pair{desk, "receive"}, {desk, "assign"}, {specialist, "propose"},
                               {leader, "approve"}, {specialist, "issue-result"}}) {
    json body{{"version", d["version"]}};
    if (std::string(action) == "assign") body["assignee"] = "specialist";
    auto a = app.Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/" + action, body.dump(), token);
    EXPECT_EQ(a.status, 200) << action << ": " << a.body;
    d = Json(a);
  }
  return d;
}

TEST_P(RegistryApiTest, ABirthRegistrationAddsTheChildLinkedToBothParentsInOneTransaction) {
  json form = {{"relationship", "Cha"},
               {"child", {{"full_name", "Nguyễn Minh Anh"}, {"date_of_birth", "2026-11-10"}, {"sex", "Nữ"},
                          {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
               {"father", {{"full_name", "Nguyễn Văn An"}, {"year_of_birth", 1990}}},
               {"mother", {{"full_name", "Trần Thị Mai"}, {"year_of_birth", 1992}}}};
  json d = CarryToResult(*app_, "1.001193",
                         {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}, form,
                         {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"});
  ASSERT_EQ(d["status"], "result_issued");
  auto own = Json(app_->Get("/api/v1/me/registry", app_->Login("citizen")));
  ASSERT_EQ(own["children"].size(), 2u) << own.dump();
  json anh;
  for (const auto& c : own["children"]) {
    if (c["full_name"] == "Nguyễn Minh Anh") anh = c;
  }
  ASSERT_TRUE(anh.is_object());
  std::string id = anh["personal_id"];
  EXPECT_EQ(id.substr(0, 6), "001326");  // Hà Nội, a girl born in the 2000s, 2026
  auto child = Json(app_->Get("/api/v1/registry/people/" + id + "?purpose=ki%E1%BB%83m+tra+khai+sinh", app_->Login("desk")));
  EXPECT_EQ(child["father"]["personal_id"], "001090012345");
  EXPECT_EQ(child["mother"]["personal_id"], "001192034567");  // the father's wife
  EXPECT_EQ(child["household"]["id"], "001090012345");
  EXPECT_EQ(child["permanent_unit"], "00004");
  // The result in the parent's wallet names the child; the change is in the child's history.
  auto wallet = Json(app_->Get("/api/v1/me/wallet", app_->Login("citizen")));
  ASSERT_EQ(wallet["items"].size(), 1u);
  EXPECT_EQ(wallet["items"][0]["title"], "Giấy khai sinh: Nguyễn Minh Anh (" + id + ")");
  // A second child, now that the agency has its signing key: the result is signed ahead of the
  // transaction, for the personal id picked ahead (dossiers.h, ResultListener::Prepare), and is the
  // same valid document naming the id the registry gave.
  form["child"]["full_name"] = "Nguyễn Minh Châu";
  d = CarryToResult(*app_, "1.001193",
                    {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}, form,
                    {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"});
  ASSERT_EQ(d["status"], "result_issued");
  own = Json(app_->Get("/api/v1/me/registry", app_->Login("citizen")));
  std::string chau;
  for (const auto& c : own["children"]) {
    if (c["full_name"] == "Nguyễn Minh Châu") chau = c["personal_id"];
  }
  ASSERT_EQ(chau.substr(0, 6), "001326");
  wallet = Json(app_->Get("/api/v1/me/wallet", app_->Login("citizen")));
  ASSERT_EQ(wallet["items"].size(), 2u);
  json second;
  for (const auto& item : wallet["items"]) {
    if (item["number"] == d["code"]) second = item;
  }
  ASSERT_TRUE(second.is_object()) << wallet.dump();
  EXPECT_EQ(second["title"], "Giấy khai sinh: Nguyễn Minh Châu (" + chau + ")");
  auto verified = app_->Post("/api/v1/documents/verify", json{{"document_id", second["id"]}}.dump());
  EXPECT_EQ(Json(verified)["status"], "valid") << verified.body;
}

TEST_P(RegistryApiTest, AMarriageLinksTheSpousesAndAContradictionRefusesTheResult) {
  std::istringstream two(
      R"({"personal_id":"001088000101","full_name":"Lê Văn Hùng","birth_date":"1988-02-02","sex":"male","birth_place":"00004","permanent_unit":"00004"}
{"personal_id":"001193000102","full_name":"Phạm Thị Lan","birth_date":"1993-03-03","sex":"female","birth_place":"00004","permanent_unit":"00004"}
)");
  ASSERT_TRUE(app_->app().registry().Import(two, population::InputFormat::kNdjson, "test", [](const population::Rejection&) {}).ok());
  auto spouse = [](const std::string& name, const std::string& born, const std::string& id) {
    return json{{"full_name", name}, {"date_of_birth", born}, {"ethnicity", "Kinh"}, {"nationality", "Việt Nam"},
                {"residence", "Phường Ba Đình"}, {"personal_id", id}, {"marriage_count", 1}};
  };
  json form = {{"husband", spouse("Lê Văn Hùng", "1988-02-02", "001088000101")},
               {"wife", spouse("Phạm Thị Lan", "1993-03-03", "001193000102")}};
  json d = CarryToResult(*app_, "1.000894", {{"full_name", "Lê Văn Hùng"}, {"personal_id", "001088000101"}, {"phone", "0912000101"}}, form,
                         {"Tờ khai đăng ký kết hôn"});
  ASSERT_EQ(d["status"], "result_issued");
  std::string desk = app_->Login("desk");
  auto h = Json(app_->Get("/api/v1/registry/people/001088000101?purpose=ki%E1%BB%83m+tra+k%E1%BA%BFt+h%C3%B4n", desk));
  EXPECT_EQ(h["spouse"]["personal_id"], "001193000102");
  // The demo citizen is already married: registering him with Lan is refused and nothing changes.
  json bigamy = {{"husband", spouse("Nguyễn Văn An", "1990-03-15", "001090012345")},
                 {"wife", spouse("Phạm Thị Lan", "1993-03-03", "001193000102")}};
  std::string citizen = app_->Login("citizen"), specialist = app_->Login("specialist"), leader = app_->Login("leader");
  auto r = app_->Post("/api/v1/dossiers",
                      json{{"procedure_code", "1.000894"}, {"unit_code", "00004"}, {"delivery", "online"},
                           {"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
                           {"form", bigamy}, {"components", {"Tờ khai đăng ký kết hôn"}}}
                          .dump(),
                      citizen);
  ASSERT_EQ(r.status, 201) << r.body;
  json b = Json(r);
  for (auto [token, action] : {std::pair{desk, "receive"}, {desk, "assign"}, {specialist, "propose"}, {leader, "approve"}}) {
    json body{{"version", b["version"]}};
    if (std::string(action) == "assign") body["assignee"] = "specialist";
    b = Json(app_->Post("/api/v1/dossiers/" + b["code"].get<std::string>() + "/actions/" + action, body.dump(), token));
  }
  auto refused = app_->Post("/api/v1/dossiers/" + b["code"].get<std::string>() + "/actions/issue-result",
                            json{{"version", b["version"]}}.dump(), specialist);
  EXPECT_GE(refused.status, 400);
  EXPECT_LT(refused.status, 500) << refused.body;
  EXPECT_NE(refused.body.find("married"), std::string::npos) << refused.body;
  auto still = Json(app_->Get("/api/v1/dossiers/" + b["code"].get<std::string>(), specialist));
  EXPECT_NE(still["status"], "result_issued");
  auto an = Json(app_->Get("/api/v1/registry/people/001090012345?purpose=ki%E1%BB%83m+tra+k%E1%BA%BFt+h%C3%B4n", desk));
  EXPECT_EQ(an["spouse"]["personal_id"], "001192034567");
}

TEST_P(RegistryApiTest, ADeathRegistrationClosesThePersonAndContradictionsRefuseTheResult) {
  auto death_form = [](const std::string& name, const std::string& id, const std::string& born, const std::string& died) {
    return json{{"relationship", "Chồng"},
                {"deceased", {{"full_name", name}, {"personal_id", id}, {"date_of_birth", born}, {"sex", "Nữ"}}},
                {"death", {{"date_of_death", died}, {"place_of_death", "Bệnh viện Bạch Mai, Hà Nội"}}}};
  };
  const json applicant = {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}};
  const json components = {"Tờ khai đăng ký khai tử", "Giấy báo tử hoặc giấy tờ thay thế giấy báo tử"};
  std::string desk = app_->Login("desk");
  const std::string lookup = "/api/v1/registry/people/001192034567?purpose=ki%E1%BB%83m+tra+khai+t%E1%BB%AD";
  // Submitting a death form without the deceased's number is refused by the form itself.
  json no_id = death_form("Trần Thị Mai", "001192034567", "1992-07-01", "2026-11-12");
  no_id["deceased"].erase("personal_id");
  auto bad = app_->Post("/api/v1/dossiers",
                        json{{"procedure_code", "1.000656"}, {"unit_code", "00004"}, {"delivery", "online"},
                             {"applicant", applicant}, {"form", no_id}, {"components", components}}
                            .dump(),
                        app_->Login("citizen"));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Json(bad)["field"], "form.deceased.personal_id");

  json d = CarryToResult(*app_, "1.000656", applicant, death_form("Trần Thị Mai", "001192034567", "1992-07-01", "2026-11-12"),
                         components);
  ASSERT_EQ(d["status"], "result_issued") << d.dump();
  auto mai = Json(app_->Get(lookup, desk));
  EXPECT_EQ(mai["status"], "deceased");
  EXPECT_EQ(mai["died_on"], "2026-11-12");
  // The husband's own record shows his wife deceased; the extract is in his wallet.
  auto own = Json(app_->Get("/api/v1/me/registry", app_->Login("citizen")));
  EXPECT_EQ(own["spouse"]["status"], "deceased");
  auto wallet = Json(app_->Get("/api/v1/me/wallet", app_->Login("citizen")));
  ASSERT_EQ(wallet["items"].size(), 1u);
  EXPECT_EQ(wallet["items"][0]["title"], "Trích lục khai tử: Trần Thị Mai (001192034567)");
  EXPECT_EQ(wallet["items"][0]["type"], "1.000656");
  // The change is kept in her history with the dossier as its source.
  ASSERT_TRUE(app_->app().db().Read([&](storage::Session& s) -> Status {
                  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT source FROM people_history WHERE personal_id = ?",
                                                       {int64_t{1192034567}}));
                  EXPECT_EQ(rs.rows.size(), 1u);
                  if (!rs.empty()) {
                    EXPECT_EQ(rs.rows[0].Text(0), "dossier:" + d["code"].get<std::string>());
                  }
                  return Status::Ok();
                }).ok());

  // A second registration of the same death, and one of someone unknown to the registry: the result is
  // refused (422 naming the form's field), the dossier stays approved and nothing is written.
  for (const auto& [name, id, born] : {std::tuple<std::string, std::string, std::string>{"Trần Thị Mai", "001192034567", "1992-07-01"},
                                       {"Hoàng Văn Vắng", "001050000999", "1950-01-01"}}) {
    std::string citizen = app_->Login("citizen"), specialist = app_->Login("specialist"), leader = app_->Login("leader");
    auto r = app_->Post("/api/v1/dossiers",
                        json{{"procedure_code", "1.000656"}, {"unit_code", "00004"}, {"delivery", "online"},
                             {"applicant", applicant}, {"form", death_form(name, id, born, "2026-11-13")},
                             {"components", components}}
                            .dump(),
                        citizen);
    ASSERT_EQ(r.status, 201) << r.body;
    json b = Json(r);
    for (auto [token, action] : {std::pair{desk, "receive"}, {desk, "assign"}, {specialist, "propose"}, {leader, "approve"}}) {
      json body{{"version", b["version"]}};
      if (std::string(action) == "assign") body["assignee"] = "specialist";
      b = Json(app_->Post("/api/v1/dossiers/" + b["code"].get<std::string>() + "/actions/" + action, body.dump(), token));
    }
    auto refused = app_->Post("/api/v1/dossiers/" + b["code"].get<std::string>() + "/actions/issue-result",
                              json{{"version", b["version"]}}.dump(), specialist);
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(Json(refused)["field"], "form.deceased.personal_id") << refused.body;
    EXPECT_EQ(refused.Header("content-type"), "application/problem+json");
    auto still = Json(app_->Get("/api/v1/dossiers/" + b["code"].get<std::string>(), specialist));
    EXPECT_EQ(still["status"], "approved") << id;
  }
  EXPECT_EQ(Json(app_->Get(lookup, desk))["died_on"], "2026-11-12");
  EXPECT_EQ(Json(app_->Get("/api/v1/me/wallet", app_->Login("citizen")))["items"].size(), 1u);
  EXPECT_EQ(app_->Get("/api/v1/registry/people/001050000999?purpose=ki%E1%BB%83m+tra+khai+t%E1%BB%AD", desk).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
