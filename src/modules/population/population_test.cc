#include "modules/population/population.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/scratch_store.h"

namespace tl::population {
namespace {

using nlohmann::json;

class RegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto migrations = audit::AuditLog::Migrations();
    for (auto& m : exchange::AccessLog::Migrations()) migrations.push_back(m);
    for (auto& m : exchange::Grants::Migrations()) migrations.push_back(m);
    for (auto& m : PopulationRegistry::Migrations()) migrations.push_back(m);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, migrations).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    access_ = std::make_unique<exchange::AccessLog>(db_.get(), &clock_);
    grants_ = std::make_unique<exchange::Grants>(db_.get(), &clock_, audit_.get());
    registry_ = std::make_unique<PopulationRegistry>(db_.get(), &clock_, audit_.get(), access_.get(), grants_.get());
    ASSERT_TRUE(grants_->Publish(PopulationRegistry::Service()).ok());
    // The grants table checks the consumer against the agencies table of admin_units; a stand-in.
    ASSERT_TRUE(db_->Write([](storage::Session& s) {
                      return s.ExecScript("CREATE TABLE agencies (code TEXT PRIMARY KEY);"
                                          "INSERT INTO agencies (code) VALUES ('UBND00004'), ('UBND00008')");
                    }).ok());
  }
  LoadReport ImportText(const std::string& text, InputFormat f, std::vector<Rejection>* rejects) {
    std::istringstream in(text);
    auto r = registry_->Import(in, f, "test", [&](const Rejection& x) { rejects->push_back(x); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LoadReport{};
  }
  // A family: father (1987), mother (1990), son (2015), in one household headed by the father.
  static constexpr const char* kFamily =
      R"({"personal_id":"001087000001","full_name":"Nguyễn Văn An","birth_date":"1987-05-14","sex":"male","birth_place":"00004","permanent_unit":"00004","permanent_address":"Số 12 phố Quán Thánh","household_id":"001087000001","household_role":"head","spouse_id":"001190000002"}
{"personal_id":"001190000002","full_name":"Trần Thị Bình","birth_date":"1990-08-02","sex":"female","birth_place":"Thái Bình","permanent_unit":"00004","household_id":"001087000001","household_role":"spouse","spouse_id":"001087000001"}
{"personal_id":"001215000003","full_name":"Nguyễn Minh Khang","birth_date":"2015-01-20","sex":"male","birth_place":"00004","permanent_unit":"00004","household_id":"001087000001","household_role":"child","father_id":"001087000001","mother_id":"001190000002"}
)";
  ManualClock clock_{1795000000000};  // 2026-11-18
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<exchange::AccessLog> access_;
  std::unique_ptr<exchange::Grants> grants_;
  std::unique_ptr<PopulationRegistry> registry_;
};

TEST_P(RegistryTest, ImportsNdjsonAndReportsEveryRejectedRowWithItsLineAndField) {
  std::vector<Rejection> rejects;
  std::string text = std::string(kFamily) +
                     "not json\n"
                     R"({"personal_id":"001087000009","full_name":"Lê Văn C","birth_date":"1988-01-01","sex":"male","birth_place":"x"})"
                     "\n"
                     R"({"personal_id":"001087000010","full_name":"Lê Thị D","birth_date":"1987-01-01","sex":"female","birth_place":"x"})"
                     "\n"
                     R"({"personal_id":"001087000011","full_name":"Lê E","birth_date":"1987-01-01","sex":"male","birth_place":"x","colour":"blue"})"
                     "\n\n"
                     R"({"personal_id":"001087000001","full_name":"Nguyễn Văn An","birth_date":"1987-05-14","sex":"male","birth_place":"00004"})"
                     "\n";
  auto report = ImportText(text, InputFormat::kNdjson, &rejects);
  EXPECT_EQ(report.read, 8);
  EXPECT_EQ(report.loaded, 3);
  EXPECT_EQ(report.rejected, 5);
  ASSERT_EQ(rejects.size(), 5u);
  EXPECT_EQ(rejects[0].line, 4);
  EXPECT_EQ(rejects[0].field, "row");
  EXPECT_EQ(rejects[1].line, 5);
  EXPECT_EQ(rejects[1].field, "birth_date");  // 1988 against the number's 87
  EXPECT_EQ(rejects[2].field, "sex");          // female against the number's 0 (male)
  EXPECT_EQ(rejects[3].field, "colour");       // unknown field
  EXPECT_EQ(rejects[4].field, "personal_id");  // already in the registry
  EXPECT_EQ(*registry_->Count(), 3);
}

TEST_P(RegistryTest, ImportsCsvWithAHeaderQuotedFieldsAndABom) {
  std::vector<Rejection> rejects;
  auto report = ImportText(
      "\xEF\xBB\xBFpersonal_id,full_name,birth_date,sex,birth_place,permanent_address\n"
      "001087000001,Nguyễn Văn An,1987-05-14,male,00004,\"Số 12, phố Quán Thánh\"\n"
      "001190000002,Trần Thị Bình,1990-08-02,female,Thái Bình,\n"
      "001190000003,Trần Thị Cúc,1990-08-02,female\n",
      InputFormat::kCsv, &rejects);
  EXPECT_EQ(report.loaded, 2);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, 4);
  auto p = registry_->Get(1087000001);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->permanent_address.value_or(""), "Số 12, phố Quán Thánh");
  std::istringstream bad("personal_id,shoe_size\n");
  auto r = registry_->Import(bad, InputFormat::kCsv, "test", [](const Rejection&) {});
  EXPECT_EQ(r.status().field(), "header");
}

TEST_P(RegistryTest, ImportsOrganisationsReportingEveryRejectedRowAndUpsertsByTaxCode) {
  auto import = [&](const std::string& text, InputFormat f, std::vector<Rejection>* rejects) {
    std::istringstream in(text);
    auto r = registry_->ImportOrganisations(in, f, "test", [&](const Rejection& x) { rejects->push_back(x); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LoadReport{};
  };
  auto stored = [&](const std::string& tax_code) {
    std::optional<std::pair<std::string, int64_t>> out;  // (name + "|" + status, version)
    EXPECT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                      TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT name, status, version FROM organisations "
                                                           "WHERE tax_code = ?",
                                                           {tax_code}));
                      if (!rs.empty()) out = {rs.rows[0].Text(0) + "|" + rs.rows[0].Text(1), rs.rows[0].Int(2)};
                      return Status::Ok();
                    }).ok());
    return out;
  };
  const std::string csv =
      "\xEF\xBB\xBFtax_code,name,representative_id,representative_name,address,unit_code,status\r\n"
      "0101234567,Công ty TNHH Thăng Long Số,001087000001,Nguyễn Văn An,\"Số 5, phố Điện Biên Phủ\",00004,\r\n"
      "0101234567-001,Chi nhánh Cầu Giấy,,,Số 1 phố Trần Thái Tông,,active\r\n"
      "01012,Công ty sai mã,,,Hà Nội,,\r\n"                                     // line 4: bad tax code
      "0100000001,,,,Hà Nội,,\r\n"                                              // line 5: no name
      "0100000002,Công ty B,001287000001,X,Hà Nội,,\r\n"                        // line 6: born in 2087
      "0100000003,Công ty C,,,Hà Nội,,closed\r\n"                               // line 7: bad status
      "0100000004,Công ty D,,,\r\n"                                             // line 8: too few columns
      "0100000005,Công ty E,,,,,\r\n"                                           // line 9: no address
      "0101234567,Công ty trùng,,,Hà Nội,,\r\n";                                // line 10: twice in the file
  std::vector<Rejection> rejects;
  auto report = import(csv, InputFormat::kCsv, &rejects);
  EXPECT_EQ(report.read, 9);
  EXPECT_EQ(report.loaded, 2);
  EXPECT_EQ(report.unchanged, 0);
  EXPECT_EQ(report.rejected, 7);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& r : rejects) got.emplace_back(r.line, r.field);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{{4, "tax_code"},
                                                               {5, "name"},
                                                               {6, "representative_id"},
                                                               {7, "status"},
                                                               {8, "row"},
                                                               {9, "address"},
                                                               {10, "tax_code"}}));
  EXPECT_EQ(stored("0101234567"), (std::pair<std::string, int64_t>{"Công ty TNHH Thăng Long Số|active", 1}));
  EXPECT_TRUE(stored("0101234567-001").has_value());

  // The same file again changes nothing; a changed row replaces the record and counts a version.
  rejects.clear();
  report = import(csv, InputFormat::kCsv, &rejects);
  EXPECT_EQ(report.loaded, 0);
  EXPECT_EQ(report.unchanged, 2);
  EXPECT_EQ(stored("0101234567")->second, 1);
  rejects.clear();
  report = import(R"({"tax_code":"0101234567","name":"Công ty TNHH Thăng Long Số","address":"Số 5, phố Điện Biên Phủ","status":"suspended"}
not json
{"tax_code":"0109999999","name":"Công ty Mới","address":"Hà Nội","shoe_size":"42"}
{"tax_code":101234567,"name":"Số","address":"Hà Nội"}
)",
                  InputFormat::kNdjson, &rejects);
  EXPECT_EQ(report.read, 4);
  EXPECT_EQ(report.loaded, 1);
  EXPECT_EQ(report.rejected, 3);
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_EQ(rejects[0].line, 2);
  EXPECT_EQ(rejects[0].field, "row");
  EXPECT_EQ(rejects[1].field, "shoe_size");
  EXPECT_EQ(rejects[2].field, "tax_code");
  EXPECT_EQ(stored("0101234567"), (std::pair<std::string, int64_t>{"Công ty TNHH Thăng Long Số|suspended", 2}));
  // Every batch is on the audit log (read through the log, which chains what is pending first).
  auto entries = audit_->List(0, 100);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(std::count_if(entries->begin(), entries->end(),
                          [](const audit::StoredEntry& e) { return e.action == "population.organisations.load"; }),
            3);
  std::istringstream bad("tax_code,shoe_size\n");
  auto r = registry_->ImportOrganisations(bad, InputFormat::kCsv, "test", [](const Rejection&) {});
  EXPECT_EQ(r.status().field(), "header");
}

TEST_P(RegistryTest, AnOfficialsLookUpReturnsRelationsAndIsLoggedForThePerson) {
  std::vector<Rejection> rejects;
  ImportText(kFamily, InputFormat::kNdjson, &rejects);
  ASSERT_TRUE(rejects.empty());
  http::Principal desk;
  desk.username = "desk";
  desk.role = "desk_officer";
  desk.agency = "UBND00004";
  // Deny by default: no grant, no data (and the attempt is audited).
  EXPECT_EQ(registry_->LookUp(desk, 1087000001, {"xác minh", "", ""}, "req-0").status().code(),
            StatusCode::kPermissionDenied);
  exchange::NewGrant g{"UBND00004", "registry.person", {"basic", "residence", "relations", "household"},
                       "Luật Căn cước 2023", "Giải quyết thủ tục hành chính", 1795000000000 + 86400000};
  ASSERT_TRUE(grants_->Create(g, {"admin", "", "", "", "", ""}).ok());
  auto j = registry_->LookUp(desk, 1087000001, {"xác minh hồ sơ khai sinh", "", "UBND00004-261118-0001"}, "req-1");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)["personal_id"], "001087000001");
  EXPECT_EQ((*j)["spouse"]["full_name"], "Trần Thị Bình");
  ASSERT_EQ((*j)["children"].size(), 1u);
  EXPECT_EQ((*j)["children"][0]["personal_id"], "001215000003");
  EXPECT_EQ((*j)["household"]["members"].size(), 3u);
  auto mother = registry_->LookUp(desk, 1190000002, {"xác minh hồ sơ khai sinh", "", ""}, "req-2");
  ASSERT_TRUE(mother.ok());
  EXPECT_EQ((*mother)["children"].size(), 1u);  // found through mother_id
  auto son = registry_->LookUp(desk, 1215000003, {"xác minh", "", ""}, "req-3");
  EXPECT_EQ((*son)["father"]["full_name"], "Nguyễn Văn An");
  // Unknown people are not logged (nothing was read).
  EXPECT_EQ(registry_->LookUp(desk, 1087999999, {"xác minh", "", ""}, "req-4").status().code(), StatusCode::kNotFound);
  auto log = access_->ForPerson(1087000001, 0, 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].official, "desk");
  EXPECT_EQ((*log)[0].consumer_agency, "UBND00004");
  EXPECT_EQ((*log)[0].purpose, "xác minh hồ sơ khai sinh");
  EXPECT_EQ((*log)[0].dossier_code, "UBND00004-261118-0001");
  EXPECT_EQ((*log)[0].request_id, "req-1");
  EXPECT_EQ(access_->Verify()->entries, 3);
}

// The whole document, member by member: the embedded store writes it from the rows, PostgreSQL builds
// it from ReadFull; both must say the same.
TEST_P(RegistryTest, TheLookUpDocumentCarriesTheRecordItsRelativesAndHousehold) {
  std::vector<Rejection> rejects;
  // A second child whose father is not in the registry, living with the mother's household.
  ImportText(
      std::string(kFamily) +
          R"({"personal_id":"001318000004","full_name":"Trần Thu Hà","birth_date":"2018-03-09","sex":"female","birth_place":"00004","permanent_unit":"00004","household_id":"001087000001","household_role":"child","father_id":"001085000099","mother_id":"001190000002"})"
          "\n",
      InputFormat::kNdjson, &rejects);
  ASSERT_TRUE(rejects.empty()) << rejects[0].message;
  http::Principal desk;
  desk.username = "desk";
  desk.role = "desk_officer";
  desk.agency = "UBND00004";
  exchange::NewGrant g{"UBND00004",
                       "registry.person",
                       {"basic", "residence", "relations", "household"},
                       "Luật Căn cước 2023",
                       "Giải quyết thủ tục hành chính",
                       1795000000000 + 86400000};
  ASSERT_TRUE(grants_->Create(g, {"admin", "", "", "", "", ""}).ok());
  auto ha = registry_->LookUp(desk, 1318000004, {"xác minh", "", ""}, "r1");
  ASSERT_TRUE(ha.ok()) << ha.status().message();
  auto brief = [](const char* id, const char* name, const char* birth_date, const char* sex) {
    return json{
        {"personal_id", id}, {"full_name", name}, {"birth_date", birth_date}, {"sex", sex}, {"status", "living"}};
  };
  auto member = [](json brief, const char* role) {
    brief["household_role"] = role;
    return brief;
  };
  const json brief_father = brief("001087000001", "Nguyễn Văn An", "1987-05-14", "male");
  const json brief_mother = brief("001190000002", "Trần Thị Bình", "1990-08-02", "female");
  const json brief_son = brief("001215000003", "Nguyễn Minh Khang", "2015-01-20", "male");
  const json brief_ha = brief("001318000004", "Trần Thu Hà", "2018-03-09", "female");
  const json household = {{"id", "001087000001"},
                          {"members",
                           {member(brief_father, "head"), member(brief_mother, "spouse"), member(brief_son, "child"),
                            member(brief_ha, "child")}}};
  json expected = {{"personal_id", "001318000004"},
                   {"full_name", "Trần Thu Hà"},
                   {"birth_date", "2018-03-09"},
                   {"sex", "female"},
                   {"birth_place", "00004"},
                   {"status", "living"},
                   {"died_on", nullptr},
                   {"permanent_unit", "00004"},
                   {"permanent_address", nullptr},
                   {"temporary_unit", nullptr},
                   {"temporary_address", nullptr},
                   {"father_id", "001085000099"},
                   {"mother_id", "001190000002"},
                   {"spouse_id", nullptr},
                   {"father", {{"personal_id", "001085000099"}, {"in_registry", false}}},
                   {"mother", brief_mother},
                   {"spouse", nullptr},
                   {"children", json::array()},
                   {"household_id", "001087000001"},
                   {"household_role", "child"},
                   {"household", household}};
  EXPECT_EQ(*ha, expected) << ha->dump(1);
  // The mother: her children oldest first, found through mother_id, and her spouse.
  auto binh = registry_->LookUp(desk, 1190000002, {"xác minh", "", ""}, "r2");
  ASSERT_TRUE(binh.ok());
  EXPECT_EQ((*binh)["children"], json::array({brief_son, brief_ha}));
  EXPECT_EQ((*binh)["spouse"], brief_father);
  EXPECT_EQ((*binh)["father"], nullptr);
  EXPECT_EQ((*binh)["household"], household);
}

TEST_P(RegistryTest, UpdatesKeepTheHistoryOfEveryChange) {
  std::vector<Rejection> rejects;
  ImportText(kFamily, InputFormat::kNdjson, &rejects);
  auto p = registry_->Get(1215000003);
  ASSERT_TRUE(p.ok() && p->has_value());
  Person moved = **p;
  moved.permanent_unit = "00008";
  ASSERT_TRUE(db_->Write([&](storage::Session& s) { return registry_->Update(s, moved, "desk", "dossier:X-1"); }).ok());
  EXPECT_EQ((*registry_->Get(1215000003))->permanent_unit.value_or(""), "00008");
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT version, source FROM people_history WHERE personal_id = ?",
                                                       {int64_t{1215000003}}));
                  EXPECT_EQ(rs.rows.size(), 1u);
                  if (!rs.empty()) {
                    EXPECT_EQ(rs.rows[0].Int(0), 2);
                    EXPECT_EQ(rs.rows[0].Text(1), "dossier:X-1");
                  }
                  return Status::Ok();
                }).ok());
}

TEST_P(RegistryTest, ADeathClosesThePersonInTheCallersTransactionAndRefusesContradictions) {
  std::vector<Rejection> rejects;
  ImportText(kFamily, InputFormat::kNdjson, &rejects);
  auto death = [&](int64_t id, const std::string& on, const std::string& source) {
    return db_->Write([&](storage::Session& s) {
      return registry_->RegisterDeath(s, id, on, "specialist", source, "form.deceased.personal_id",
                                      "form.death.date_of_death");
    });
  };
  // The date must lie between the birth and today (2026-11-18 in Hà Nội); nothing is written.
  Status early = death(1087000001, "1980-01-01", "dossier:D-0");
  EXPECT_EQ(early.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(early.field(), "form.death.date_of_death");
  EXPECT_EQ(death(1087000001, "2026-12-01", "dossier:D-0").field(), "form.death.date_of_death");
  EXPECT_EQ(death(1087000001, "12/11/2026", "dossier:D-0").field(), "form.death.date_of_death");
  EXPECT_EQ((*registry_->Get(1087000001))->status, LifeStatus::kLiving);

  ASSERT_TRUE(death(1087000001, "2026-11-12", "dossier:D-1").ok());
  auto an = registry_->Get(1087000001);
  ASSERT_TRUE(an.ok() && an->has_value());
  EXPECT_EQ((*an)->status, LifeStatus::kDeceased);
  EXPECT_EQ((*an)->died_on.value_or(""), "2026-11-12");
  EXPECT_EQ((*an)->spouse_id.value_or(0), 1190000002);  // the survivor is widowed, the link stays
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT version, source, actor, record FROM people_history "
                                                       "WHERE personal_id = ?",
                                                       {int64_t{1087000001}}));
                  EXPECT_EQ(rs.rows.size(), 1u);
                  if (!rs.empty()) {
                    EXPECT_EQ(rs.rows[0].Int(0), 2);
                    EXPECT_EQ(rs.rows[0].Text(1), "dossier:D-1");
                    EXPECT_EQ(rs.rows[0].Text(2), "specialist");
                    EXPECT_EQ(json::parse(rs.rows[0].Text(3))["status"], "deceased");
                  }
                  return Status::Ok();
                }).ok());

  // Already deceased, or not in the registry: refused, naming the form's field, and nothing changes.
  Status twice = death(1087000001, "2026-11-13", "dossier:D-2");
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.field(), "form.deceased.personal_id");
  EXPECT_NE(twice.message().find("already recorded as deceased"), std::string::npos) << twice.message();
  EXPECT_EQ((*registry_->Get(1087000001))->died_on.value_or(""), "2026-11-12");
  Status unknown = death(1087999999, "2026-11-13", "dossier:D-3");
  EXPECT_EQ(unknown.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(unknown.field(), "form.deceased.personal_id");
  // A refusal inside a larger transaction rolls back what that transaction wrote before it.
  Status half = db_->Write([&](storage::Session& s) -> Status {
    Person moved = **registry_->Get(1215000003);
    moved.permanent_unit = "00008";
    TL_RETURN_IF_ERROR(registry_->Update(s, moved, "specialist", "dossier:D-4"));
    return registry_->RegisterDeath(s, 1087000001, "2026-11-14", "specialist", "dossier:D-4");
  });
  EXPECT_EQ(half.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*registry_->Get(1215000003))->permanent_unit.value_or(""), "00004");

  // The widow may marry again; a deceased person may not.
  std::istringstream groom(
      R"({"personal_id":"001085000011","full_name":"Lê Văn Cường","birth_date":"1985-01-01","sex":"male","birth_place":"00004"})"
      "\n");
  ASSERT_TRUE(registry_->Import(groom, InputFormat::kNdjson, "test", [](const Rejection&) {}).ok());
  EXPECT_TRUE(db_->Write([&](storage::Session& s) {
                    return registry_->RegisterMarriage(s, 1085000011, 1190000002, "specialist", "dossier:M-1");
                  }).ok());
  EXPECT_EQ((*registry_->Get(1190000002))->spouse_id.value_or(0), 1085000011);
  EXPECT_EQ(db_->Write([&](storage::Session& s) {
                  return registry_->RegisterMarriage(s, 1087000001, 1190000002, "specialist", "dossier:M-2");
                }).code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(RegistryTest, LoadingIntoAnEmptyRegistryRebuildsItsIndexes) {
  std::vector<int64_t> progress;
  auto loader = registry_->StartLoad("test", {}, [&](int64_t n) { progress.push_back(n); });
  for (int64_t n = 0; n < 25000; ++n) {
    Person p;
    p.personal_id = 1087000000 + n;  // 001 0 87 ...
    p.full_name = "Người " + std::to_string(n);
    p.birth_date = "1987-01-01";
    p.birth_place = "00004";
    p.household_id = 1087000000 + n / 4 * 4;
    loader->Add(std::move(p));
  }
  auto report = loader->Finish();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->loaded, 25000);
  EXPECT_EQ(progress, (std::vector<int64_t>{20000, 25000}));
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM people WHERE household_id = ?", {int64_t{1087000400}}));
                  EXPECT_EQ(rs.rows[0].Int(0), 4);
                  return Status::Ok();
                }).ok());
  std::vector<Rejection> rejects;
  auto again = registry_->StartLoad("test", [&](const Rejection& r) { rejects.push_back(r); });
  Person dup;
  dup.personal_id = 1087000000;
  dup.full_name = "Trùng";
  dup.birth_date = "1987-01-01";
  dup.birth_place = "x";
  again->Add(dup);
  auto second = again->Finish();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->rejected, 1);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].field, "personal_id");
  EXPECT_EQ(*registry_->Count(), 25000);
  EXPECT_EQ((*registry_->Get(1087000000))->full_name, "Người 0");  // the stored record is untouched
}

TEST_P(RegistryTest, OnlyGrantedFieldGroupsLeaveAndAnExpiredOrRevokedGrantStopsWorking) {
  std::vector<Rejection> rejects;
  ImportText(kFamily, InputFormat::kNdjson, &rejects);
  http::Principal official;
  official.username = "ward8";
  official.role = "specialist";
  official.agency = "UBND00008";
  exchange::NewGrant g{"UBND00008", "registry.person", {"basic"}, "Luật Căn cước 2023", "Xác minh nhân thân",
                       1795000000000 + 3600000};
  auto grant = grants_->Create(g, {"admin", "", "", "", "", ""});
  ASSERT_TRUE(grant.ok()) << grant.status().message();
  auto j = registry_->LookUp(official, 1087000001, {"xác minh nhân thân", "", ""}, "r1");
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)["full_name"], "Nguyễn Văn An");
  for (const char* hidden : {"permanent_unit", "permanent_address", "spouse", "spouse_id", "children", "household",
                             "household_id", "father"}) {
    EXPECT_FALSE(j->contains(hidden)) << hidden;
  }
  auto log = access_->ForPerson(1087000001, 0, 10);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].fields, "basic");
  // A grant for a field group the service does not offer, for an unknown agency, or already expired: refused.
  exchange::NewGrant bad = g;
  bad.fields = {"basic", "bank_account"};
  EXPECT_EQ(grants_->Create(bad, {"admin", "", "", "", "", ""}).status().field(), "fields");
  bad = g;
  bad.consumer_agency = "NOWHERE";
  EXPECT_EQ(grants_->Create(bad, {"admin", "", "", "", "", ""}).status().field(), "consumer_agency");
  bad = g;
  bad.expires_at_ms = 1795000000000 - 1;
  EXPECT_FALSE(grants_->Create(bad, {"admin", "", "", "", "", ""}).ok());
  // Expiry ends it.
  clock_.Advance(3600000 + 1);
  EXPECT_EQ(registry_->LookUp(official, 1087000001, {"xác minh nhân thân", "", ""}, "r2").status().code(),
            StatusCode::kPermissionDenied);
  // So does revocation.
  g.expires_at_ms = clock_.NowMillis() + 3600000;
  auto again = grants_->Create(g, {"admin", "", "", "", "", ""});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(registry_->LookUp(official, 1087000001, {"xác minh nhân thân", "", ""}, "r3").ok());
  ASSERT_TRUE(grants_->Revoke((*again)["id"].get<int64_t>(), {"admin", "", "", "", "", ""}).ok());
  EXPECT_EQ(registry_->LookUp(official, 1087000001, {"xác minh nhân thân", "", ""}, "r4").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(access_->ForPerson(1087000001, 0, 10)->size(), 2u);  // refused reads are not reads
  // Refused attempts are in the audit log.
  auto audit = audit_->List(0, 50, "ward8");
  ASSERT_TRUE(audit.ok());
  int denied = 0;
  for (const auto& e : *audit) denied += e.action == "exchange.denied";
  EXPECT_EQ(denied, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::population
