#include "modules/wallet/wallet.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/crypto.h"
#include "core/file_type.h"
#include "core/signing.h"
#include "core/text.h"
#include "http/json_body.h"

namespace tl::wallet {
namespace {

using nlohmann::json;

constexpr char kDocColumns[] =
    "id, holder, type, number, title, issuer_agency, issued_on, valid_until, source, content_type, file_sha256, "
    "key_id, signature, state, revoked_at, created_at";
enum DocCol {
  kId, kHolder, kType, kNumber, kTitle, kIssuer, kIssuedOn, kValidUntil, kSource, kContentType, kFileSha, kKeyId,
  kSignature, kState, kRevokedAt, kCreatedAt
};
// PDFs the platform issues carry this marker, so a changed file is recognised as tampered, not unknown.
constexpr char kPdfMarker[] = "ThangLong-Document-Id:";

Result<std::string> Digest(const std::string& id, const std::string& holder, const std::string& type,
                           const std::string& number, const std::string& title, const std::string& issuer,
                           const std::string& issued_on, const std::string& valid_until, const std::string& source,
                           const std::string& file_sha, const std::string& key_id) {
  return signing::DocumentDigest({{"id", id},
                                  {"holder", holder},
                                  {"type", type},
                                  {"number", number},
                                  {"title", title},
                                  {"issuer_agency", issuer},
                                  {"issued_on", issued_on},
                                  {"valid_until", valid_until},
                                  {"source", source},
                                  {"file_sha256", file_sha},
                                  {"key_id", key_id}});
}

Result<std::string> DigestOf(const storage::Row& r) {
  return Digest(r.Text(kId), r.Text(kHolder), r.Text(kType), r.Text(kNumber), r.Text(kTitle), r.Text(kIssuer),
                r.Text(kIssuedOn), r.Text(kValidUntil), r.Text(kSource), r.Text(kFileSha), r.Text(kKeyId));
}

json Summary(const storage::Row& r) {
  auto opt = [&](int c) { return r.IsNull(c) || r.Text(c).empty() ? json(nullptr) : json(r.Text(c)); };
  return json{{"id", r.Text(kId)},          {"type", r.Text(kType)},       {"number", r.Text(kNumber)},
              {"title", r.Text(kTitle)},    {"issuer_agency", r.Text(kIssuer)}, {"issued_on", r.Text(kIssuedOn)},
              {"valid_until", opt(kValidUntil)}, {"source", r.Text(kSource)}, {"state", r.Text(kState)},
              {"content_type", opt(kContentType)}, {"has_file", !r.Text(kFileSha).empty()},
              {"revoked", !r.IsNull(kRevokedAt)}};
}

bool HoldsIt(const http::Principal& who, const std::string& holder) {
  return !holder.empty() && who.personal_id && *who.personal_id == holder;
}

Status CheckNewDocument(const NewDocument& d) {
  for (auto [v, name, max] : {std::tuple{&d.holder, "holder", 20}, {&d.type, "type", 100}, {&d.number, "number", 100},
                              {&d.title, "title", 300}, {&d.issuer_agency, "issuer_agency", 40},
                              {&d.issued_on, "issued_on", 10}, {&d.valid_until, "valid_until", 10},
                              {&d.source, "source", 200}}) {
    if (v->find('\n') != std::string::npos || !text::IsValidUtf8(*v)) return InvalidArgument("is not one line of text", name);
    if (text::CodePointCount(*v) > max) return InvalidArgument("is too long", name);
  }
  if (d.title.empty()) return InvalidArgument("is required", "title");
  return Status::Ok();
}

}  // namespace

std::vector<storage::Migration> WalletService::Migrations() {
  return {{720, "document wallet and signing keys",
           "CREATE TABLE platform_keys (name TEXT PRIMARY KEY, public_key TEXT NOT NULL, sealed_private_key TEXT NOT NULL, "
           "created_at BIGINT NOT NULL);"
           "CREATE TABLE signing_keys (key_id TEXT PRIMARY KEY, agency_code TEXT NOT NULL, public_key TEXT NOT NULL, "
           "sealed_private_key TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_until BIGINT NOT NULL, "
           "root_signature TEXT NOT NULL, status TEXT NOT NULL, revoked_at BIGINT, revocation_reason TEXT);"
           "CREATE INDEX signing_keys_agency ON signing_keys (agency_code, status);"
           "CREATE TABLE wallet_files (sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, data {{BLOB}} NOT NULL);"
           "CREATE TABLE wallet_documents (id TEXT PRIMARY KEY, holder TEXT NOT NULL, type TEXT NOT NULL, "
           "number TEXT NOT NULL, title TEXT NOT NULL, issuer_agency TEXT NOT NULL, issued_on TEXT NOT NULL, "
           "valid_until TEXT NOT NULL, source TEXT NOT NULL, content_type TEXT, file_sha256 TEXT NOT NULL, "
           "key_id TEXT NOT NULL, signature TEXT NOT NULL, state TEXT NOT NULL, revoked_at BIGINT, "
           "created_at BIGINT NOT NULL);"
           "CREATE INDEX wallet_documents_holder ON wallet_documents (holder, created_at);"
           "CREATE INDEX wallet_documents_file ON wallet_documents (file_sha256);"
           "CREATE TABLE wallet_shares (token_hash TEXT PRIMARY KEY, document_id TEXT NOT NULL, "
           "created_by TEXT NOT NULL, expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL);"},
          // The printable PDF of a signed document, its file in wallet_files, signed by the issuer's key.
          {730, "signed PDF renditions of wallet documents",
           "CREATE TABLE wallet_renditions (document_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, key_id TEXT NOT NULL, "
           "signature TEXT NOT NULL, created_at BIGINT NOT NULL);"
           "CREATE INDEX wallet_renditions_file ON wallet_renditions (sha256);"
           "CREATE INDEX wallet_documents_source ON wallet_documents (source);"},
          // The active key of an agency is its newest: found in the index's order, not sorted apart
          // (SQLite built a temporary B-tree for the ORDER BY on every document issued).
          {1110, "signing keys by agency, status and start",
           "DROP INDEX signing_keys_agency;"
           "CREATE INDEX signing_keys_agency ON signing_keys (agency_code, status, valid_from);"}};
}

Result<std::string> WalletService::RootPrivateKey(storage::Session& s) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT sealed_private_key FROM platform_keys WHERE name = 'root'"));
  if (!rs.empty()) return signing::OpenPrivateKey(rs.rows[0].Text(0), "root", master_key_);
  signing::KeyPair root = signing::GenerateKeyPair();
  TL_ASSIGN_OR_RETURN(auto sealed, signing::SealPrivateKey(root.private_key, "root", master_key_));
  TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO platform_keys (name, public_key, sealed_private_key, created_at) "
                                     "VALUES ('root', ?, ?, ?)",
                                     {root.public_key, sealed, clock_->NowMillis()}));
  (void)n;
  return root.private_key;
}

namespace {

// The agency's active key as stored: key_id, sealed_private_key (no row when it has none).
Result<storage::ResultSet> ActiveKeyRow(storage::Session& s, const std::string& agency) {
  return s.Query(
      "SELECT key_id, sealed_private_key FROM signing_keys "
      "WHERE agency_code = ? AND status = 'active' ORDER BY valid_from DESC LIMIT 1",
      {agency});
}

// What Issue signs: the new document `d` as document `id`, its file's SHA-256, under `key_id`.
Result<std::string> DigestOfNew(const NewDocument& d, const std::string& id, const std::string& file_sha,
                                const std::string& key_id) {
  return Digest(id, d.holder, d.type, d.number, d.title, d.issuer_agency, d.issued_on, d.valid_until, d.source,
                file_sha, key_id);
}

}  // namespace

Result<WalletService::AgencyKey> WalletService::ActiveKey(storage::Session& s, const std::string& agency,
                                                          bool open_private) const {
  TL_ASSIGN_OR_RETURN(auto rs, ActiveKeyRow(s, agency));
  if (!rs.empty() && !open_private) return AgencyKey{rs.rows[0].Text(0), ""};
  if (!rs.empty()) {
    TL_ASSIGN_OR_RETURN(auto priv, signing::OpenPrivateKey(rs.rows[0].Text(1), rs.rows[0].Text(0), master_key_));
    return AgencyKey{rs.rows[0].Text(0), std::move(priv)};
  }
  TL_ASSIGN_OR_RETURN(auto root, RootPrivateKey(s));
  TL_ASSIGN_OR_RETURN(auto count, s.Query("SELECT COUNT(*) FROM signing_keys WHERE agency_code = ?", {agency}));
  int64_t now = clock_->NowMillis();
  signing::KeyPair kp = signing::GenerateKeyPair();
  signing::KeyCertificate cert;
  cert.key_id = agency + "-" + FormatRfc3339(now).substr(0, 4) + "-" + std::to_string(count.rows[0].Int(0) + 1);
  cert.agency_code = agency;
  cert.public_key = kp.public_key;
  cert.valid_from_ms = now;
  TL_RETURN_IF_ERROR(signing::Certify(cert, root));
  TL_ASSIGN_OR_RETURN(auto sealed, signing::SealPrivateKey(kp.private_key, cert.key_id, master_key_));
  TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO signing_keys (key_id, agency_code, public_key, sealed_private_key, "
                                     "valid_from, valid_until, root_signature, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'active')",
                                     {cert.key_id, agency, kp.public_key, sealed, now, cert.valid_until_ms,
                                      cert.root_signature}));
  (void)n;
  return AgencyKey{cert.key_id, kp.private_key};
}

namespace {

Status CheckIssued(const NewDocument& d) {
  TL_RETURN_IF_ERROR(CheckNewDocument(d));
  if (d.issuer_agency.empty()) return InvalidArgument("is required", "issuer_agency");
  if (!d.id.empty() && (d.id.size() > 64 || d.id.find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)) {
    return InvalidArgument("must be 1-64 letters, digits, - or _", "id");
  }
  return Status::Ok();
}

}  // namespace

Result<WalletService::Presigned> WalletService::Presign(const NewDocument& d) const {
  TL_RETURN_IF_ERROR(CheckIssued(d));
  Presigned p;
  p.id = d.id.empty() ? crypto::RandomToken(16) : d.id;
  std::string private_key;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(presign_keys_mu_);
    auto it = presign_keys_.find(d.issuer_agency);
    if (it != presign_keys_.end() && now - it->second.read_at < kPresignKeyTtl) {
      p.key_id = it->second.key_id;
      private_key = it->second.private_key;
    }
  }
  if (private_key.empty()) {
    std::string sealed;
    TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(auto rs, ActiveKeyRow(s, d.issuer_agency));
      if (rs.empty()) return NotFound("the agency has no signing key yet");
      p.key_id = rs.rows[0].Text(0);
      sealed = rs.rows[0].Text(1);
      return Status::Ok();
    }));
    TL_ASSIGN_OR_RETURN(private_key, signing::OpenPrivateKey(sealed, p.key_id, master_key_));
    std::lock_guard lock(presign_keys_mu_);
    presign_keys_[d.issuer_agency] = PresignKey{p.key_id, private_key, now};
  }
  TL_ASSIGN_OR_RETURN(p.digest, DigestOfNew(d, p.id, d.file.empty() ? "" : crypto::Sha256Hex(d.file), p.key_id));
  TL_ASSIGN_OR_RETURN(p.signature, signing::Sign(p.digest, private_key));
  return p;
}

Result<std::string> WalletService::Issue(storage::Session& s, const NewDocument& d, const std::string& actor,
                                         const Presigned* presigned) const {
  TL_RETURN_IF_ERROR(CheckIssued(d));
  // With a signature made ahead, the private key is opened only if it does not fit.
  TL_ASSIGN_OR_RETURN(auto key, ActiveKey(s, d.issuer_agency, /*open_private=*/presigned == nullptr));
  std::string id = presigned ? presigned->id : d.id.empty() ? crypto::RandomToken(16) : d.id;
  std::string file_sha = d.file.empty() ? "" : crypto::Sha256Hex(d.file);
  TL_ASSIGN_OR_RETURN(auto digest, DigestOfNew(d, id, file_sha, key.key_id));
  std::string signature;
  if (presigned && presigned->key_id == key.key_id && presigned->digest == digest) {
    signature = presigned->signature;
  } else {
    if (key.private_key.empty()) {
      TL_ASSIGN_OR_RETURN(key, ActiveKey(s, d.issuer_agency));
    }
    TL_ASSIGN_OR_RETURN(signature, signing::Sign(digest, key.private_key));
  }
  if (!d.file.empty()) {
    TL_ASSIGN_OR_RETURN(auto f, s.Exec("INSERT INTO wallet_files (sha256, content_type, data) VALUES (?, ?, ?) "
                                       "ON CONFLICT (sha256) DO NOTHING",
                                       {file_sha, d.content_type, storage::Blob{d.file}}));
    (void)f;
  }
  TL_ASSIGN_OR_RETURN(auto n, s.Exec(std::string("INSERT INTO wallet_documents (") + kDocColumns +
                                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', NULL, ?)",
                                     {id, d.holder, d.type, d.number, d.title, d.issuer_agency, d.issued_on,
                                      d.valid_until, d.source, storage::OptText(d.content_type.empty() ? std::nullopt : std::optional(d.content_type)),
                                      file_sha, key.key_id, signature, clock_->NowMillis()}));
  (void)n;
  audit::Entry e{actor, "wallet.issue", "document:" + id, "", "",
                 json{{"holder_suffix", d.holder.size() > 4 ? d.holder.substr(d.holder.size() - 4) : d.holder},
                      {"type", d.type}, {"key_id", key.key_id}}.dump()};
  TL_RETURN_IF_ERROR(audit_->Append(s, e));
  return id;
}

Result<std::string> WalletService::AddScan(const http::Principal& who, NewDocument d, const audit::Entry& ctx) const {
  if (!who.personal_id) return PermissionDenied("only citizens with a personal id keep a wallet");
  d.holder = *who.personal_id;
  d.issuer_agency = "";
  d.source = "upload";
  TL_RETURN_IF_ERROR(CheckNewDocument(d));
  if (d.file.empty()) return InvalidArgument("the scan is empty", "body");
  std::string id = crypto::RandomToken(16);
  std::string sha = crypto::Sha256Hex(d.file);
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto f, s.Exec("INSERT INTO wallet_files (sha256, content_type, data) VALUES (?, ?, ?) "
                                       "ON CONFLICT (sha256) DO NOTHING",
                                       {sha, d.content_type, storage::Blob{d.file}}));
    (void)f;
    TL_ASSIGN_OR_RETURN(auto n, s.Exec(std::string("INSERT INTO wallet_documents (") + kDocColumns +
                                           ") VALUES (?, ?, ?, ?, ?, '', ?, '', 'upload', ?, ?, '', '', 'unverified', "
                                           "NULL, ?)",
                                       {id, d.holder, d.type, d.number, d.title, d.issued_on, d.content_type, sha,
                                        clock_->NowMillis()}));
    (void)n;
    audit::Entry e = ctx;
    e.action = "wallet.scan";
    e.resource = "document:" + id;
    return audit_->Append(s, e);
  }));
  return id;
}

Result<json> WalletService::Certify(const http::Principal& who, const std::string& id, const audit::Entry& ctx) const {
  if (!who.agency) return PermissionDenied("only officials certify copies");
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kDocColumns + " FROM wallet_documents WHERE id = ?",
                                         {id}));
    if (rs.empty()) return NotFound("no such document");
    const auto& r = rs.rows[0];
    if (r.Text(kState) != "unverified") {
      return Status(StatusCode::kConflict, "only an unverified scan can be certified", "state");
    }
    TL_ASSIGN_OR_RETURN(auto key, ActiveKey(s, *who.agency));
    TL_ASSIGN_OR_RETURN(auto digest, Digest(id, r.Text(kHolder), r.Text(kType), r.Text(kNumber), r.Text(kTitle),
                                            *who.agency, r.Text(kIssuedOn), r.Text(kValidUntil), "certified-copy",
                                            r.Text(kFileSha), key.key_id));
    TL_ASSIGN_OR_RETURN(auto signature, signing::Sign(digest, key.private_key));
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE wallet_documents SET issuer_agency = ?, source = 'certified-copy', "
                                       "key_id = ?, signature = ?, state = 'certified' WHERE id = ? AND state = 'unverified'",
                                       {*who.agency, key.key_id, signature, id}));
    if (n != 1) return Status(StatusCode::kConflict, "the document changed meanwhile", "state");
    audit::Entry e = ctx;
    e.action = "wallet.certify";
    e.resource = "document:" + id;
    return audit_->Append(s, e);
  }));
  return VerifyId(id);
}

Result<json> WalletService::ListFor(const http::Principal& who) const {
  if (!who.personal_id) return PermissionDenied("only citizens with a personal id keep a wallet");
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kDocColumns +
                                             " FROM wallet_documents WHERE holder = ? ORDER BY created_at DESC LIMIT 500",
                                         {*who.personal_id}));
    for (const auto& r : rs.rows) items.push_back(Summary(r));
    return Status::Ok();
  }));
  return json{{"items", std::move(items)}};
}

Result<std::pair<std::string, std::string>> WalletService::FileFor(const http::Principal& who,
                                                                   const std::string& id) const {
  std::pair<std::string, std::string> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT d.holder, f.content_type, f.data FROM wallet_documents d "
                                         "JOIN wallet_files f ON f.sha256 = d.file_sha256 WHERE d.id = ?",
                                         {id}));
    // Someone else's document and a missing one answer alike.
    if (rs.empty() || !HoldsIt(who, rs.rows[0].Text(0))) return NotFound("no such document in your wallet");
    out = {rs.rows[0].Text(1), rs.rows[0].Text(2)};
    return Status::Ok();
  }));
  return out;
}

Result<json> WalletService::VerifyIn(storage::Session& s, const std::string& id) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kDocColumns + " FROM wallet_documents WHERE id = ?",
                                       {id}));
  if (rs.empty()) return json{{"status", "unknown"}, {"reason", "no document with this id was issued here"}};
  return VerifyRow(s, rs.rows[0]);
}

Result<json> WalletService::VerifyRow(storage::Session& s, const storage::Row& r) const {
  const std::string id = r.Text(kId);
  json out{{"document_id", id}, {"type", r.Text(kType)}, {"title", r.Text(kTitle)}, {"number", r.Text(kNumber)},
           {"issuer_agency", r.Text(kIssuer)}, {"issued_on", r.Text(kIssuedOn)}, {"key_id", r.Text(kKeyId)}};
  auto verdict = [&](const char* status, std::string reason) {
    out["status"] = status;
    out["reason"] = std::move(reason);
    return out;
  };
  if (r.Text(kState) == "unverified") return verdict("unverified", "a scan added by its holder; no agency has certified it");
  TL_ASSIGN_OR_RETURN(auto keys, s.Query("SELECT k.agency_code, k.public_key, k.valid_from, k.valid_until, "
                                         "k.root_signature, k.status, p.public_key FROM signing_keys k "
                                         "JOIN platform_keys p ON p.name = 'root' WHERE k.key_id = ?",
                                         {r.Text(kKeyId)}));
  if (keys.empty()) return verdict("tampered", "the signing key it names does not exist");
  const auto& k = keys.rows[0];
  signing::KeyCertificate cert{r.Text(kKeyId), k.Text(0), k.Text(1), k.Int(2), k.Int(3), k.Text(4)};
  std::string cert_key = signing::CertificateText(cert) + '\n' + cert.root_signature + '\n' + k.Text(6);
  bool cert_ok;
  {
    std::lock_guard lock(certificates_mu_);
    cert_ok = valid_certificates_.count(cert_key) > 0;
  }
  if (!cert_ok) {
    if (!signing::VerifyCertificate(cert, k.Text(6))) return verdict("tampered", "the signing key's certificate is invalid");
    std::lock_guard lock(certificates_mu_);
    if (valid_certificates_.size() < 100000) valid_certificates_.insert(std::move(cert_key));
  }
  if (k.Text(0) != r.Text(kIssuer)) return verdict("tampered", "the key belongs to another agency");
  TL_ASSIGN_OR_RETURN(auto digest, DigestOf(r));
  if (!signing::Verify(digest, r.Text(kSignature), k.Text(1))) {
    return verdict("tampered", "the document's content does not match its signature");
  }
  if (!r.IsNull(kRevokedAt)) return verdict("revoked", "the issuer revoked this document");
  if (k.Text(5) == "revoked") return verdict("revoked", "the issuer's signing key was revoked");
  return verdict("valid", "signed by " + r.Text(kIssuer) + " with key " + r.Text(kKeyId));
}

Result<DocumentRecord> WalletService::RecordOf(storage::Session& s, const storage::Row& r) const {
  DocumentRecord d{r.Text(kId),
                   r.Text(kHolder),
                   r.Text(kType),
                   r.Text(kTitle),
                   r.Text(kNumber),
                   r.Text(kIssuer),
                   r.Text(kIssuedOn),
                   r.Text(kValidUntil),
                   r.Text(kState),
                   !r.Text(kFileSha).empty(),
                   "",
                   ""};
  TL_ASSIGN_OR_RETURN(auto verdict, VerifyRow(s, r));
  d.status = verdict.value("status", "unknown");
  d.reason = verdict.value("reason", "");
  return d;
}

Result<std::vector<DocumentRecord>> WalletService::SignedDocumentsIn(storage::Session& s,
                                                                     const std::string& holder) const {
  std::vector<DocumentRecord> out;
  if (holder.empty()) return out;
  TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kDocColumns +
                                           " FROM wallet_documents WHERE holder = ? AND state <> 'unverified' "
                                           "ORDER BY created_at DESC LIMIT 500",
                                       {holder}));
  for (const auto& r : rs.rows) {
    TL_ASSIGN_OR_RETURN(auto d, RecordOf(s, r));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::optional<DocumentRecord>> WalletService::DocumentIn(storage::Session& s, const std::string& id) const {
  TL_ASSIGN_OR_RETURN(auto rs,
                      s.Query(std::string("SELECT ") + kDocColumns + " FROM wallet_documents WHERE id = ?", {id}));
  if (rs.empty()) return std::optional<DocumentRecord>();
  TL_ASSIGN_OR_RETURN(auto d, RecordOf(s, rs.rows[0]));
  return std::optional<DocumentRecord>(std::move(d));
}

Result<std::optional<std::pair<std::string, std::string>>> WalletService::FileIn(storage::Session& s,
                                                                                 const std::string& id) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT f.content_type, f.data FROM wallet_documents d "
                                       "JOIN wallet_files f ON f.sha256 = d.file_sha256 WHERE d.id = ?",
                                       {id}));
  if (rs.empty()) return std::optional<std::pair<std::string, std::string>>();
  return std::optional<std::pair<std::string, std::string>>(std::make_pair(rs.rows[0].Text(0), rs.rows[0].Text(1)));
}

Result<std::pair<std::string, std::string>> WalletService::SignAsPlatform(storage::Session& s,
                                                                         std::string_view message) const {
  TL_ASSIGN_OR_RETURN(auto key, ActiveKey(s, kPlatformAgency));
  TL_ASSIGN_OR_RETURN(auto signature, signing::Sign(message, key.private_key));
  return std::make_pair(key.key_id, std::move(signature));
}

Result<bool> WalletService::VerifyPlatformSignature(storage::Session& s, const std::string& key_id,
                                                    std::string_view message, std::string_view signature) const {
  TL_ASSIGN_OR_RETURN(auto keys, s.Query("SELECT k.agency_code, k.public_key, k.valid_from, k.valid_until, "
                                         "k.root_signature, p.public_key FROM signing_keys k "
                                         "JOIN platform_keys p ON p.name = 'root' WHERE k.key_id = ?",
                                         {key_id}));
  if (keys.empty() || keys.rows[0].Text(0) != kPlatformAgency) return false;
  const auto& k = keys.rows[0];
  signing::KeyCertificate cert{key_id, k.Text(0), k.Text(1), k.Int(2), k.Int(3), k.Text(4)};
  return signing::VerifyCertificate(cert, k.Text(5)) && signing::Verify(message, signature, k.Text(1));
}

Result<json> WalletService::VerifyId(const std::string& id) const {
  json out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(out, VerifyIn(s, id));
    return Status::Ok();
  }));
  return out;
}

Result<json> WalletService::VerifyFile(const std::string& bytes) const {
  if (bytes.empty()) return InvalidArgument("the file is empty", "body");
  std::string sha = crypto::Sha256Hex(bytes);
  json out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id FROM wallet_documents WHERE file_sha256 = ? AND state <> 'unverified' "
                                         "ORDER BY created_at LIMIT 1",
                                         {sha}));
    if (!rs.empty()) {
      TL_ASSIGN_OR_RETURN(out, VerifyIn(s, rs.rows[0].Text(0)));
      return Status::Ok();
    }
    TL_ASSIGN_OR_RETURN(auto rendition, VerifyRendition(s, sha));
    if (rendition) {
      out = std::move(*rendition);
      return Status::Ok();
    }
    // A file we issued carries its document id; if that document exists, this copy was changed.
    size_t at = bytes.find(kPdfMarker);
    if (at != std::string::npos) {
      size_t start = at + sizeof(kPdfMarker) - 1;
      while (start < bytes.size() && bytes[start] == ' ') ++start;
      size_t end = start;
      while (end < bytes.size() && end - start < 64 &&
             (std::isalnum(static_cast<unsigned char>(bytes[end])) || bytes[end] == '-' || bytes[end] == '_')) {
        ++end;
      }
      std::string id = bytes.substr(start, end - start);
      TL_ASSIGN_OR_RETURN(auto doc, s.Query("SELECT id FROM wallet_documents WHERE id = ?", {id}));
      if (!doc.empty()) {
        out = json{{"status", "tampered"}, {"document_id", id},
                   {"reason", "this file is not the one that was issued: its content was changed"}};
        return Status::Ok();
      }
    }
    out = json{{"status", "unknown"}, {"reason", "no document issued here has this file"}};
    return Status::Ok();
  }));
  return out;
}

namespace {

// What the issuer signs for a document's PDF: the file, the document and the document's own signature.
Result<std::string> RenditionDigest(const std::string& document_id, const std::string& sha,
                                    const std::string& document_signature, const std::string& key_id) {
  return signing::DocumentDigest({{"rendition_of", document_id},
                                  {"file_sha256", sha},
                                  {"document_signature", document_signature},
                                  {"key_id", key_id}});
}

constexpr char kPdfType[] = "application/pdf";

}  // namespace

Result<std::optional<json>> WalletService::VerifyRendition(storage::Session& s, const std::string& sha) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT r.document_id, r.key_id, r.signature, d.signature, d.issuer_agency, "
                                       "k.agency_code, k.public_key FROM wallet_renditions r "
                                       "JOIN wallet_documents d ON d.id = r.document_id "
                                       "LEFT JOIN signing_keys k ON k.key_id = r.key_id WHERE r.sha256 = ? "
                                       "ORDER BY r.created_at LIMIT 1",
                                       {sha}));
  if (rs.empty()) return std::optional<json>();
  const auto& r = rs.rows[0];
  const std::string id = r.Text(0);
  auto tampered = [&](const char* reason) {
    return std::optional<json>(json{{"status", "tampered"}, {"document_id", id}, {"reason", reason}});
  };
  if (r.IsNull(6) || r.Text(5) != r.Text(4)) return tampered("the PDF's signing key is not its issuer's");
  TL_ASSIGN_OR_RETURN(auto digest, RenditionDigest(id, sha, r.Text(3), r.Text(1)));
  if (!signing::Verify(digest, r.Text(2), r.Text(6))) return tampered("the PDF does not match its signature");
  // The PDF is genuine: the verdict is the document's (revoked, tampered rows, keys and certificates).
  TL_ASSIGN_OR_RETURN(auto verdict, VerifyIn(s, id));
  verdict["file"] = "pdf";
  return std::optional<json>(std::move(verdict));
}

Result<std::pair<std::string, std::string>> WalletService::Pdf(const std::string& id, const PdfRenderer& render) const {
  std::optional<DocumentRecord> doc;
  std::optional<std::string> stored;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT f.data FROM wallet_renditions r JOIN wallet_files f ON f.sha256 = r.sha256 "
                                         "WHERE r.document_id = ?",
                                         {id}));
    if (!rs.empty()) {
      stored = rs.rows[0].Text(0);
      return Status::Ok();
    }
    TL_ASSIGN_OR_RETURN(doc, DocumentIn(s, id));
    return Status::Ok();
  }));
  if (stored) return std::make_pair(std::string(kPdfType), std::move(*stored));
  if (!doc) return NotFound("no such document");
  if (doc->state == "unverified") {
    return FailedPrecondition("a scan its holder added has no PDF issued by the platform until an official certifies it");
  }
  // Drawn outside any transaction (it takes milliseconds of text layout), then stored and signed.
  TL_ASSIGN_OR_RETURN(std::string pdf, render(*doc));
  const std::string sha = crypto::Sha256Hex(pdf);
  std::string served;
  auto store = [&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto existing, s.Query("SELECT f.data FROM wallet_renditions r JOIN wallet_files f "
                                               "ON f.sha256 = r.sha256 WHERE r.document_id = ?",
                                               {id}));
    if (!existing.empty()) {  // another request or process stored one first: serve that one
      served = existing.rows[0].Text(0);
      return Status::Ok();
    }
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT signature, issuer_agency FROM wallet_documents WHERE id = ?", {id}));
    if (rs.empty()) return NotFound("no such document");
    TL_ASSIGN_OR_RETURN(auto key, ActiveKey(s, rs.rows[0].Text(1)));
    TL_ASSIGN_OR_RETURN(auto digest, RenditionDigest(id, sha, rs.rows[0].Text(0), key.key_id));
    TL_ASSIGN_OR_RETURN(auto signature, signing::Sign(digest, key.private_key));
    TL_ASSIGN_OR_RETURN(auto f, s.Exec("INSERT INTO wallet_files (sha256, content_type, data) VALUES (?, ?, ?) "
                                       "ON CONFLICT (sha256) DO NOTHING",
                                       {sha, std::string(kPdfType), storage::Blob{pdf}}));
    (void)f;
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO wallet_renditions (document_id, sha256, key_id, signature, created_at) "
                                       "VALUES (?, ?, ?, ?, ?)",
                                       {id, sha, key.key_id, signature, clock_->NowMillis()}));
    (void)n;
    served = pdf;
    return Status::Ok();
  };
  Status stored_now = db_->Write(store);
  // Another process inserted its rendition between our check and our insert (PostgreSQL): serve that one.
  if (stored_now.code() == StatusCode::kAlreadyExists) stored_now = db_->Write(store);
  TL_RETURN_IF_ERROR(stored_now);
  return std::make_pair(std::string(kPdfType), std::move(served));
}

Result<std::pair<std::string, std::string>> WalletService::PdfFor(const http::Principal& who, const std::string& id,
                                                                  const PdfRenderer& render) const {
  std::string holder;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT holder FROM wallet_documents WHERE id = ?", {id}));
    if (!rs.empty()) holder = rs.rows[0].Text(0);
    return Status::Ok();
  }));
  // Someone else's document and a missing one answer alike.
  if (!HoldsIt(who, holder)) return NotFound("no such document in your wallet");
  return Pdf(id, render);
}

Result<std::pair<std::string, std::string>> WalletService::PdfOfSource(const std::string& source,
                                                                       const PdfRenderer& render) const {
  std::string id;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id FROM wallet_documents WHERE source = ? AND state <> 'unverified' "
                                         "ORDER BY created_at DESC LIMIT 1",
                                         {source}));
    if (!rs.empty()) id = rs.rows[0].Text(0);
    return Status::Ok();
  }));
  if (id.empty()) return NotFound("no signed document was issued from " + source);
  return Pdf(id, render);
}

Result<json> WalletService::Share(const http::Principal& who, const std::string& id, int hours,
                                  const audit::Entry& ctx) const {
  if (hours < 1 || hours > 720) return InvalidArgument("must be 1-720 hours", "hours");
  std::string token = crypto::RandomToken(24);
  int64_t expires = clock_->NowMillis() + int64_t{hours} * 3600 * 1000;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT holder FROM wallet_documents WHERE id = ?", {id}));
    if (rs.empty() || !HoldsIt(who, rs.rows[0].Text(0))) return NotFound("no such document in your wallet");
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO wallet_shares (token_hash, document_id, created_by, expires_at, "
                                       "created_at) VALUES (?, ?, ?, ?, ?)",
                                       {crypto::Sha256Hex(token), id, who.username, expires, clock_->NowMillis()}));
    (void)n;
    audit::Entry e = ctx;
    e.action = "wallet.share";
    e.resource = "document:" + id;
    e.detail = json{{"hours", hours}}.dump();
    return audit_->Append(s, e);
  }));
  return json{{"token", token}, {"url", "/api/v1/shared/" + token}, {"expires_at", FormatRfc3339(expires)}};
}

Result<std::string> WalletService::DocumentIdOfShare(storage::Session& s, const std::string& token) const {
  if (token.empty() || token.size() > 128) return NotFound("no such share link");
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT document_id, expires_at FROM wallet_shares WHERE token_hash = ?",
                                       {crypto::Sha256Hex(token)}));
  if (rs.empty()) return NotFound("no such share link");
  if (rs.rows[0].Int(1) <= clock_->NowMillis()) return Status(StatusCode::kNotFound, "this share link has expired");
  return rs.rows[0].Text(0);
}

Result<json> WalletService::Shared(const std::string& token) const {
  json out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto id, DocumentIdOfShare(s, token));
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kDocColumns + " FROM wallet_documents WHERE id = ?",
                                         {id}));
    if (rs.empty()) return NotFound("no such share link");
    out = Summary(rs.rows[0]);
    TL_ASSIGN_OR_RETURN(out["verification"], VerifyIn(s, id));
    return Status::Ok();
  }));
  return out;
}

Result<std::pair<std::string, std::string>> WalletService::SharedFile(const std::string& token) const {
  std::pair<std::string, std::string> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto id, DocumentIdOfShare(s, token));
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT f.content_type, f.data FROM wallet_documents d "
                                         "JOIN wallet_files f ON f.sha256 = d.file_sha256 WHERE d.id = ?",
                                         {id}));
    if (rs.empty()) return NotFound("this document has no file");
    out = {rs.rows[0].Text(0), rs.rows[0].Text(1)};
    return Status::Ok();
  }));
  return out;
}

Result<json> WalletService::Keys() const {
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT key_id, agency_code, public_key, valid_from, status, revoked_at, "
                                         "revocation_reason FROM signing_keys ORDER BY agency_code, valid_from"));
    for (const auto& r : rs.rows) {
      items.push_back(json{{"key_id", r.Text(0)}, {"agency_code", r.Text(1)}, {"public_key", r.Text(2)},
                           {"valid_from", FormatRfc3339(r.Int(3))}, {"status", r.Text(4)},
                           {"revoked_at", r.IsNull(5) ? json(nullptr) : json(FormatRfc3339(r.Int(5)))},
                           {"revocation_reason", r.IsNull(6) ? json(nullptr) : json(r.Text(6))}});
    }
    TL_ASSIGN_OR_RETURN(auto root, s.Query("SELECT public_key FROM platform_keys WHERE name = 'root'"));
    if (!root.empty()) items = json{{"root_public_key", root.rows[0].Text(0)}, {"items", std::move(items)}};
    else items = json{{"root_public_key", nullptr}, {"items", std::move(items)}};
    return Status::Ok();
  }));
  return items;
}

void WalletService::ForgetPresignKeys() const {
  std::lock_guard lock(presign_keys_mu_);
  presign_keys_.clear();
}

Result<json> WalletService::RotateKey(const std::string& agency, const audit::Entry& ctx) const {
  if (agency.empty() || agency.size() > 40) return InvalidArgument("is not an agency code", "agency");
  std::string key_id;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE signing_keys SET status = 'retired' WHERE agency_code = ? AND status = 'active'",
                                       {agency}));
    (void)n;
    TL_ASSIGN_OR_RETURN(auto key, ActiveKey(s, agency));
    key_id = key.key_id;
    audit::Entry e = ctx;
    e.action = "signing_key.rotate";
    e.resource = "signing_key:" + key_id;
    return audit_->Append(s, e);
  }));
  ForgetPresignKeys();
  return json{{"key_id", key_id}, {"agency_code", agency}, {"status", "active"}};
}

Result<json> WalletService::RevokeKey(const std::string& key_id, const std::string& reason,
                                      const audit::Entry& ctx) const {
  if (text::CodePointCount(reason) < 5 || reason.size() > 500) return InvalidArgument("give a reason (5-500 characters)", "reason");
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE signing_keys SET status = 'revoked', revoked_at = ?, revocation_reason = ? "
                                       "WHERE key_id = ? AND status <> 'revoked'",
                                       {clock_->NowMillis(), reason, key_id}));
    if (n != 1) return NotFound("no such key, or it is already revoked");
    audit::Entry e = ctx;
    e.action = "signing_key.revoke";
    e.resource = "signing_key:" + key_id;
    e.detail = json{{"reason", reason}}.dump();
    return audit_->Append(s, e);
  }));
  ForgetPresignKeys();
  return json{{"key_id", key_id}, {"status", "revoked"}};
}

}  // namespace tl::wallet

namespace tl::wallet {
namespace {

using nlohmann::json;

http::Response FileResponse(const std::pair<std::string, std::string>& file) {
  http::Response resp;
  resp.status = 200;
  resp.content_type = file.first;
  resp.body = file.second;
  resp.headers.emplace_back("Content-Disposition", "attachment");
  return resp;
}

}  // namespace

std::vector<http::Route> Routes(WalletService* wallet) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  const char* kList = R"({"type":"object","properties":{"items":{"type":"array"}}})";
  const char* kVerdict =
      R"({"type":"object","properties":{"status":{"type":"string","enum":["valid","tampered","revoked","unverified","unknown"]},)"
      R"("reason":{"type":"string"},"document_id":{"type":"string"},"issuer_agency":{"type":"string"},"issued_on":{"type":"string"}}})";
  r.push_back({Method::kGet, "/api/v1/me/wallet", Access::Roles({"citizen"}).PersonalData(),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, wallet->ListFor(*req.principal));
                 return http::Response::Json(200, j.dump());
               },
               {"Your document wallet: results issued to you (signed) and scans you added", "wallet", {}, "", kList}});
  http::Route scan{Method::kPost, "/api/v1/me/wallet", Access::Roles({"citizen"}),
                   [wallet](http::Request& req) -> Result<http::Response> {
                     std::string type = MediaType(req.Header("content-type").value_or(""));
                     TL_RETURN_IF_ERROR(CheckDocument(type, req.body, "scans"));
                     NewDocument d;
                     d.title = text::CleanText(req.Query("title").value_or(""));
                     d.type = text::CleanText(req.Query("type").value_or("scan"));
                     d.number = text::CleanText(req.Query("number").value_or(""));
                     d.issued_on = req.Query("issued_on").value_or("");
                     d.content_type = type;
                     d.file = req.body;
                     TL_ASSIGN_OR_RETURN(auto id, wallet->AddScan(*req.principal, std::move(d), audit::EntryFor(req, "", "")));
                     return http::Response::Json(201, json{{"id", id}, {"state", "unverified"}}.dump());
                   },
                   {"Add a scan of a paper document (raw PDF/PNG/JPEG body); it stays unverified until certified",
                    "wallet",
                    {{"title", "query", "What the document is", true}, {"type", "query", "Document type"},
                     {"number", "query", "Its number"}, {"issued_on", "query", "YYYY-MM-DD"}},
                    "",
                    R"({"type":"object","properties":{"id":{"type":"string"},"state":{"type":"string"}}})",
                    201}};
  scan.max_body = 20 << 20;
  r.push_back(std::move(scan));
  r.push_back({Method::kGet, "/api/v1/me/wallet/{id}/file", Access::Roles({"citizen"}),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto f, wallet->FileFor(*req.principal, req.Param("id")));
                 return FileResponse(f);
               },
               {"Download a document's file from your wallet", "wallet", {{"id", "path", "Document id"}}, "", ""}});
  r.push_back({Method::kPost, "/api/v1/me/wallet/{id}/share", Access::Roles({"citizen"}),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"hours"}));
                 TL_ASSIGN_OR_RETURN(auto hours, body.OptionalInt("hours"));
                 TL_ASSIGN_OR_RETURN(auto j, wallet->Share(*req.principal, req.Param("id"), static_cast<int>(hours.value_or(24)),
                                                           audit::EntryFor(req, "", "")));
                 return http::Response::Json(201, j.dump());
               },
               {"Share one document through a link that expires (default 24 hours, at most 720)", "wallet",
                {{"id", "path", "Document id"}}, R"({"type":"object","properties":{"hours":{"type":"integer"}}})",
                R"({"type":"object","properties":{"token":{"type":"string"},"url":{"type":"string"},"expires_at":{"type":"string"}}})",
                201}});
  r.push_back({Method::kGet, "/api/v1/shared/{token}", Access::Public(),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, wallet->Shared(req.Param("token")));
                 return http::Response::Json(200, j.dump());
               },
               {"A shared document: its description and verification, nothing else of the holder's", "wallet",
                {{"token", "path", "Share token"}}, "", R"({"type":"object"})"}});
  r.push_back({Method::kGet, "/api/v1/shared/{token}/file", Access::Public(),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto f, wallet->SharedFile(req.Param("token")));
                 return FileResponse(f);
               },
               {"A shared document's file", "wallet", {{"token", "path", "Share token"}}, "", ""}});
  http::Route verify{Method::kPost, "/api/v1/documents/verify", Access::Public(),
                     [wallet](http::Request& req) -> Result<http::Response> {
                       std::string type = MediaType(req.Header("content-type").value_or(""));
                       if (type == "application/json") {
                         TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"document_id"}));
                         TL_ASSIGN_OR_RETURN(auto id, body.String("document_id", 64));
                         TL_ASSIGN_OR_RETURN(auto j, wallet->VerifyId(id));
                         return http::Response::Json(200, j.dump());
                       }
                       if (!IsDocumentType(type)) {
                         return Status(StatusCode::kUnsupportedMediaType,
                                       "send {\"document_id\"} as JSON, or the file itself (PDF, PNG, JPEG)", "Content-Type");
                       }
                       TL_ASSIGN_OR_RETURN(auto j, wallet->VerifyFile(req.body));
                       return http::Response::Json(200, j.dump());
                     },
                     {"Verify a document, without logging in: by id (JSON) or by uploading its file", "wallet", {},
                      R"({"type":"object","properties":{"document_id":{"type":"string"}}})", kVerdict}};
  verify.max_body = 20 << 20;
  r.push_back(std::move(verify));
  r.push_back({Method::kPost, "/api/v1/wallet/documents/{id}/certify", Access::Roles({"desk_officer", "specialist", "leader"}),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, wallet->Certify(*req.principal, req.Param("id"), audit::EntryFor(req, "", "")));
                 return http::Response::Json(200, j.dump());
               },
               {"Certify a citizen's scan as a true copy (chứng thực bản sao điện tử): your agency signs it", "wallet",
                {{"id", "path", "Document id"}}, "", kVerdict}});
  r.push_back({Method::kGet, "/api/v1/signing-keys", Access::Roles({"city_admin"}),
               [wallet](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, wallet->Keys());
                 return http::Response::Json(200, j.dump());
               },
               {"The city's root public key and every agency signing key with its state", "wallet", {}, "", R"({"type":"object"})"}});
  r.push_back({Method::kPost, "/api/v1/signing-keys/rotate", Access::Roles({"city_admin"}),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"agency_code"}));
                 TL_ASSIGN_OR_RETURN(auto agency, body.String("agency_code", 40));
                 TL_ASSIGN_OR_RETURN(auto j, wallet->RotateKey(agency, audit::EntryFor(req, "", "")));
                 return http::Response::Json(200, j.dump());
               },
               {"Give an agency a new signing key; the old one retires but still verifies what it signed", "wallet", {},
                R"({"type":"object","required":["agency_code"],"properties":{"agency_code":{"type":"string"}}})",
                R"({"type":"object"})"}});
  r.push_back({Method::kPost, "/api/v1/signing-keys/{key_id}/revoke", Access::Roles({"city_admin"}),
               [wallet](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"reason"}));
                 TL_ASSIGN_OR_RETURN(auto reason, body.String("reason", 500));
                 TL_ASSIGN_OR_RETURN(auto j, wallet->RevokeKey(req.Param("key_id"), reason, audit::EntryFor(req, "", "")));
                 return http::Response::Json(200, j.dump());
               },
               {"Revoke a signing key (compromised): every document it signed then verifies as revoked", "wallet",
                {{"key_id", "path", "Key id"}},
                R"({"type":"object","required":["reason"],"properties":{"reason":{"type":"string"}}})",
                R"({"type":"object"})"}});
  return r;
}

}  // namespace tl::wallet
