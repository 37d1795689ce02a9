// Once-only through the real server on both backends: a birth certificate issued to a citizen's wallet
// by a dossier's result is offered for, and stands in for, the kinship component of a permanent
// residence dossier; the reference is checked in the submission's transaction (someone else's,
// unverified, wrong-type and revoked documents are refused naming the field), shown to the officials
// of the dossier (verified live) and to nobody else, and counted as reuse by the service index, whose
// kept daily counts stay equal to a scan.
#include <gtest/gtest.h>

#include "tests/api/test_app.h"

namespace tl::testing {
namespace {

using nlohmann::json;

const char* const kKinship = "Giấy tờ, tài liệu chứng minh quan hệ nhân thân";
const char* const kDeclaration = "Tờ khai thay đổi thông tin cư trú (mẫu CT01)";

class OnceOnlyApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    app_ = std::make_unique<TestApp>(GetParam());
    citizen_ = app_->Login("citizen");
    desk_ = app_->Login("desk");
  }

  // A birth registration of the demo citizen carried to issue-result: its signed result lands in his
  // wallet under the procedure's code. Returns the wallet document's id.
  std::string BirthCertificateInWallet() {
    std::string specialist = app_->Login("specialist"), leader = app_->Login("leader");
    json form = {{"relationship", "Cha"},
                 {"child",
                  {{"full_name", "Nguyễn Minh Anh"},
                   {"date_of_birth", "2026-11-10"},
                   {"sex", "Nữ"},
                   {"place_of_birth", "Bệnh viện Phụ sản Hà Nội"}}},
                 {"father", {{"full_name", "Nguyễn Văn An"}, {"year_of_birth", 1990}}},
                 {"mother", {{"full_name", "Trần Thị Mai"}, {"year_of_birth", 1992}}}};
    auto r = app_->Post("/api/v1/dossiers",
                        json{{"procedure_code", "1.001193"},
                             {"unit_code", "00004"},
                             {"delivery", "online"},
                             {"applicant", Applicant()},
                             {"form", form},
                             {"components", {"Tờ khai đăng ký khai sinh"}}}
                            .dump(),
                        citizen_);
    EXPECT_EQ(r.status, 201) << r.body;
    json d = Json(r);
    for (auto [token, action] : {std::pair{desk_, "receive"},
                                 {desk_, "assign"},
                                 {specialist, "propose"},
                                 {leader, "approve"},
                                 {specialist, "issue-result"}}) {
      json body{{"version", d["version"]}};
      if (std::string(action) == "assign") body["assignee"] = "specialist";
      auto a =
          app_->Post("/api/v1/dossiers/" + d["code"].get<std::string>() + "/actions/" + action, body.dump(), token);
      EXPECT_EQ(a.status, 200) << action << ": " << a.body;
      d = Json(a);
    }
    json wallet = Json(app_->Get("/api/v1/me/wallet", citizen_));
    for (const auto& item : wallet["items"]) {
      if (item["number"] == d["code"]) {
        EXPECT_EQ(item["type"], "1.001193");
        return item["id"];
      }
    }
    ADD_FAILURE() << "no result in the wallet: " << wallet.dump();
    return "";
  }

  static json Applicant() {
    return {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"phone", "0912345678"}};
  }

  // A permanent residence dossier of the newborn into her father's household.
  static json Residence(const json& wallet_documents, const json& components = json::array({kDeclaration})) {
    json body = {{"procedure_code", "1.004222"},
                 {"unit_code", "00004"},
                 {"delivery", "online"},
                 {"applicant", Applicant()},
                 {"form",
                  {{"person",
                    {{"full_name", "Nguyễn Minh Anh"},
                     {"date_of_birth", "2026-11-10"},
                     {"sex", "Nữ"},
                     {"personal_id", "001326000123"}}},
                   {"new_address", "Số 12 phố Quán Thánh, Phường Ba Đình"},
                   {"basis", "Về ở với vợ, chồng, con, cha, mẹ hoặc người thân"},
                   {"head_of_household",
                    {{"full_name", "Nguyễn Văn An"}, {"personal_id", "001090012345"}, {"relationship", "Cha"}}}}},
                 {"components", components}};
    if (!wallet_documents.is_null()) body["wallet_documents"] = wallet_documents;
    return body;
  }

  // The documents offered for a component of a procedure, as the citizen `token` sees them.
  json Offered(const std::string& token, const std::string& procedure, const std::string& component) {
    auto r = app_->Get("/api/v1/me/wallet/offers?procedure=" + procedure, token);
    EXPECT_EQ(r.status, 200) << r.body;
    json offers = Json(r);
    for (const auto& c : offers["components"]) {
      if (c["component"] == component) return c["documents"];
    }
    ADD_FAILURE() << component << " is not a component of " << procedure << ": " << r.body;
    return json::array();
  }

  json Problem(const HttpResult& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.Header("content-type").find("application/problem+json"), std::string::npos);
    return Json(r);
  }

  json Indicator(const std::string& unit, const std::string& key) {
    json idx = Json(app_->Get("/api/v1/stats/service-index?unit=" + unit + "&from=2026-11-01&to=2026-11-30"));
    for (const auto& i : idx["indicators"]) {
      if (i["key"] == key) return i;
    }
    ADD_FAILURE() << "no indicator " << key;
    return json::object();
  }

  std::unique_ptr<TestApp> app_;
  std::string citizen_, desk_;
};

TEST_P(OnceOnlyApiTest, ABirthCertificateFromTheWalletStandsForAComponentAndCountsAsReuse) {
  std::string doc = BirthCertificateInWallet();
  ASSERT_FALSE(doc.empty());
  // The offers: each component of the form, the document types that can stand for it, and the
  // citizen's documents of those types. A declaration is filled in, never taken from the wallet.
  auto offers = app_->Get("/api/v1/me/wallet/offers?procedure=1.004222", citizen_);
  ASSERT_EQ(offers.status, 200) << offers.body;
  json o = Json(offers);
  EXPECT_EQ(o["procedure"], "1.004222");
  ASSERT_EQ(o["components"].size(), 4u);
  for (const auto& c : o["components"]) {
    if (c["component"] == kKinship) {
      ASSERT_EQ(c["documents"].size(), 1u) << c.dump();
      EXPECT_EQ(c["documents"][0]["id"], doc);
      EXPECT_EQ(c["documents"][0]["document_type"], "birth_certificate");
      EXPECT_EQ(c["documents"][0]["issuer_agency"], "UBND00004");
      EXPECT_EQ(c["documents"][0]["issued_on"], "2026-11-18");
      EXPECT_EQ(c["document_types"].size(), 2u);  // birth and marriage certificates
    } else {
      EXPECT_TRUE(c["documents"].empty()) << c.dump();
    }
    if (c["component"] == kDeclaration) {
      EXPECT_TRUE(c["document_types"].empty());
    }
  }
  EXPECT_TRUE(Offered(citizen_, "1.000894", "Giấy xác nhận tình trạng hôn nhân").empty());

  // The submission refers to it instead of an upload; the component counts as handed in.
  auto r =
      app_->Post("/api/v1/dossiers", Residence({{{"component", kKinship}, {"document_id", doc}}}).dump(), citizen_);
  ASSERT_EQ(r.status, 201) << r.body;
  json d = Json(r);
  std::string code = d["code"];
  ASSERT_EQ(d["wallet_documents"].size(), 1u);
  EXPECT_EQ(d["wallet_documents"][0]["component"], kKinship);
  EXPECT_EQ(d["wallet_documents"][0]["document_id"], doc);
  EXPECT_EQ(d["wallet_documents"][0]["type"], "1.001193");
  EXPECT_FALSE(d["wallet_documents"][0]["title"].get<std::string>().empty());
  EXPECT_EQ(d["components"], json::array({kDeclaration, kKinship}));
  EXPECT_TRUE(d["attachments"].empty());
  // The route writes the answer without a DOM; it is the bytes of the service's document.
  auto citizen = app_->app().identity().Authenticate(citizen_);
  ASSERT_TRUE(citizen.ok());
  auto doc_json = app_->app().dossiers().Get(*citizen, code);
  ASSERT_TRUE(doc_json.ok());
  EXPECT_EQ(r.body, doc_json->dump());

  // The desk officer of the commune sees the reference and verifies the document now.
  json seen = Json(app_->Get("/api/v1/dossiers/" + code, desk_));
  ASSERT_EQ(seen["wallet_documents"].size(), 1u);
  std::string url = seen["wallet_documents"][0]["url"];
  EXPECT_EQ(url, "/api/v1/dossiers/" + code + "/wallet-documents/" + doc);
  auto verified = app_->Get(url, desk_);
  ASSERT_EQ(verified.status, 200) << verified.body;
  json v = Json(verified);
  EXPECT_EQ(v["verification"]["status"], "valid");
  EXPECT_EQ(v["components"], json::array({kKinship}));
  EXPECT_FALSE(v["has_file"]);  // an issued result has no file of its own
  EXPECT_EQ(app_->Get(url + "/file", desk_).status, 404);
  EXPECT_EQ(app_->Get(url, citizen_).status, 200);  // the applicant, too
  // Nobody else: an official of another commune, another citizen, a document the dossier does not cite.
  std::string admin = app_->Login("admin");
  auto made = app_->Post("/api/v1/users",
                         json{{"username", "desk.ngocha"},
                              {"password", "Mật khẩu dài 2025"},
                              {"role", "desk_officer"},
                              {"full_name", "Cán bộ Ngọc Hà"},
                              {"agency_code", "UBND00008"}}
                             .dump(),
                         admin);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(app_->Get(url, app_->Login("desk.ngocha", "Mật khẩu dài 2025")).status, 404);
  ASSERT_EQ(app_->Post("/api/v1/auth/register", json{{"username", "binh"},
                                                     {"password", "một mật khẩu dài"},
                                                     {"full_name", "Trần Bình"},
                                                     {"personal_id", "001085000111"}}
                                                    .dump())
                .status,
            201);
  EXPECT_EQ(app_->Get(url, app_->Login("binh", "một mật khẩu dài")).status, 404);
  EXPECT_EQ(app_->Get("/api/v1/dossiers/" + code + "/wallet-documents/someotherdocument", desk_).status, 404);
  EXPECT_EQ(app_->Get(url).status, 401);

  // The service index: one of the commune's two dossiers reuses a digitised result; the kept daily
  // counts and a scan of the dossiers agree.
  json reuse = Indicator("00004", "digitisation.reuse");
  EXPECT_EQ(reuse["numerator"], 1);
  EXPECT_EQ(reuse["denominator"], 2);
  EXPECT_DOUBLE_EQ(reuse["rate"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(reuse["score"].get<double>(), 6.0);  // the target is 50%
  EXPECT_EQ(Indicator("01", "digitisation.reuse")["numerator"], 1);
  const auto& index = app_->app().service_index();
  for (const std::string unit : {"01", "00004"}) {
    auto kept = index.Compute(unit, "2026-11-01", "2026-11-30");
    auto scanned = index.Compute(unit, "2026-11-01", "2026-11-30", /*scan=*/true);
    ASSERT_TRUE(kept.ok() && scanned.ok());
    EXPECT_EQ((*kept)["indicators"], (*scanned)["indicators"]) << unit;
  }
  // Actions on the dossier leave the reuse count where it is.
  json received =
      Json(app_->Post("/api/v1/dossiers/" + code + "/actions/receive", json{{"version", d["version"]}}.dump(), desk_));
  EXPECT_EQ(received["status"], "received");
  EXPECT_EQ(Indicator("00004", "digitisation.reuse")["numerator"], 1);
  auto kept = index.Compute("00004", "2026-11-01", "2026-11-30");
  auto scanned = index.Compute("00004", "2026-11-01", "2026-11-30", true);
  ASSERT_TRUE(kept.ok() && scanned.ok());
  EXPECT_EQ((*kept)["indicators"], (*scanned)["indicators"]);
}

TEST_P(OnceOnlyApiTest, AnotherPersonsAnUnverifiedAWrongOrARevokedDocumentIsRefused) {
  std::string doc = BirthCertificateInWallet();
  ASSERT_FALSE(doc.empty());
  auto submit = [&](const std::string& token, const std::string& id) {
    return app_->Post("/api/v1/dossiers", Residence({{{"component", kKinship}, {"document_id", id}}}).dump(), token);
  };
  auto received = [&] { return Indicator("01", "digitisation.reuse")["denominator"].get<int64_t>(); };
  const int64_t before = received();

  // Someone else's document answers like an unknown one, and is never offered to them.
  ASSERT_EQ(app_->Post("/api/v1/auth/register", json{{"username", "mai"},
                                                     {"password", "một mật khẩu dài"},
                                                     {"full_name", "Trần Thị Mai"},
                                                     {"personal_id", "001192034567"}}
                                                    .dump())
                .status,
            201);
  std::string mai = app_->Login("mai", "một mật khẩu dài");
  EXPECT_TRUE(Offered(mai, "1.004222", kKinship).empty());
  json p = Problem(submit(mai, doc), 400);
  EXPECT_EQ(p["field"], "wallet_documents.0.document_id");
  json unknown = Problem(submit(citizen_, "nosuchdocument"), 400);
  EXPECT_EQ(unknown["field"], "wallet_documents.0.document_id");
  EXPECT_EQ(unknown["detail"], p["detail"]);

  // A scan the citizen added is not offered and cannot be used until an official certifies it.
  std::string pdf = "%PDF-1.4\n% bản sao giấy khai sinh\n" + std::string(500, 'x') + "\n%%EOF\n";
  auto scan = HttpRequest(app_->port(), "POST",
                          "/api/v1/me/wallet?title=B%E1%BA%A3n+sao+gi%E1%BA%A5y+khai+sinh&type=birth_certificate", pdf,
                          {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}});
  ASSERT_EQ(scan.status, 201) << scan.body;
  std::string scan_id = Json(scan)["id"];
  ASSERT_EQ(Offered(citizen_, "1.004222", kKinship).size(), 1u);
  EXPECT_EQ(Problem(submit(citizen_, scan_id), 422)["field"], "wallet_documents.0.document_id");
  auto certified = app_->Post("/api/v1/wallet/documents/" + scan_id + "/certify", "", desk_);
  ASSERT_EQ(certified.status, 200) << certified.body;
  json offered = Offered(citizen_, "1.004222", kKinship);
  ASSERT_EQ(offered.size(), 2u);
  // A certified copy carries its file, which the dossier's officials can open.
  auto with_copy = submit(citizen_, scan_id);
  ASSERT_EQ(with_copy.status, 201) << with_copy.body;
  std::string copy_code = Json(with_copy)["code"];
  auto file = app_->Get("/api/v1/dossiers/" + copy_code + "/wallet-documents/" + scan_id + "/file", desk_);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, pdf);
  EXPECT_EQ(file.Header("content-type"), "application/pdf");

  // A document of a type that cannot stand for the component.
  auto id_scan = HttpRequest(app_->port(), "POST", "/api/v1/me/wallet?title=C%C4%83n+c%C6%B0%E1%BB%9Bc&type=identity",
                             "%PDF-1.4\n% căn cước\n%%EOF\n",
                             {{"Authorization", "Bearer " + citizen_}, {"Content-Type", "application/pdf"}});
  ASSERT_EQ(id_scan.status, 201) << id_scan.body;
  std::string id_doc = Json(id_scan)["id"];
  ASSERT_EQ(app_->Post("/api/v1/wallet/documents/" + id_doc + "/certify", "", desk_).status, 200);
  EXPECT_EQ(Offered(citizen_, "1.004222", kKinship).size(), 2u);
  EXPECT_EQ(Problem(submit(citizen_, id_doc), 422)["field"], "wallet_documents.0.document_id");

  // The commune's signing key revoked: everything it signed verifies as revoked, is no longer
  // offered and is refused.
  std::string admin = app_->Login("admin");
  std::string key_id;
  json keys = Json(app_->Get("/api/v1/signing-keys", admin));
  for (const auto& k : keys["items"]) {
    if (k["agency_code"] == "UBND00004" && k["status"] == "active") key_id = k["key_id"];
  }
  ASSERT_FALSE(key_id.empty());
  ASSERT_EQ(app_->Post("/api/v1/signing-keys/" + key_id + "/revoke", json{{"reason", "Lộ khóa ký (thử nghiệm)"}}.dump(),
                       admin)
                .status,
            200);
  EXPECT_TRUE(Offered(citizen_, "1.004222", kKinship).empty());
  json revoked = Problem(submit(citizen_, doc), 422);
  EXPECT_EQ(revoked["field"], "wallet_documents.0.document_id");
  EXPECT_NE(revoked["detail"].get<std::string>().find("revoked"), std::string::npos) << revoked.dump();
  // The dossier that used the copy shows it as revoked now.
  EXPECT_EQ(Json(app_->Get("/api/v1/dossiers/" + copy_code + "/wallet-documents/" + scan_id,
                           desk_))["verification"]["status"],
            "revoked");
  // Only the accepted submission was written.
  EXPECT_EQ(received(), before + 1);
  EXPECT_EQ(Indicator("01", "digitisation.reuse")["numerator"], 1);
}

TEST_P(OnceOnlyApiTest, BadReferencesAndOffersAreNamed) {
  auto field = [&](const json& refs, const std::string& token, int status = 400) {
    return Problem(app_->Post("/api/v1/dossiers", Residence(refs).dump(), token), status)["field"];
  };
  EXPECT_EQ(field("x", citizen_), "wallet_documents");
  EXPECT_EQ(field({"x"}, citizen_), "wallet_documents.0");
  EXPECT_EQ(field({{{"document_id", "abc"}}}, citizen_), "wallet_documents.0.component");
  EXPECT_EQ(field({{{"component", kKinship}}}, citizen_), "wallet_documents.0.document_id");
  EXPECT_EQ(field({{{"component", kKinship}, {"document_id", "a b"}}}, citizen_), "wallet_documents.0.document_id");
  EXPECT_EQ(field({{{"component", kKinship}, {"document_id", "abc"}, {"file", "x"}}}, citizen_),
            "wallet_documents.0.file");
  EXPECT_EQ(
      field({{{"component", kKinship}, {"document_id", "abc"}}, {{"component", kKinship}, {"document_id", "abd"}}},
            citizen_),
      "wallet_documents.1.component");
  // Not a component of this procedure; a declaration no document stands for.
  EXPECT_EQ(field({{{"component", "Giấy khai sinh"}, {"document_id", "abc"}}}, citizen_),
            "wallet_documents.0.component");
  EXPECT_EQ(field({{{"component", kDeclaration}, {"document_id", "abc"}}}, citizen_), "wallet_documents.0.component");
  // A desk officer records what the applicant hands over; the wallet is the applicant's own.
  json desk_body = Residence({{{"component", kKinship}, {"document_id", "abc"}}});
  desk_body["channel"] = "desk";
  EXPECT_EQ(Problem(app_->Post("/api/v1/dossiers", desk_body.dump(), desk_), 400)["field"], "wallet_documents");

  EXPECT_EQ(Problem(app_->Get("/api/v1/me/wallet/offers", citizen_), 400)["field"], "procedure");
  EXPECT_EQ(Problem(app_->Get("/api/v1/me/wallet/offers?procedure=9.999999", citizen_), 400)["field"], "procedure");
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/offers?procedure=1.004222", desk_).status, 403);
  EXPECT_EQ(app_->Get("/api/v1/me/wallet/offers?procedure=1.004222").status, 401);
  // A procedure listing no components: nothing to offer.
  auto none = app_->Get("/api/v1/me/wallet/offers?procedure=1.010386", citizen_);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(Json(none)["components"].empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, OnceOnlyApiTest, ::testing::ValuesIn(BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::testing
