// The data access log (nhật ký truy cập dữ liệu): every read of a person's (or an organisation's) data
// by an agency — consumer agency, official, person or tax code, fields, purpose, legal basis, dossier
// reference, request id, time — in an append-only, hash-chained table that its subject can read ("who
// looked at my data"): a citizen account the entries of its personal id, an organisation account
// those of its tax code (see Subject), and either may report a read it thinks unlawful. An
// organisation's entry hashes its tax code too; a person's hashes exactly as before organisations
// were logged, so older chains still verify.
//
// Entry n stores hash_n = SHA-256(hash_{n-1} | n | fields...); a one-row head holds the last
// sequence number and hash (it serialises appenders on both backends). Record() runs inside the
// caller's transaction, so a read and its log entry commit together: no unlogged read is ever
// answered. Verify() recomputes the chain and reports the first edited or deleted entry.
//
// Seals (niêm phong): the chain alone stops an edit only if the editor cannot recompute every later
// hash. So the platform signs the chain's head in batches (Seal(), run every second by
// StartSealer() in a server): a seal stores (up to seq, that entry's hash, time, key id, Ed25519
// signature) in data_access_seals. Rewriting sealed history consistently then also needs the
// platform's private key, which is sealed by the master key; deleting the tail shows as a seal
// beyond the last entry. Verify() checks every seal against the chain and its signature.
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::exchange {

struct AccessRecord {
  int64_t personal_id = 0;       // whose data was read (0 for an organisation's, see tax_code)
  std::string consumer_agency;   // the reading agency's code ("" for the platform itself)
  std::string official;          // username of the official or API key that read
  std::string service;           // "registry.person", "registry.household", ...
  std::string fields;            // comma-separated field names returned
  std::string purpose;           // stated purpose (mục đích)
  std::string legal_basis;       // e.g. "Luật Căn cước 2023, Điều 10" (may be empty)
  std::string dossier_code;      // the dossier the read serves (may be empty)
  std::string request_id;
  std::string tax_code;          // the organisation whose data was read, or empty for a person
};

// Whose data an entry is about: a person (personal_id, tax_code empty) or an organisation (tax_code,
// personal_id 0). An account's subject comes from SubjectOf.
struct Subject {
  int64_t personal_id = 0;
  std::string tax_code;
  bool IsOrganisation() const { return !tax_code.empty(); }
};
// The subject an account may see the log of: a citizen's personal id, an organisation account's tax
// code; nullopt for any other account or one without that number.
std::optional<Subject> SubjectOf(const http::Principal& who);

struct StoredAccess : AccessRecord {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string hash;
};

// The chain check (as the audit log's) plus the seals.
struct LogVerifyReport : audit::VerifyReport {
  int64_t seals = 0;        // seals checked
  int64_t sealed_upto = 0;  // the last sealed entry
};

// Signs and checks seals with the platform's key; the app provides it (the wallet holds the keys), so
// this module reaches into no other module's tables.
class SealSigner {
 public:
  virtual ~SealSigner() = default;
  // Signs `message` in the caller's transaction: (key id, signature).
  virtual Result<std::pair<std::string, std::string>> Sign(storage::Session& s, std::string_view message) const = 0;
  // True when `signature` over `message` is by the platform key `key_id` with a valid certificate.
  virtual Result<bool> Verify(storage::Session& s, const std::string& key_id, std::string_view message,
                              std::string_view signature) const = 0;
};

class AccessLog {
 public:
  AccessLog(storage::Database* db, const Clock* clock, const audit::AuditLog* audit = nullptr);
  static std::vector<storage::Migration> Migrations();

  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends inside the caller's transaction.
  Status Record(storage::Session& s, const AccessRecord& r) const;
  // Appends in a transaction of its own, batched with the entries other threads append meanwhile:
  // one thread of this log takes whatever is queued (up to 512 entries), moves the head once for all
  // of them and inserts them in one statement, and each `done` learns the outcome after the commit
  // (on that thread: keep it short). Made for PostgreSQL, where an entry per transaction serialises
  // every reader on the head row for a commit each (~650 look-ups/s); the embedded store's writer
  // batches on its own. Entries keep the order they were queued in; `at` is the time of the call.
  void RecordAsync(AccessRecord r, std::function<void(Status)> done) const;
  // A person's entries, newest first; `before_seq` 0 for the newest page.
  Result<std::vector<StoredAccess>> ForPerson(int64_t personal_id, int64_t before_seq, int limit) const;
  // An organisation's entries (by tax code), newest first.
  Result<std::vector<StoredAccess>> ForOrganisation(const std::string& tax_code, int64_t before_seq, int limit) const;
  // The subject's entries: ForOrganisation for an organisation, ForPerson for a person.
  Result<std::vector<StoredAccess>> ForSubject(const Subject& subject, int64_t before_seq, int limit) const;
  // Without a signer, seals are neither made nor checked (tools that only read the chain).
  void SetSealSigner(const SealSigner* signer) { signer_ = signer; }
  // Signs the chain's head if entries were added since the last seal; returns the sealed seq (0 when
  // there was nothing new). Safe from several processes at once: the seal of one seq is made once.
  Result<int64_t> Seal() const;
  // Seals every `interval` until StopSealer() or destruction; failures go to `on_error`.
  void StartSealer(std::chrono::milliseconds interval, std::function<void(const Status&)> on_error);
  void StopSealer() { sealer_.Stop(); }
  Result<LogVerifyReport> Verify() const;

  // A person or an organisation reports a read of its data it thinks unlawful; it lands in the city
  // admins' queue. Only the subject whose data was read may report it (another's entry answers
  // NotFound, as a missing one does), once (AlreadyExists naming seq).
  Result<int64_t> Report(const Subject& subject, int64_t seq, const std::string& reason,
                         const std::string& reporter) const;
  Result<int64_t> Report(int64_t personal_id, int64_t seq, const std::string& reason, const std::string& reporter) const {
    return Report(Subject{personal_id, ""}, seq, reason, reporter);
  }
  // The queue: open reports first, oldest first, then the resolved ones; each names whose data was
  // read (subject "person" or "organisation", with the tax code for an organisation).
  Result<nlohmann::json> Reports() const;
  // A city admin closes a report with what was found and done (audited when an audit log is set).
  Status Resolve(int64_t report_id, const std::string& resolution, const audit::Entry& ctx) const;

 private:
  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  const SealSigner* signer_ = nullptr;
  PeriodicTask sealer_;
  class Appender;  // RecordAsync's queue and thread, made on first use
  mutable std::mutex appender_mu_;
  mutable std::unique_ptr<Appender> appender_;
};

// The report route of citizens and organisations, and the admins' queue routes.
std::vector<http::Route> ReportRoutes(AccessLog* log);

}  // namespace tl::exchange
