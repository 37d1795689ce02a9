#include "modules/procedures/procedures.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/scratch_store.h"

namespace tl::procedures {
namespace {

class ProceduresTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto m = audit::AuditLog::Migrations();
    auto p = ProcedureService::Migrations();
    m.insert(m.end(), p.begin(), p.end());
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    svc_ = std::make_unique<ProcedureService>(db_.get(), &clock_, audit_.get());
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ProcedureService> svc_;
};

TEST_P(ProceduresTest, ImportsAllProceduresAndReimportsIdempotently) {
  auto r = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->read, 1601);
  EXPECT_EQ(r->created, 1601);
  auto again = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1601);
  auto doc = svc_->GetJson("1.000253", std::nullopt);
  ASSERT_TRUE(doc.ok());
  auto j = nlohmann::json::parse(*doc);
  EXPECT_EQ(j["sector"], "Quản lý xuất nhập cảnh");
  EXPECT_EQ(j["processing"][0]["channel"], "in_person");
  EXPECT_EQ(j["processing"][0]["duration"], 7.0);
  // No-break spaces of the source are normalised away.
  auto kb = nlohmann::json::parse(*svc_->GetJson("1.000110", std::nullopt));
  EXPECT_EQ(kb["competent_agency"].get<std::string>().find("\xC2\xA0"), std::string::npos);
}

TEST_P(ProceduresTest, RejectsABrokenSourceFileWithoutWritingAnything) {
  auto r = svc_->Import(testing::DataRoot() + "/admin-units/provinces-2025.csv", "test");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(*svc_->IsEmpty());
}

// ---- Forms (form_schema) ----

using nlohmann::json;

json Procedure(const std::string& code) {
  return {{"code", code},
          {"name", "Thủ tục thí điểm cấp giấy phép đào đường"},
          {"sector", "Giao thông vận tải"},
          {"levels", {"province"}},
          {"processing", {{{"channel", "online"}, {"duration", 5}, {"unit", "working_day"}}}}};
}

json SmallForm(const std::string& field_title) {
  return {{"type", "object"},
          {"required", {"form"}},
          {"properties",
           {{"form",
             {{"type", "object"},
              {"required", {"street"}},
              {"additionalProperties", false},
              {"properties",
               {{"street", {{"type", "string"}, {"title", field_title}, {"minLength", 1}}},
                {"metres", {{"type", "integer"}, {"title", "Chiều dài (m)"}, {"minimum", 1}, {"maximum", 500}}},
                {"start", {{"type", "string"}, {"format", "date"}, {"title", "Ngày bắt đầu"}}}}}}}}}};
}

json BirthForm() {
  return {{"relationship", "Mẹ"},
          {"child",
           {{"full_name", "Nguyễn Minh Khôi"},
            {"date_of_birth", "2026-11-10"},
            {"sex", "Nam"},
            {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
          {"mother", {{"full_name", "Trần Thị Bình"}, {"year_of_birth", 1992}}}};
}

json Submission(json form, json components = json::array()) {
  return {{"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
          {"form", std::move(form)},
          {"components", std::move(components)}};
}

audit::Entry Admin() { return {"admin", "", "", "127.0.0.1", "", ""}; }

TEST_P(ProceduresTest, ImportsTheHandWrittenFormsWithTheCatalogue) {
  auto r = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->forms, 6);  // birth, marriage, permanent residence, household business, death (2 procedures)
  auto birth = json::parse(*svc_->DetailJson("1.001193", std::nullopt));
  EXPECT_EQ(birth["form_schema"]["title"], "Tờ khai đăng ký khai sinh");
  EXPECT_EQ(birth["form_schema"]["properties"]["form"]["properties"]["child"]["properties"]["date_of_birth"]["format"],
            "date");
  // The fields keep their authors' order (the order the form shows them in).
  auto ordered = nlohmann::ordered_json::parse(*svc_->DetailJson("1.001193", std::nullopt));
  std::vector<std::string> keys;
  for (const auto& [k, v] : ordered["form_schema"]["properties"]["form"]["properties"].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"relationship", "child", "father", "mother", "copies"}));
  // The components the form lists become the procedure's own.
  ASSERT_TRUE(birth["components"].is_array());
  EXPECT_EQ(birth["components"][0], "Tờ khai đăng ký khai sinh");
  for (const char* code : {"1.000894", "1.004222", "1.001612"}) {
    auto p = json::parse(*svc_->DetailJson(code, std::nullopt));
    EXPECT_NE(p["form_schema"]["title"], "Tờ khai chung") << code;
    // Every shipped schema's example fits it.
    EXPECT_TRUE(svc_->ValidateFormByCode(code, p["form_schema"]["examples"][0]).ok()) << code;
  }
  // Others get the generic default: applicant with a required full name, any components.
  auto other = json::parse(*svc_->DetailJson("1.000253", std::nullopt));
  EXPECT_EQ(other["form_schema"]["title"], "Tờ khai chung");
  EXPECT_EQ(other["form_schema"]["properties"]["applicant"]["required"], json::array({"full_name"}));
  EXPECT_FALSE(other.contains("components"));
  // GetJson (what the dossiers read) stays the stored document, without the schema.
  EXPECT_FALSE(json::parse(*svc_->GetJson("1.001193", std::nullopt)).contains("form_schema"));
  auto again = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1601);
}

TEST_P(ProceduresTest, ValidateFormNamesTheFailingFieldWithAHumanMessage) {
  ASSERT_TRUE(svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test").ok());
  auto check = [&](const json& submission) { return svc_->ValidateFormByCode("1.001193", submission); };
  EXPECT_TRUE(check(Submission(BirthForm(), {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"})).ok());

  json f = BirthForm();
  f["child"].erase("date_of_birth");
  Status st = check(Submission(f));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.field(), "form.child.date_of_birth");
  EXPECT_EQ(st.message(), "is required");

  f = BirthForm();
  f["child"]["date_of_birth"] = "2026-02-30";
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.child.date_of_birth");
  EXPECT_EQ(st.message(), "must be a date YYYY-MM-DD");
  f["child"]["date_of_birth"] = "10/11/2026";
  EXPECT_EQ(check(Submission(f)).message(), "must be a date YYYY-MM-DD");
  f["child"]["date_of_birth"] = "2026-11-10T08:00:00Z";  // a date-time is not a date
  EXPECT_EQ(check(Submission(f)).message(), "must be a date YYYY-MM-DD");
  f["child"]["date_of_birth"] = 20261110;
  EXPECT_EQ(check(Submission(f)).field(), "form.child.date_of_birth");

  f = BirthForm();
  f["child"]["sex"] = "Khác";
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.child.sex");
  EXPECT_EQ(st.message(), "must be one of: Nam, Nữ");

  f = BirthForm();
  f["copies"] = "hai";
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.copies");
  EXPECT_EQ(st.message(), "must be a whole number");
  f["copies"] = 11;
  EXPECT_EQ(check(Submission(f)).message(), "must be at most 10");

  f = BirthForm();
  f["child"]["nickname"] = "Bin";
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.child.nickname");
  EXPECT_EQ(st.message(), "is not a field of this form");

  f = BirthForm();
  f["mother"]["personal_id"] = "12345";
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.mother.personal_id");
  EXPECT_EQ(st.message(), "is not in the expected format");

  st = check(Submission(BirthForm(), {"Giấy chứng sinh", "Sổ hộ khẩu"}));
  EXPECT_EQ(st.field(), "components.1");
  EXPECT_NE(st.message().find("must be one of: Tờ khai đăng ký khai sinh, Giấy chứng sinh"), std::string::npos)
      << st.message();

  st = check(Submission(json::object()));
  EXPECT_EQ(st.field(), "form.relationship");  // the first missing field in the form's order
  f = BirthForm();
  f["child"] = {{"sex", "Nam"}};
  f.erase("mother");
  EXPECT_EQ(check(Submission(f)).field(), "form.child.full_name");

  json no_form = Submission(BirthForm());
  no_form.erase("form");
  st = check(no_form);
  EXPECT_EQ(st.field(), "form");
  EXPECT_EQ(st.message(), "is required");

  f = BirthForm();
  f["child"]["place_of_birth"] = std::string(2001, 'x');
  st = check(Submission(f));
  EXPECT_EQ(st.field(), "form.child.place_of_birth");
  EXPECT_NE(st.message().find("too long"), std::string::npos);

  // The generic default: any form object, any component names; the applicant's full name required.
  EXPECT_TRUE(svc_->ValidateFormByCode("1.000253", Submission({{"ghi_chu", "tự do"}}, {"Tờ khai"})).ok());
  json nameless = Submission(json::object());
  nameless["applicant"].erase("full_name");
  st = svc_->ValidateFormByCode("1.000253", nameless);
  EXPECT_EQ(st.field(), "applicant.full_name");
  EXPECT_EQ(svc_->ValidateFormByCode("9.999999", Submission(json::object())).code(), StatusCode::kNotFound);
}

TEST_P(ProceduresTest, ConcurrentValidationsOfOneFormEachGetTheirOwnAnswer) {
  // A compiled form lends its validators (which keep their compiled `pattern`s) to one thread at a
  // time: many threads validating at once, half of them a personal id that breaks its pattern, must
  // each get their own verdict.
  ASSERT_TRUE(svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test").ok());
  json good = Submission(BirthForm(), {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"});
  json bad_form = BirthForm();
  bad_form["mother"]["personal_id"] = "12345";
  json bad = Submission(bad_form, {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        bool expect_ok = (i + t) % 2 == 0;
        Status st = svc_->ValidateFormByCode("1.001193", expect_ok ? good : bad);
        if (st.ok() != expect_ok || (!expect_ok && st.field() != "form.mother.personal_id")) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(ProceduresTest, SearchesArrivingTogetherShareOneBuildOfTheIndex) {
  ASSERT_TRUE(svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test").ok());
  SearchQuery q;
  q.text = "dang ky khai sinh";
  constexpr int kThreads = 16;
  std::vector<int64_t> totals(kThreads, -1);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      auto page = svc_->Search(q);
      if (page.ok()) totals[i] = page->total;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(totals[i], totals[0]) << "search " << i;
  }
  EXPECT_GT(totals[0], 0);
  EXPECT_EQ(svc_->search_index_builds(), 1);
  // Warm: no further build. A change to the catalogue: the next search builds once and finds it.
  ASSERT_TRUE(svc_->Search(q).ok());
  EXPECT_EQ(svc_->search_index_builds(), 1);
  ASSERT_TRUE(svc_->Save(Admin(), Procedure("9.000100").dump(), std::nullopt, true).ok());
  SearchQuery mine;
  mine.text = "9.000100";
  auto found = svc_->Search(mine);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->total, 1);
  EXPECT_EQ(svc_->search_index_builds(), 2);
}

TEST_P(ProceduresTest, FormSchemaIsStoredPerVersion) {
  // A new procedure without a schema has the default, with its components as an enum.
  json p = Procedure("9.000100");
  p["components"] = {"Đơn đề nghị cấp phép", "Bản vẽ mặt bằng"};
  auto created = svc_->Save(Admin(), p.dump(), std::nullopt, true);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto v1 = json::parse(*created);
  EXPECT_EQ(v1["form_schema"]["properties"]["components"]["items"]["enum"],
            json::array({"Đơn đề nghị cấp phép", "Bản vẽ mặt bằng"}));
  Status st = svc_->ValidateFormByCode("9.000100", Submission(json::object(), {"Giấy phép lái xe"}));
  EXPECT_EQ(st.field(), "components.0");

  // Version 2 (in force at once) brings a form; version 3, dated next year, another.
  json change = Procedure("9.000100");
  change["form_schema"] = SmallForm("Tên đường");
  auto v2 = svc_->Save(Admin(), change.dump(), std::string("9.000100"), false);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(json::parse(*v2)["version"], 2);
  st = svc_->ValidateFormByCode("9.000100", Submission(json::object()));
  EXPECT_EQ(st.field(), "form.street");
  EXPECT_TRUE(svc_->ValidateFormByCode("9.000100", Submission({{"street", "Phố Huế"}, {"metres", 40}})).ok());

  json next = Procedure("9.000100");
  next["effective_from"] = "2027-06-01";
  next["form_schema"] = SmallForm("Tên đường, phố");
  next["form_schema"]["properties"]["form"]["required"] = {"street", "metres"};
  ASSERT_TRUE(svc_->Save(Admin(), next.dump(), std::string("9.000100"), false).ok());
  auto at_v2 = json::parse(*svc_->DetailJson("9.000100", std::string("2027-01-01")));
  auto at_v3 = json::parse(*svc_->DetailJson("9.000100", std::string("2027-06-01")));
  EXPECT_EQ(at_v2["version"], 2);
  EXPECT_EQ(at_v2["form_schema"]["properties"]["form"]["properties"]["street"]["title"], "Tên đường");
  EXPECT_EQ(at_v3["version"], 3);
  EXPECT_EQ(at_v3["form_schema"]["properties"]["form"]["properties"]["street"]["title"], "Tên đường, phố");
  // Until the date arrives the current version (2) and its form rule submissions.
  EXPECT_TRUE(svc_->ValidateFormByCode("9.000100", Submission({{"street", "Phố Huế"}})).ok());
  clock_.Set(1811808000000 + 3600000);  // 2027-06-01T01:00Z
  st = svc_->ValidateFormByCode("9.000100", Submission({{"street", "Phố Huế"}}));
  EXPECT_EQ(st.field(), "form.metres");

  // A change without form_schema keeps the previous one; null goes back to the default.
  json keep = Procedure("9.000100");
  keep["name"] = "Thủ tục thí điểm cấp giấy phép đào đường (sửa đổi)";
  auto v4 = json::parse(*svc_->Save(Admin(), keep.dump(), std::string("9.000100"), false));
  EXPECT_EQ(v4["version"], 4);
  EXPECT_EQ(v4["form_schema"]["properties"]["form"]["required"], json::array({"street", "metres"}));
  keep["form_schema"] = nullptr;
  auto v5 = json::parse(*svc_->Save(Admin(), keep.dump(), std::string("9.000100"), false));
  EXPECT_EQ(v5["form_schema"]["title"], "Tờ khai chung");
  EXPECT_TRUE(svc_->ValidateFormByCode("9.000100", Submission(json::object())).ok());
  // The default echoed back is stored as no schema: it keeps following the components.
  json echo = json::parse(*svc_->DetailJson("9.000100", std::nullopt));
  for (const char* k : {"version", "effective_from"}) echo.erase(k);
  echo["components"] = {"Đơn đề nghị cấp phép"};
  auto v6 = json::parse(*svc_->Save(Admin(), echo.dump(), std::string("9.000100"), false));
  EXPECT_EQ(v6["form_schema"]["properties"]["components"]["items"]["enum"], json::array({"Đơn đề nghị cấp phép"}));
  EXPECT_EQ(json::parse(*svc_->VersionsJson("9.000100"))["items"].size(), 6u);
}

TEST_P(ProceduresTest, RefusesInvalidFormSchemasWithoutWritingAnything) {
  ASSERT_TRUE(svc_->Save(Admin(), Procedure("9.000200").dump(), std::nullopt, true).ok());
  auto refuse = [&](const json& schema) {
    json p = Procedure("9.000200");
    p["form_schema"] = schema;
    auto r = svc_->Save(Admin(), p.dump(), std::string("9.000200"), false);
    EXPECT_FALSE(r.ok()) << schema.dump();
    return r.ok() ? Status::Ok() : r.status();
  };
  EXPECT_EQ(refuse("a string").field(), "form_schema");
  EXPECT_EQ(refuse({{"type", "array"}}).field(), "form_schema.type");
  Status st = refuse({{"type", "object"}, {"properties", {{"form", {{"type", "strnig"}}}}}});
  EXPECT_EQ(st.field(), "form_schema.properties.form.type");
  st = refuse({{"type", "object"}, {"properties", {{"form", {{"$ref", "http://example.com/s.json"}}}}}});
  EXPECT_EQ(st.field(), "form_schema.properties.form.$ref");
  EXPECT_EQ(st.message(), "is not a supported schema keyword");
  EXPECT_EQ(refuse({{"type", "object"}, {"required", "form"}}).field(), "form_schema.required");
  EXPECT_EQ(refuse({{"type", "object"}, {"properties", {{"child", {{"type", "object"}}}}}}).field(),
            "form_schema.properties.child");
  EXPECT_EQ(refuse({{"type", "object"},
                    {"properties", {{"applicant", {{"type", "object"}, {"properties", {{"nickname", json::object()}}}}}}}})
                .field(),
            "form_schema.properties.applicant.properties.nickname");
  json bad_pattern = SmallForm("Tên đường");
  bad_pattern["properties"]["form"]["properties"]["street"]["pattern"] = "([a-z";
  EXPECT_EQ(refuse(bad_pattern).field(), "form_schema.properties.form.properties.street.pattern");
  json bad_example = SmallForm("Tên đường");
  bad_example["examples"] = {{{"form", {{"metres", 3}}}}};
  st = refuse(bad_example);
  EXPECT_EQ(st.field(), "form_schema.examples.0");
  EXPECT_NE(st.message().find("form.street is required"), std::string::npos) << st.message();
  json huge = SmallForm("Tên đường");
  huge["description"] = std::string(70 * 1024, 'x');
  EXPECT_NE(refuse(huge).message().find("64 KiB"), std::string::npos);
  json deep = {{"type", "object"}};
  for (int i = 0; i < 40; ++i) deep = {{"type", "object"}, {"properties", {{"form", deep}}}};
  EXPECT_EQ(refuse(deep).message(), "is nested too deeply");
  // Nothing was written: still the one version, with the default form.
  EXPECT_EQ(json::parse(*svc_->VersionsJson("9.000200"))["items"].size(), 1u);
  EXPECT_EQ(json::parse(*svc_->DetailJson("9.000200", std::nullopt))["form_schema"]["title"], "Tờ khai chung");
  EXPECT_TRUE(svc_->ValidateFormByCode("9.000200", Submission(json::object())).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, ProceduresTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::procedures
