// The data access log (nhật ký truy cập dữ liệu): every read of a person's data by an agency —
// consumer agency, official, person, fields, purpose, legal basis, dossier reference, request id,
// time — in an append-only, hash-chained table that the person can read ("who looked at my data").
//
// Entry n stores hash_n = SHA-256(hash_{n-1} | n | fields...); a one-row head holds the last
// sequence number and hash (it serialises appenders on both backends). Record() runs inside the
// caller's transaction, so a read and its log entry commit together: no unlogged read is ever
// answered. Verify() recomputes the chain and reports the first edited or deleted entry.
// (Signing batches of entries with the platform's key is a later step.)
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::exchange {

struct AccessRecord {
  int64_t personal_id = 0;       // whose data was read
  std::string consumer_agency;   // the reading agency's code ("" for the platform itself)
  std::string official;          // username of the official or API key that read
  std::string service;           // "registry.person", "registry.household", ...
  std::string fields;            // comma-separated field names returned
  std::string purpose;           // stated purpose (mục đích)
  std::string legal_basis;       // e.g. "Luật Căn cước 2023, Điều 10" (may be empty)
  std::string dossier_code;      // the dossier the read serves (may be empty)
  std::string request_id;
};

struct StoredAccess : AccessRecord {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string hash;
};

using LogVerifyReport = audit::VerifyReport;  // the same chain check as the audit log's

class AccessLog {
 public:
  AccessLog(storage::Database* db, const Clock* clock, const audit::AuditLog* audit = nullptr)
      : db_(db), clock_(clock), audit_(audit) {}
  static std::vector<storage::Migration> Migrations();

  // Appends inside the caller's transaction.
  Status Record(storage::Session& s, const AccessRecord& r) const;
  // A person's entries, newest first; `before_seq` 0 for the newest page.
  Result<std::vector<StoredAccess>> ForPerson(int64_t personal_id, int64_t before_seq, int limit) const;
  Result<LogVerifyReport> Verify() const;

  // A person reports a read of their data they think unlawful; it lands in the city admins' queue.
  // Only the person whose data was read may report it, once.
  Result<int64_t> Report(int64_t personal_id, int64_t seq, const std::string& reason, const std::string& reporter) const;
  // The queue: open reports first, oldest first, then the resolved ones.
  Result<nlohmann::json> Reports() const;
  // A city admin closes a report with what was found and done (audited when an audit log is set).
  Status Resolve(int64_t report_id, const std::string& resolution, const audit::Entry& ctx) const;

 private:
  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
};

// The citizen's report route and the admins' queue routes.
std::vector<http::Route> ReportRoutes(AccessLog* log);

}  // namespace tl::exchange
