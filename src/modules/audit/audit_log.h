// Audit log (nhật ký kiểm toán): every write and every read of personal data, append-only and
// hash-chained.
//
// Each entry records who (actor), what (action, resource, detail), when, from where (client IP) and
// the request id. Entry n stores hash_n = SHA-256(hash_{n-1} | n | fields...), and a one-row head
// table holds the last sequence number and hash. Verify() recomputes the chain: an edited entry, a
// deleted entry (a gap, or a missing tail) or a forged head is reported with the first bad sequence
// number. Append() runs inside the caller's write transaction, so an audited write and its entry
// commit or roll back together. On SQLite the entry is chained there and then, and inserted with the
// other entries of the writer's group commit just before it commits (storage::TransactionCache: not
// visible to the transaction's own statements before); on PostgreSQL it waits in audit_pending until
// ChainPending() chains it (see AuditLog below).
//
// Thread-safety: safe to share; all state is in the database (the chainer's thread only runs
// ChainPending, which is safe from any number of threads and processes).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "http/dispatcher.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::audit {

struct Entry {
  std::string actor;      // username, or "system" / "cli:<user>"
  std::string action;     // "user.create", "read", "auth.login", ...
  std::string resource;   // "/api/v1/users/desk" or "user:desk"
  std::string client_ip;
  std::string request_id;
  std::string detail;     // JSON object text, may be empty
};

struct StoredEntry : Entry {
  int64_t seq = 0;
  std::string at;
  std::string hash;
};

struct VerifyReport {
  int64_t entries = 0;
  bool intact = true;
  int64_t first_bad_seq = 0;
  std::string problem;
};

// A hash-chained, append-only table with a one-row head table (id 1, last_seq, last_hash): the audit
// log and the data access log. Appenders take the next number from the head inside their own
// transaction (SQLite's write lock, or PostgreSQL's lock on the head row, serialises them) and store
// the new head back.
namespace chain {
inline constexpr char kGenesis[] = "0000000000000000000000000000000000000000000000000000000000000000";
// The head row's initial content, for a migration creating `head_table`.
std::string CreateHeadSql(const std::string& head_table);
// The last entry's seq and hash: the head row, or what this transaction's earlier works made it
// (storage::TransactionCache).
Result<std::pair<int64_t, std::string>> Head(storage::Session& s, const std::string& head_table);
// The first of the next `count` sequence numbers and the hash of the entry before it; the appender
// then inserts its entries and moves the head with SetHead in the same transaction. On PostgreSQL it
// reserves the numbers at once (an UPDATE: the head's row stays locked until the commit). On SQLite,
// whose writers are serialised by the file's write lock, it only reads the head: an UPDATE with
// RETURNING costs SQLite a temporary table, which was ~11% of an official's look-up on the writer.
Result<std::pair<int64_t, std::string>> Next(storage::Session& s, const std::string& head_table, int64_t count = 1);
// Moves the head to the last entry appended: its seq and hash. Where the session has a transaction
// cache (SQLite's group commit), the head row is written once, with the batch's last head, just
// before the COMMIT; the works in between read it from the cache (Head, Next).
Status SetHead(storage::Session& s, const std::string& head_table, int64_t last_seq, const std::string& hash);
// Recomputes the chain: `select` is "SELECT seq, ..., hash FROM table" (seq first, hash last),
// `hash_of(row, prev)` the hash the row should carry. Reports the first missing or altered entry, or a
// head that does not match the last entry (a cut tail).
Result<VerifyReport> Verify(storage::Session& s, const std::string& head_table, const std::string& select,
                            const std::function<std::string(const storage::Row&, const std::string&)>& hash_of);
}  // namespace chain

// On PostgreSQL, where several server processes write at once, a chain head moved inside every
// audited transaction is one row that all of them queue on until each commits (the one-stop shop's
// dossier writes measured ~600/s, all waiting on it). There Append() inserts the entry into
// audit_pending instead, in the caller's transaction (so it still commits or rolls back with the
// write), and ChainPending() moves committed pending entries into the chain in batches, in the order
// of their ids: a server runs it every 100 ms (StartChainer), and List() and Verify() run it first, so
// a reader sees every committed entry. The window before chaining is the only time an entry is not
// covered by the hash chain. On SQLite, whose single writer never queues, entries are chained inline.
class AuditLog {
 public:
  AuditLog(storage::Database* db, const Clock* clock) : db_(db), clock_(clock) {}

  static std::vector<storage::Migration> Migrations();

  // Appends inside the caller's transaction.
  Status Append(storage::Session& s, const Entry& e) const;
  // Appends in a transaction of its own.
  Status AppendStandalone(const Entry& e) const;
  // Chains the committed pending entries (PostgreSQL); returns how many. Several processes may run it
  // at once: the head row serialises them, and each entry is chained once.
  Result<int64_t> ChainPending() const;
  // Runs ChainPending every `interval` until StopChainer() or destruction (PostgreSQL only; on SQLite
  // nothing is ever pending); failures go to `on_error`.
  void StartChainer(std::chrono::milliseconds interval, std::function<void(const Status&)> on_error);
  void StopChainer() { chainer_.Stop(); }
  Result<VerifyReport> Verify() const;
  // Newest first; `before_seq` 0 for the newest page.
  Result<std::vector<StoredEntry>> List(int64_t before_seq, int limit, const std::string& actor = {}) const;

 private:
  storage::Database* db_;
  const Clock* clock_;
  PeriodicTask chainer_;
};

// Records audited reads (routes marked Access::PersonalData) for the HTTP dispatcher.
class HttpReadAuditor final : public http::AccessAuditor {
 public:
  explicit HttpReadAuditor(const AuditLog* log) : log_(log) {}
  Status RecordRead(const http::Request& req) override;

 private:
  const AuditLog* log_;
};

// Builds an Entry for a request made by an authenticated principal.
Entry EntryFor(const http::Request& req, std::string action, std::string resource, std::string detail = {});

std::vector<http::Route> Routes(const AuditLog* log);

}  // namespace tl::audit
