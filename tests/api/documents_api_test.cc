// Printable documents (forms 01, 04, 06) and the calendar API end to end through the real server, on
// both backends: who may print what, formats, headers, and the tracking link in the receipt.
#include <gtest/gtest.h>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

class DocumentsApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    citizen_ = app_->Login("citizen");
    org_ = app_->Login("org");
    desk_ = app_->Login("desk");
  }
  json Submit() {
    json body = {
        {"procedure_code", "1.001193"},
        {"unit_code", "00004"},
        {"delivery", "desk"},
        {"applicant", {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}}},
        // What the birth registration form (data/procedures/forms/) requires.
        {"form",
         {{"relationship", "Cha"},
          {"child", {{"full_name", "Nguyễn Minh Khôi"}, {"date_of_birth", "2026-11-10"}, {"sex", "Nam"},
                     {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
          {"mother", {{"full_name", "Trần Thị Bình"}}}}},
        {"components", {"Tờ khai đăng ký khai sinh", "Giấy chứng sinh"}}};
    auto r = app_->Post("/api/v1/dossiers", body.dump(), citizen_);
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r);
  }
  json Act(const std::string& token, const json& d, const std::string& action, json extra = json::object()) {
    extra["version"] = d["version"];
    auto r = app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/" + action, extra.dump(), token);
    EXPECT_EQ(r.status, 200) << action << ": " << r.body;
    return Json(r);
  }
  HttpResult GetWith(const std::string& target, const std::string& token,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return HttpRequest(app_->port(), "GET", target, "", headers);
  }

  std::unique_ptr<TestApp> app_;
  std::string citizen_, org_, desk_;
};

TEST_P(DocumentsApiTest, ReceiptAsHtmlAndPdf) {
  json d = Submit();
  std::string code = d["code"];
  std::string base = "/api/v1/dossiers/" + code;
  // Not received yet: no receipt.
  auto early = app_->Get(base + "/receipt", citizen_);
  EXPECT_EQ(early.status, 422) << early.body;

  d = Act(desk_, d, "receive");
  auto html = app_->Get(base + "/receipt", citizen_);
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_EQ(html.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(html.Header("content-security-policy").find("style-src 'self'"), std::string::npos);
  EXPECT_NE(html.body.find(code), std::string::npos);
  EXPECT_NE(html.body.find("<svg "), std::string::npos);
  EXPECT_NE(html.body.find("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"), std::string::npos);
  EXPECT_NE(html.body.find("ỦY BAN NHÂN DÂN"), std::string::npos);
  EXPECT_NE(html.body.find("Tờ khai đăng ký khai sinh"), std::string::npos);
  // The test client sends "Host: 127.0.0.1".
  EXPECT_NE(html.body.find("http://127.0.0.1/track?code=" + code), std::string::npos);
  EXPECT_NE(html.body.find("href=\"http://127.0.0.1/api/v1/documents/print.css\""), std::string::npos);
  EXPECT_EQ(html.body.find("<style"), std::string::npos);
  EXPECT_EQ(html.body.find("<script"), std::string::npos);

  auto https = GetWith(base + "/receipt?format=html", citizen_, {{"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(https.status, 200);
  EXPECT_NE(https.body.find("https://127.0.0.1/track?code=" + code), std::string::npos);

  auto pdf = app_->Get(base + "/receipt?format=pdf", desk_);
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.Header("content-disposition"), "inline; filename=\"" + code + "-receipt.pdf\"");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);

  auto bad = app_->Get(base + "/receipt?format=docx", citizen_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["field"], "format");
}

TEST_P(DocumentsApiTest, OnlyThoseWhoMaySeeTheDossierMayPrintIt) {
  json d = Act(desk_, Submit(), "receive");
  std::string base = "/api/v1/dossiers/" + d["code"].get<std::string>();
  for (const char* form : {"/receipt", "/apology", "/control-sheet"}) {
    EXPECT_EQ(app_->Get(base + form).status, 401) << form;
    EXPECT_EQ(app_->Get(base + form, org_).status, 404) << form;  // someone else's dossier
    EXPECT_EQ(app_->Get(base + form + "?format=pdf", org_).status, 404) << form;
  }
  EXPECT_EQ(app_->Get("/api/v1/dossiers/UBND00004-000000-0000/receipt", citizen_).status, 404);
}

TEST_P(DocumentsApiTest, ApologyLetterAfterAnApology) {
  json d = Act(desk_, Submit(), "receive");
  std::string code = d["code"];
  std::string base = "/api/v1/dossiers/" + code;
  auto none = app_->Get(base + "/apology", citizen_);
  EXPECT_EQ(none.status, 404) << none.body;

  d = Act(desk_, d, "apologise", {{"note", "Cần xác minh thông tin nơi sinh"}, {"new_due_date", "2027-01-08"}});
  auto html = app_->Get(base + "/apology", citizen_);
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_NE(html.body.find("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"), std::string::npos);
  EXPECT_NE(html.body.find("Cần xác minh thông tin nơi sinh"), std::string::npos);
  EXPECT_NE(html.body.find("17 giờ 00 phút, thứ Sáu ngày 08 tháng 01 năm 2027"), std::string::npos);

  auto pdf = app_->Get(base + "/apology?format=pdf", citizen_);
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-disposition"), "inline; filename=\"" + code + "-apology.pdf\"");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
}

TEST_P(DocumentsApiTest, ControlSheetListsTheTimeline) {
  json d = Act(desk_, Submit(), "receive");
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  std::string code = d["code"];
  auto html = app_->Get("/api/v1/dossiers/" + code + "/control-sheet", desk_);
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_NE(html.body.find("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"), std::string::npos);
  EXPECT_NE(html.body.find("Nộp hồ sơ trực tuyến"), std::string::npos);
  EXPECT_NE(html.body.find("Tiếp nhận hồ sơ"), std::string::npos);
  EXPECT_NE(html.body.find("Phân công xử lý"), std::string::npos);
  EXPECT_NE(html.body.find("Giao: specialist"), std::string::npos);

  auto pdf = app_->Get("/api/v1/dossiers/" + code + "/control-sheet?format=pdf", citizen_);
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.Header("content-disposition"), "inline; filename=\"" + code + "-control-sheet.pdf\"");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
}

TEST_P(DocumentsApiTest, TheIssuedResultIsASignedPdfWithItsVerificationLink) {
  std::string specialist = app_->Login("specialist"), leader = app_->Login("leader");
  json d = Submit();
  const std::string code = d["code"];
  // Before the result is issued there is nothing to download.
  EXPECT_EQ(app_->Get("/api/v1/dossiers/" + code + "/result", desk_).status, 404);
  d = Act(desk_, d, "receive");
  d = Act(desk_, d, "assign", {{"assignee", "specialist"}});
  d = Act(specialist, d, "propose");
  d = Act(leader, d, "approve");
  d = Act(specialist, d, "issue-result");
  auto wallet = Json(app_->Get("/api/v1/me/wallet", citizen_));
  ASSERT_EQ(wallet["items"].size(), 1u) << wallet.dump();
  const std::string id = wallet["items"][0]["id"];

  auto pdf = app_->Get("/api/v1/me/wallet/" + id + "/pdf", citizen_);
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_NE(pdf.Header("content-disposition").find("attachment; filename=\"" + id + ".pdf\""), std::string::npos);
  ASSERT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf.body.find("ThangLong-Document-Id: " + id), std::string::npos);
  // Made once: the next download and the officials' route serve the same bytes.
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/" + id + "/pdf", citizen_).body, pdf.body);
  auto official = app_->Get("/api/v1/dossiers/" + code + "/result", desk_);
  ASSERT_EQ(official.status, 200) << official.body;
  EXPECT_EQ(official.body, pdf.body);

  // Anyone verifies the file: valid as it is, tampered with one byte changed, unknown when unrelated.
  auto verify = [&](const std::string& bytes) {
    return HttpRequest(app_->port(), "POST", "/api/v1/documents/verify", bytes, {{"Content-Type", "application/pdf"}});
  };
  auto valid = verify(pdf.body);
  ASSERT_EQ(valid.status, 200) << valid.body;
  EXPECT_EQ(Json(valid)["status"], "valid") << valid.body;
  EXPECT_EQ(Json(valid)["document_id"], id);
  EXPECT_EQ(Json(valid)["number"], code);
  std::string changed = pdf.body;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  auto tampered = verify(changed);
  ASSERT_EQ(tampered.status, 200) << tampered.body;
  EXPECT_EQ(Json(tampered)["status"], "tampered") << tampered.body;
  EXPECT_EQ(Json(tampered)["document_id"], id);
  EXPECT_EQ(Json(verify("%PDF-1.7\n%%EOF\n"))["status"], "unknown");

  // Only the holder downloads from the wallet; only those who may read the dossier get its result.
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/" + id + "/pdf").status, 401);
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/" + id + "/pdf", desk_).status, 403);
  auto reg = app_->Post("/api/v1/auth/register",
                        R"({"username":"binh","password":"Mật khẩu dài 2025","full_name":"Lê Văn Bình","personal_id":"001085000777"})");
  ASSERT_EQ(reg.status, 201) << reg.body;
  std::string other = app_->Login("binh", "Mật khẩu dài 2025");
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/" + id + "/pdf", other).status, 404);
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/nope/pdf", citizen_).status, 404);
  EXPECT_EQ(app_->Get("/api/v1/dossiers/" + code + "/result", other).status, 404);
  // The citizen's own scan has no platform PDF until it is certified.
  auto scan = HttpRequest(app_->port(), "POST", "/api/v1/me/wallet?title=B%E1%BA%A3n+scan", "%PDF-1.4\nscan\n%%EOF\n",
                          {{"Content-Type", "application/pdf"}, {"Authorization", "Bearer " + citizen_}});
  ASSERT_EQ(scan.status, 201) << scan.body;
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/" + Json(scan)["id"].get<std::string>() + "/pdf", citizen_).status, 422);
}

TEST_P(DocumentsApiTest, StylesheetIsPublic) {
  auto css = app_->Get("/api/v1/documents/print.css");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("content-type"), "text/css; charset=utf-8");
  EXPECT_NE(css.body.find("@page"), std::string::npos);
}

TEST_P(DocumentsApiTest, CalendarDueDateAndHolidays) {
  auto due = app_->Get("/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=3");
  ASSERT_EQ(due.status, 200) << due.body;
  json j = Json(due);
  EXPECT_EQ(j["due_at"], "2026-02-25T10:00:00.000Z");
  EXPECT_EQ(j["due_at_local"], "2026-02-25T17:00:00+07:00");

  auto holidays = app_->Get("/api/v1/calendar/holidays?year=2026");
  ASSERT_EQ(holidays.status, 200);
  bool tet = false;
  json year = Json(holidays);
  for (const auto& day : year["days_off"]) {
    if (day["date"] == "2026-02-17") tet = day["reason"].get<std::string>().find("Tết Nguyên đán") != std::string::npos;
  }
  EXPECT_TRUE(tet) << holidays.body;

  for (const auto& [target, field] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/calendar/due-date?from=tomorrow&working_days=3", "from"},
           {"/api/v1/calendar/due-date?from=2026-02-13T03:00:00Z&working_days=-1", "working_days"},
           {"/api/v1/calendar/holidays?year=20x6", "year"}}) {
    auto r = app_->Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(Json(r)["field"], field) << target;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DocumentsApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
