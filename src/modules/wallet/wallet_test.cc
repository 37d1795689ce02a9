#include "modules/wallet/wallet.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "core/signing.h"
#include "tests/support/scratch_store.h"

namespace tl::wallet {
namespace {

using nlohmann::json;

class WalletTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto().ok());
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto migrations = audit::AuditLog::Migrations();
    for (auto& m : WalletService::Migrations()) migrations.push_back(m);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, migrations).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    wallet_ = std::make_unique<WalletService>(db_.get(), &clock_, audit_.get(), master_);
    citizen_.username = "citizen";
    citizen_.role = "citizen";
    citizen_.personal_id = "001090012345";
    official_.username = "desk";
    official_.role = "desk_officer";
    official_.agency = "UBND00004";
  }
  // A birth certificate issued by `agency` for dossier `number`, titled `title`.
  static NewDocument BirthCertificate(const std::string& agency, const std::string& number = "UBND00004-261118-0001",
                                      const std::string& title = "Giấy khai sinh") {
    NewDocument d;
    d.holder = "001090012345";
    d.type = "1.001193";
    d.number = number;
    d.title = title;
    d.issuer_agency = agency;
    d.issued_on = "2026-11-18";
    d.source = "dossier:" + number;
    return d;
  }
  std::string IssueOne(const std::string& agency, const std::string& file = "", const std::string& id = "") {
    NewDocument d = BirthCertificate(agency);
    d.id = id;
    d.content_type = file.empty() ? "" : "application/pdf";
    d.file = file;
    std::string out;
    Status st = db_->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(out, wallet_->Issue(s, d, "leader"));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
  }
  std::string StatusOf(const std::string& id) {
    auto v = wallet_->VerifyId(id);
    EXPECT_TRUE(v.ok());
    return v.ok() ? (*v)["status"].get<std::string>() : "";
  }
  void Exec(const std::string& sql) {
    ASSERT_TRUE(db_->Write([&](storage::Session& s) { return s.ExecScript(sql); }).ok());
  }
  ManualClock clock_{1795000000000};
  std::string master_ = signing::GenerateMasterKey();
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<WalletService> wallet_;
  http::Principal citizen_, official_;
};

TEST_P(WalletTest, AnIssuedDocumentVerifiesAndAnEditedOneIsTampered) {
  std::string id = IssueOne("UBND00004");
  auto v = wallet_->VerifyId(id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["status"], "valid");
  EXPECT_EQ((*v)["issuer_agency"], "UBND00004");
  auto list = wallet_->ListFor(citizen_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["title"], "Giấy khai sinh");
  Exec("UPDATE wallet_documents SET number = 'UBND00004-261118-0999' WHERE id = '" + id + "'");
  EXPECT_EQ(StatusOf(id), "tampered");
  EXPECT_EQ(StatusOf("no-such-document"), "unknown");
  // The private keys at rest are sealed: the stored text is not the key.
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT sealed_private_key, key_id FROM signing_keys"));
                  EXPECT_EQ(rs.rows.size(), 1u);
                  auto opened = signing::OpenPrivateKey(rs.rows[0].Text(0), rs.rows[0].Text(1), signing::GenerateMasterKey());
                  EXPECT_FALSE(opened.ok());  // another master key cannot open it
                  return Status::Ok();
                }).ok());
}

TEST_P(WalletTest, AChangedFileIsTamperedAndAForeignOneUnknown) {
  std::string id = "doc-" + crypto::RandomToken(8);
  std::string pdf = "%PDF-1.7\n% ThangLong-Document-Id: " + id + "\nGiấy khai sinh: Nguyễn Minh Khôi\n%%EOF\n";
  IssueOne("UBND00004", pdf, id);
  auto same = wallet_->VerifyFile(pdf);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)["status"], "valid");
  EXPECT_EQ((*same)["document_id"], id);
  std::string changed = pdf;
  changed.replace(changed.find("Khôi"), 6, "Khoa");
  auto tampered = wallet_->VerifyFile(changed);
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ((*tampered)["status"], "tampered");
  EXPECT_EQ((*wallet_->VerifyFile("%PDF-1.4 something else"))["status"], "unknown");
}

TEST_P(WalletTest, ASignedDocumentsPdfIsMadeOnceSignedAndVerifiesAsItsDocument) {
  std::string id = IssueOne("UBND00004");
  int renders = 0;
  WalletService::PdfRenderer render = [&](const DocumentRecord& d) -> Result<std::string> {
    ++renders;
    EXPECT_EQ(d.title, "Giấy khai sinh");
    EXPECT_NE(d.state, "unverified");
    return "%PDF-1.7\n% ThangLong-Document-Id: " + d.id + "\nrender " + std::to_string(renders) + "\n%%EOF\n";
  };
  auto pdf = wallet_->PdfFor(citizen_, id, render);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  EXPECT_EQ(pdf->first, "application/pdf");
  // Kept: the holder and the dossier's officials get the same bytes without drawing again.
  EXPECT_EQ(wallet_->PdfFor(citizen_, id, render)->second, pdf->second);
  auto by_source = wallet_->PdfOfSource("dossier:UBND00004-261118-0001", render);
  ASSERT_TRUE(by_source.ok());
  EXPECT_EQ(by_source->second, pdf->second);
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(wallet_->PdfOfSource("dossier:nothing", render).status().code(), StatusCode::kNotFound);
  // Someone else, or nobody, holds no such document.
  http::Principal other = citizen_;
  other.personal_id = "001085000777";
  EXPECT_EQ(wallet_->PdfFor(other, id, render).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(wallet_->PdfFor(official_, id, render).status().code(), StatusCode::kNotFound);

  auto valid = wallet_->VerifyFile(pdf->second);
  ASSERT_TRUE(valid.ok());
  EXPECT_EQ((*valid)["status"], "valid") << valid->dump();
  EXPECT_EQ((*valid)["document_id"], id);
  EXPECT_EQ((*valid)["file"], "pdf");
  std::string changed = pdf->second;
  changed.replace(changed.find("render 1"), 8, "render 2");
  EXPECT_EQ((*wallet_->VerifyFile(changed))["status"], "tampered");
  // A rendition whose signature no longer matches (its row edited) is tampered too.
  Exec("UPDATE wallet_renditions SET signature = 'AAAA' WHERE document_id = '" + id + "'");
  EXPECT_EQ((*wallet_->VerifyFile(pdf->second))["status"], "tampered");
  // The PDF says what the document says: revoked with its key.
  std::string second = IssueOne("UBND00004");
  auto pdf2 = wallet_->PdfFor(citizen_, second, render);
  ASSERT_TRUE(pdf2.ok());
  EXPECT_EQ((*wallet_->VerifyFile(pdf2->second))["status"], "valid");
  auto keys = wallet_->Keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_TRUE(
      wallet_->RevokeKey((*keys)["items"][0]["key_id"].get<std::string>(), "khóa bị lộ", {"admin", "", "", "", "", ""}).ok());
  EXPECT_EQ((*wallet_->VerifyFile(pdf2->second))["status"], "revoked");
  // A scan nobody certified has no platform PDF; a failed drawing stores nothing.
  NewDocument scan;
  scan.title = "Bản scan";
  scan.content_type = "application/pdf";
  scan.file = "%PDF-1.4\nscan\n%%EOF\n";
  auto scan_id = wallet_->AddScan(citizen_, scan, {"citizen", "", "", "", "", ""});
  ASSERT_TRUE(scan_id.ok()) << scan_id.status().message();
  EXPECT_EQ(wallet_->PdfFor(citizen_, *scan_id, render).status().code(), StatusCode::kFailedPrecondition);
  std::string third = IssueOne("UBND00008");
  auto failing = [](const DocumentRecord&) -> Result<std::string> { return Internal("no fonts"); };
  EXPECT_EQ(wallet_->PdfFor(citizen_, third, failing).status().code(), StatusCode::kInternal);
  EXPECT_TRUE(wallet_->PdfFor(citizen_, third, render).ok());
}

TEST_P(WalletTest, RotationKeepsOldDocumentsValidAndRevocationRevokesWhatAKeySigned) {
  std::string old_doc = IssueOne("UBND00004");
  auto keys = wallet_->Keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ((*keys)["items"].size(), 1u);
  std::string old_key = (*keys)["items"][0]["key_id"];
  auto rotated = wallet_->RotateKey("UBND00004", {"admin", "", "", "", "", ""});
  ASSERT_TRUE(rotated.ok()) << rotated.status().message();
  EXPECT_NE((*rotated)["key_id"], old_key);
  std::string new_doc = IssueOne("UBND00004");
  EXPECT_EQ(StatusOf(old_doc), "valid");
  EXPECT_EQ(StatusOf(new_doc), "valid");
  EXPECT_EQ((*wallet_->VerifyId(new_doc))["key_id"], (*rotated)["key_id"]);
  auto revoked = wallet_->RevokeKey(old_key, "khóa bị lộ", {"admin", "", "", "", "", ""});
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(StatusOf(old_doc), "revoked");
  EXPECT_EQ(StatusOf(new_doc), "valid");
  EXPECT_EQ(wallet_->RevokeKey(old_key, "lần nữa thôi", {"admin", "", "", "", "", ""}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(wallet_->RevokeKey((*rotated)["key_id"], "x", {"admin", "", "", "", "", ""}).status().field(), "reason");
  // A forged key row (another root did not certify it) is caught.
  Exec("UPDATE signing_keys SET agency_code = 'STP01' WHERE key_id = '" + std::string((*rotated)["key_id"]) + "'");
  EXPECT_EQ(StatusOf(new_doc), "tampered");
}

// A signature made ahead of the issuing transaction is used only when the document comes out the
// same under the same active key; otherwise Issue signs, and the document verifies either way.
TEST_P(WalletTest, ASignatureMadeAheadIsUsedOnlyWhenTheDocumentIsTheOneItSigned) {
  const NewDocument d =
      BirthCertificate("UBND00004", "UBND00004-261118-0002", "Giấy khai sinh: Nguyễn Minh Khôi (001226123456)");
  EXPECT_EQ(wallet_->Presign(d).status().code(), StatusCode::kNotFound);  // the agency has no key yet
  IssueOne("UBND00004");                                                  // now it has
  auto issue = [&](const NewDocument& doc, const WalletService::Presigned& ahead) {
    std::string id;
    Status st = db_->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(id, wallet_->Issue(s, doc, "leader", &ahead));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return id;
  };
  auto stored_signature = [&](const std::string& id) {
    std::string sig;
    EXPECT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                     TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT signature FROM wallet_documents WHERE id = ?", {id}));
                     if (!rs.empty()) sig = rs.rows[0].Text(0);
                     return Status::Ok();
                   })
                    .ok());
    return sig;
  };
  // Signs `d` ahead (then, with `rotate`, rotates the agency's key) and issues `doc` with that: the
  // id made ahead is the document's, its signature is the one stored only when `used`, and the
  // document verifies either way.
  auto issue_and_check = [&](const NewDocument& doc, bool used, bool rotate = false) {
    auto ahead = wallet_->Presign(d);
    EXPECT_TRUE(ahead.ok()) << ahead.status().message();
    if (!ahead.ok()) return std::string();
    if (rotate) {
      auto rotated = wallet_->RotateKey("UBND00004", {"admin", "", "", "", "", ""});
      EXPECT_TRUE(rotated.ok()) << rotated.status().message();
    }
    std::string id = issue(doc, *ahead);
    EXPECT_EQ(id, ahead->id);
    EXPECT_EQ(stored_signature(id) == ahead->signature, used);
    EXPECT_EQ(StatusOf(id), "valid");
    return id;
  };
  // The same document: the signature made ahead is the one stored.
  issue_and_check(d, true);
  // The registration gave the child another id, so the title differs: signed anew.
  NewDocument other = d;
  other.title = "Giấy khai sinh: Nguyễn Minh Khôi (001226654321)";
  issue_and_check(other, false);
  // Signed ahead with a key rotated out since: signed anew with the active key.
  std::string after_rotation = issue_and_check(d, false, /*rotate=*/true);
  auto keys = wallet_->Keys();
  ASSERT_TRUE(keys.ok());
  std::string active;
  for (const auto& k : (*keys)["items"]) {
    if (k["status"] == "active") active = k["key_id"];
  }
  EXPECT_EQ((*wallet_->VerifyId(after_rotation))["key_id"], active);
  // Presign keeps the active key it opened; a rotation here drops it, so what is signed ahead after
  // the rotation is signed with the new key and used.
  EXPECT_EQ((*wallet_->VerifyId(issue_and_check(d, true)))["key_id"], active);
  auto rotated = wallet_->RotateKey("UBND00004", {"admin", "", "", "", "", ""});
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ((*wallet_->VerifyId(issue_and_check(d, true)))["key_id"], (*rotated)["key_id"]);
}

TEST_P(WalletTest, AScanStaysUnverifiedUntilAnOfficialCertifiesIt) {
  NewDocument d;
  d.title = "Bằng tốt nghiệp THPT";
  d.content_type = "image/png";
  d.file = std::string("\x89PNG\r\n\x1a\n", 8) + "scan";
  auto id = wallet_->AddScan(citizen_, d, {"citizen", "", "", "", "", ""});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(StatusOf(*id), "unverified");
  http::Principal stranger;
  stranger.username = "other";
  stranger.personal_id = "001085000777";
  EXPECT_EQ(wallet_->FileFor(stranger, *id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(wallet_->FileFor(citizen_, *id).ok());
  EXPECT_EQ(wallet_->Certify(citizen_, *id, {"citizen", "", "", "", "", ""}).status().code(), StatusCode::kPermissionDenied);
  auto certified = wallet_->Certify(official_, *id, {"desk", "", "", "", "", ""});
  ASSERT_TRUE(certified.ok()) << certified.status().message();
  EXPECT_EQ((*certified)["status"], "valid");
  EXPECT_EQ((*certified)["issuer_agency"], "UBND00004");
  EXPECT_EQ(wallet_->Certify(official_, *id, {"desk", "", "", "", "", ""}).status().code(), StatusCode::kConflict);
  EXPECT_EQ((*wallet_->VerifyFile(d.file))["status"], "valid");
}

TEST_P(WalletTest, AShareLinkRevealsOneDocumentAndDiesAtExpiry) {
  std::string mine = IssueOne("UBND00004", "%PDF-1.7 the result");
  auto link = wallet_->Share(citizen_, mine, 2, {"citizen", "", "", "", "", ""});
  ASSERT_TRUE(link.ok()) << link.status().message();
  std::string token = (*link)["token"];
  auto shared = wallet_->Shared(token);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ((*shared)["id"], mine);
  EXPECT_EQ((*shared)["verification"]["status"], "valid");
  EXPECT_EQ(shared->count("holder"), 0u);  // nothing of the holder beyond the document
  EXPECT_EQ(wallet_->SharedFile(token)->second, "%PDF-1.7 the result");
  http::Principal stranger;
  stranger.username = "other";
  stranger.personal_id = "001085000777";
  EXPECT_EQ(wallet_->Share(stranger, mine, 2, {"other", "", "", "", "", ""}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(wallet_->Share(citizen_, mine, 0, {"citizen", "", "", "", "", ""}).status().field(), "hours");
  EXPECT_EQ(wallet_->Shared("not-a-token").status().code(), StatusCode::kNotFound);
  clock_.Advance(2 * 3600 * 1000 + 1);
  EXPECT_EQ(wallet_->Shared(token).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(wallet_->SharedFile(token).status().code(), StatusCode::kNotFound);
}

TEST_P(WalletTest, AnotherMasterKeyCannotSign) {
  IssueOne("UBND00004");  // creates the root and the agency key under master_
  WalletService other(db_.get(), &clock_, audit_.get(), signing::GenerateMasterKey());
  NewDocument d;
  d.holder = "001090012345";
  d.title = "x";
  d.issuer_agency = "UBND00004";
  Status st = db_->Write([&](storage::Session& s) -> Status { return other.Issue(s, d, "leader").status(); });
  EXPECT_FALSE(st.ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, WalletTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::wallet
