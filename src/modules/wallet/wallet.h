// The document wallet (kho dữ liệu điện tử của tổ chức, cá nhân): every person's and organisation's
// documents — results issued by agencies, signed; scans they added, unverified until an official
// certifies the copy (chứng thực bản sao điện tử) — with verification anyone can run and share links
// that reveal one document until they expire.
//
// Signatures (core/signing.h): the city's root key certifies one active key per issuing agency;
// each issued or certified document is signed by its agency's key over its canonical fields, which
// include the SHA-256 of its file when it has one. Keys are rotated (the old one retires but still
// verifies what it signed) and revoked (what it signed then reports "revoked"). Private keys are
// stored sealed with the platform's master key and are opened only to sign.
//
// Verify() answers valid, tampered (the stored fields or the file no longer match the signature),
// revoked (the document or its key), unverified (a scan nobody certified) or unknown.
//
// Thread-safety: safe to share; all state is in the database (the master key is immutable), except two
// mutex-guarded caches: the certificates already found valid (a pure function of their fields and the
// root key, so it is never stale; it halves the cost of verifying a document), and each agency's
// active key as Presign last opened it, for up to kPresignKeyTtl (dropped at once when this process
// rotates or revokes a key). A signature made ahead with a key rotated meanwhile elsewhere is only
// wasted: Issue signs again with the key active in its transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::wallet {

struct NewDocument {
  std::string id;            // empty: a fresh random id (set it to print the id into the file first)
  std::string holder;        // personal id (12 digits) or tax code
  std::string type;          // e.g. "birth_certificate", or the procedure code of the result
  std::string number;        // the issuer's number, e.g. the dossier code
  std::string title;         // "Giấy khai sinh"
  std::string issuer_agency; // agency code
  std::string issued_on;     // YYYY-MM-DD
  std::string valid_until;   // YYYY-MM-DD or empty
  std::string source;        // "dossier:UBND00004-261118-0001", "upload"
  std::string content_type;  // of `file`, when there is one
  std::string file;          // raw bytes; may be empty
};

// A document with its verification at the time of reading, for modules that read the wallet inside
// their own transaction (the one-stop shop's once-only references, through src/app).
struct DocumentRecord {
  std::string id, holder, type, title, number, issuer_agency, issued_on, valid_until;
  std::string state;  // issued | certified | unverified
  bool has_file = false;
  std::string status, reason;  // Verify()'s verdict: valid, tampered, revoked, unverified, unknown
};

class WalletService {
 public:
  // `master_key`: 32 bytes base64url (signing::GenerateMasterKey); it seals the private keys.
  WalletService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit, std::string master_key)
      : db_(db), clock_(clock), audit_(audit), master_key_(std::move(master_key)) {}
  static std::vector<storage::Migration> Migrations();

  // Signs and stores an issued document in the caller's transaction (creating the root and the
  // agency's key on first use). Returns the document id.
  // A signature made ahead of the transaction that issues the document, off the single writer: the
  // document's id, the agency key it was signed with, the digest and the signature.
  struct Presigned {
    std::string id, key_id, digest, signature;
  };
  // Signs `d` (a fresh id unless it has one) with its agency's active key as read now. An error (no
  // key yet, say) only means nothing was signed ahead.
  Result<Presigned> Presign(const NewDocument& d) const;
  // With `presigned`, its id is the document's, and its signature is used when the document Issue
  // writes has exactly its digest (same fields, same active key); otherwise Issue signs.
  Result<std::string> Issue(storage::Session& s, const NewDocument& d, const std::string& actor,
                            const Presigned* presigned = nullptr) const;
  // A holder's own scan: stored unsigned ("unverified").
  Result<std::string> AddScan(const http::Principal& who, NewDocument d, const audit::Entry& ctx) const;
  // An official certifies a scan as a true copy: the agency signs it.
  Result<nlohmann::json> Certify(const http::Principal& who, const std::string& id, const audit::Entry& ctx) const;

  Result<nlohmann::json> ListFor(const http::Principal& who) const;
  // The file of a document the caller holds (content type, bytes).
  Result<std::pair<std::string, std::string>> FileFor(const http::Principal& who, const std::string& id) const;

  Result<nlohmann::json> VerifyId(const std::string& id) const;
  // By the file's SHA-256: a document's own file, or the signed PDF of a document (see Pdf); a file
  // carrying "ThangLong-Document-Id: <id>" of a document issued here but matching neither is tampered.
  Result<nlohmann::json> VerifyFile(const std::string& bytes) const;

  // The printable PDF of a signed document (an issued result or a certified copy), made once by
  // `render` (documents/ draws it: the document's facts, its id in the file and a QR code to the
  // public verification page) and then kept: the PDF is stored with the issuing agency's signature over
  // its SHA-256, the document id and the document's own signature, so POST /documents/verify with the
  // file answers like the document, and any changed byte makes the file unknown to that index (then
  // its id marker reports it tampered). The first download renders outside any transaction; two
  // processes rendering at once keep the first stored PDF and both serve it. Returns (content type,
  // bytes). A scan nobody certified has no PDF (FailedPrecondition).
  using PdfRenderer = std::function<Result<std::string>(const DocumentRecord& d)>;
  // The caller's own document (NotFound for someone else's, as for FileFor).
  Result<std::pair<std::string, std::string>> PdfFor(const http::Principal& who, const std::string& id,
                                                     const PdfRenderer& render) const;
  // The signed document issued with `source` ("dossier:<code>"): for officials, who were checked by
  // the caller; NotFound when nothing was issued from it.
  Result<std::pair<std::string, std::string>> PdfOfSource(const std::string& source, const PdfRenderer& render) const;

  // In the caller's transaction, for other modules: a holder's signed documents (issued results and
  // certified copies; not unverified scans), newest first, each verified; one document by id (empty
  // when unknown); a document's file (empty when it has none). No access check: the caller decides
  // whom it shows them to.
  Result<std::vector<DocumentRecord>> SignedDocumentsIn(storage::Session& s, const std::string& holder) const;
  Result<std::optional<DocumentRecord>> DocumentIn(storage::Session& s, const std::string& id) const;
  Result<std::optional<std::pair<std::string, std::string>>> FileIn(storage::Session& s, const std::string& id) const;

  // Share links: a random token (only its hash is stored) valid for `hours` (1..720).
  Result<nlohmann::json> Share(const http::Principal& who, const std::string& id, int hours,
                               const audit::Entry& ctx) const;
  Result<nlohmann::json> Shared(const std::string& token) const;
  Result<std::pair<std::string, std::string>> SharedFile(const std::string& token) const;

  // The platform's own signature (agency code kPlatformAgency, its key certified by the root like an
  // agency's), in the caller's transaction: (key id, signature). For seals of the data access log.
  static constexpr char kPlatformAgency[] = "THANGLONG";
  Result<std::pair<std::string, std::string>> SignAsPlatform(storage::Session& s, std::string_view message) const;
  // True when `signature` over `message` is by the platform key `key_id` and its certificate is valid
  // (a key revoked later still verifies what it signed before).
  Result<bool> VerifyPlatformSignature(storage::Session& s, const std::string& key_id, std::string_view message,
                                       std::string_view signature) const;

  // Key management (city admins).
  Result<nlohmann::json> Keys() const;
  Result<nlohmann::json> RotateKey(const std::string& agency, const audit::Entry& ctx) const;
  Result<nlohmann::json> RevokeKey(const std::string& key_id, const std::string& reason, const audit::Entry& ctx) const;

 private:
  struct AgencyKey {
    std::string key_id;
    std::string private_key;
  };
  // The agency's active key, made (and certified by the root key) when it has none. Without
  // `open_private`, an existing key comes back with its id only (private_key empty).
  Result<AgencyKey> ActiveKey(storage::Session& s, const std::string& agency, bool open_private = true) const;
  Result<std::string> RootPrivateKey(storage::Session& s) const;
  Result<nlohmann::json> VerifyIn(storage::Session& s, const std::string& id) const;
  Result<nlohmann::json> VerifyRow(storage::Session& s, const storage::Row& r) const;
  Result<DocumentRecord> RecordOf(storage::Session& s, const storage::Row& r) const;
  Result<std::string> DocumentIdOfShare(storage::Session& s, const std::string& token) const;
  Result<std::pair<std::string, std::string>> Pdf(const std::string& id, const PdfRenderer& render) const;
  // The verdict on a stored PDF rendition found by its SHA-256 (nullopt: none has it).
  Result<std::optional<nlohmann::json>> VerifyRendition(storage::Session& s, const std::string& sha) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  std::string master_key_;
  mutable std::mutex certificates_mu_;
  mutable std::unordered_set<std::string> valid_certificates_;  // CertificateText + signature + root key
  // After this process rotated or revoked a key: Presign reads the active keys afresh.
  void ForgetPresignKeys() const;
  // Presign's keys (see the thread-safety note above): agency -> its active key, opened.
  struct PresignKey {
    std::string key_id;
    std::string private_key;
    std::chrono::steady_clock::time_point read_at;
  };
  static constexpr std::chrono::seconds kPresignKeyTtl{2};
  mutable std::mutex presign_keys_mu_;
  mutable std::unordered_map<std::string, PresignKey> presign_keys_;
};

std::vector<http::Route> Routes(WalletService* wallet);

}  // namespace tl::wallet
