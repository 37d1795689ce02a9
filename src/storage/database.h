// Storage interface shared by every module: a relational database reached through SQL.
//
// Two backends implement it: SQLite (embedded, default; WAL, synchronous=FULL so every committed
// transaction survives a power cut or kill -9) and PostgreSQL (scale-out; a pool of libpq
// connections). Modules write portable SQL with `?` placeholders; the PostgreSQL backend rewrites them
// to `$1, $2, ...`. Values are NULL, 64-bit integers, doubles, UTF-8 text or blobs; results are
// materialised rows (a blob column's cell holds its raw bytes).
//
// Work happens inside Database::Write (a read-write transaction, serialised with other writers on
// SQLite) or Database::Read (reads only: a snapshot on SQLite; on PostgreSQL, at READ COMMITTED, each
// statement sees the latest committed data, as it would inside a transaction). The callback returns a Status: OK commits, anything
// else rolls back, so a failed request never leaves a half-written record.
//
// Thread-safety: a Database is safe to share between threads; a Session is bound to one callback on
// one thread and must not escape it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace tl::storage {

enum class Dialect { kSqlite, kPostgres };

// Binary data (BLOB on SQLite, BYTEA on PostgreSQL); `bytes` holds raw octets.
struct Blob {
  std::string bytes;
};

using Value = std::variant<std::nullptr_t, int64_t, double, std::string, Blob>;

// Helpers to build parameters: Null(), Text(s), Int(i); OptText() and OptInt() map nullopt to NULL.
inline Value Null() { return nullptr; }
inline Value OptText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(nullptr); }
inline Value OptInt(const std::optional<int64_t>& i) { return i ? Value(*i) : Value(nullptr); }

class Row {
 public:
  Row() = default;
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return !cells_.at(i).has_value(); }
  const std::string& Text(size_t i) const;  // "" for NULL
  std::optional<std::string> OptText(size_t i) const { return cells_.at(i); }
  int64_t Int(size_t i) const;               // 0 for NULL
  double Double(size_t i) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};

struct ResultSet {
  std::vector<Row> rows;
  bool empty() const { return rows.empty(); }
};

class Session;

// Values a transaction's works share and write once, at its end: a group commit (SQLite) runs many
// works in one transaction, and a row each of them would read and rewrite (a hash chain's head) is
// then read by the first and written back once, with the last value, just before the COMMIT. Find
// gives what an earlier work of the transaction set under `key`; Set replaces it and, the first time
// per key, keeps `flush`, which Flush() runs with the last value. Rows each work would insert into
// the same table (AddRow) are likewise inserted together at the end; they are not visible to the
// transaction's statements before. A work whose savepoint rolls back takes its Sets and rows back
// (Mark / DropFrom, like CommitCallbacks). Empty at each transaction's start: another process may
// write the row between two transactions.
//
// Thread-safety: none; it belongs to the one connection whose transaction it serves.
class TransactionCache {
 public:
  struct Value {
    int64_t number = 0;
    std::string text;
  };
  using FlushFn = std::function<Status(Session&, const Value&)>;
  using Row = std::vector<::tl::storage::Value>;
  using RowsFlushFn = std::function<Status(Session&, const std::vector<Row>&)>;

  const Value* Find(const std::string& key) const;
  void Set(const std::string& key, Value value, FlushFn flush);
  // Appends a row to write with the others of `key` (an append-only log's entries: one INSERT for the
  // batch's rows instead of one per work); the first time per key keeps `flush`, which Flush() runs
  // with the rows in the order they were added.
  void AddRow(const std::string& key, Row row, RowsFlushFn flush);
  size_t Mark() const { return undo_.size(); }
  void DropFrom(size_t mark);  // a work's savepoint rolled back: its Sets and rows are undone, latest first
  // Writes each key's last value, then each key's rows (each in key order); the first failure stops
  // and is returned.
  Status Flush(Session& s) const;
  void Clear() {
    slots_.clear();
    rows_.clear();
    undo_.clear();
  }

 private:
  struct Slot {
    Value value;
    FlushFn flush;
  };
  struct Rows {
    std::vector<Row> rows;
    RowsFlushFn flush;
  };
  struct Undo {
    std::string key;
    std::optional<Slot> before;  // a Set's previous slot
    bool row = false;            // an AddRow: its row is the key's last
  };
  std::vector<std::pair<std::string, Slot>> slots_;  // few keys: a vector, in key order
  std::vector<std::pair<std::string, Rows>> rows_;   // likewise
  std::vector<Undo> undo_;
};

// Inserts `rows` (each of `columns` values) with statements "<insert_prefix>(?, ...), (?, ...)" of at
// most 100 rows each; insert_prefix is "INSERT INTO table (a, b, ...) VALUES ".
Status InsertRows(Session& s, const std::string& insert_prefix, size_t columns,
                  const std::vector<TransactionCache::Row>& rows);
// Appends `rows` to an append-only table (a log): where the session has a transaction cache they go
// in with the other works' rows at the transaction's end (TransactionCache::AddRow, keyed by
// insert_prefix), elsewhere at once (InsertRows).
Status AppendRows(Session& s, const std::string& insert_prefix, size_t columns,
                  std::vector<TransactionCache::Row> rows);

class Session {
 public:
  virtual ~Session() = default;
  virtual Dialect dialect() const = 0;
  virtual Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params = {}) = 0;
  virtual Result<ResultSet> QueryV(std::string_view sql, const std::vector<Value>& params) = 0;
  // Executes a statement; returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params = {}) = 0;
  virtual Result<int64_t> ExecV(std::string_view sql, const std::vector<Value>& params) = 0;
  // Runs several statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Runs `fn` once the transaction this session works in has committed (on SQLite, on the writer
  // thread right after the group's COMMIT, so it must be short), and never if the work or the
  // transaction rolls back; in a Read, when the read ends. For caches of what a work wrote: an id is
  // only remembered once no rollback can give it to something else.
  virtual void AfterCommit(std::function<void()> fn) = 0;
  // The transaction's shared values (TransactionCache), where the backend runs several works in one
  // transaction (SQLite's writer); nullptr elsewhere (PostgreSQL, reads), where the caller reads and
  // writes the row itself.
  virtual TransactionCache* transaction_cache() { return nullptr; }
};

// The callbacks a connection holds for Session::AfterCommit (the backends' shared bookkeeping).
class CommitCallbacks {
 public:
  void Add(std::function<void()> fn) { fns_.push_back(std::move(fn)); }
  size_t Mark() const { return fns_.size(); }
  void DropFrom(size_t mark) { fns_.resize(std::min(mark, fns_.size())); }  // a work's savepoint rolled back
  void Clear() { fns_.clear(); }
  void RunAndClear() {
    std::vector<std::function<void()>> fns;
    fns.swap(fns_);
    for (auto& fn : fns) fn();
  }

 private:
  std::vector<std::function<void()>> fns_;
};

struct PoolStats {
  int64_t connections_total = 0;
  int64_t connections_in_use = 0;
  int64_t transactions_committed = 0;
  int64_t transactions_rolled_back = 0;
  int64_t waits_for_connection = 0;
  // SQLite: the writer's committed batches (group commits) and the syncer's flushes of the WAL (one
  // covers every batch committed since the previous one). PostgreSQL: 0 (its server flushes).
  int64_t write_batches = 0;
  int64_t flushes = 0;
  // SQLite: batches of rerunnable works rolled back and run again, each work in a savepoint, because
  // one of them failed (Database::WriteRerunnable). PostgreSQL: 0.
  int64_t write_batch_reruns = 0;
  // SQLite: reads that ran in the read transaction their connection kept open, nothing having been
  // committed since it began (no BEGIN, no lock). PostgreSQL: 0.
  int64_t read_snapshots_reused = 0;
};

class Database {
 public:
  using Work = std::function<Status(Session&)>;
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  virtual std::string Describe() const = 0;  // "sqlite:/path" or "postgresql://host/db" (no secrets)
  virtual Status Write(const Work& work) = 0;
  // Runs `work` in a read-write transaction like Write, without blocking the caller: `done` gets the
  // outcome once the transaction is durable (or rolled back). On SQLite, `work` runs on the store's
  // writer thread and `done` on its acknowledger thread (after the flush, every caller's in turn), so
  // `done` must be short and must not call Write itself; this is how a
  // server thread answers after a durable commit without waiting for it. The default runs both on
  // the calling thread.
  virtual void WriteAsync(Work work, std::function<void(Status)> done) { done(Write(work)); }
  // Write for a large work (e.g. a batch of a thousand NGSI-LD entities): on SQLite it runs alone in
  // its transaction, without the savepoint that isolates a work from the others of a group commit (a
  // savepoint journals every page the work changes, and SQLite truncates an in-memory journal by
  // walking it after each statement: quadratic in a large work). The default is Write.
  virtual Status WriteLarge(const Work& work) { return Write(work); }
  // Write and WriteAsync for a work that may run again from its start after its transaction was
  // rolled back: it takes nothing out of what it captured (no std::move from it), sets what it leaves
  // for its caller afresh on every run, and does nothing outside the transaction (its effects after
  // the commit go through Session::AfterCommit). On SQLite a group commit of such works alone runs
  // without a savepoint per work; when one fails, the transaction is rolled back and the works run
  // again, each in its savepoint. The defaults are Write and WriteAsync.
  virtual Status WriteRerunnable(const Work& work) { return Write(work); }
  virtual void WriteAsyncRerunnable(Work work, std::function<void(Status)> done) {
    WriteAsync(std::move(work), std::move(done));
  }
  virtual Status Read(const Work& work) = 0;
  virtual Status Ping() = 0;
  virtual PoolStats Stats() const = 0;
};

// The embedded store's page caches. The writer connection's is the one that stays warm: SQLite drops a
// WAL reader's whole cache whenever anything was committed since its last read, but never the cache
// of the connection that made the commits. So the writer gets the large budget (reads that must go
// with a write, like an exchange read and its log entry, run there) and each reader a small one.
struct SqliteCacheSizes {
  int writer_mib = 256;
  int reader_mib = 16;
};

// Opens a database from a URL: "postgresql://..." or "postgres://..." for PostgreSQL, otherwise
// `data_dir` holds an SQLite file "thanglong.db". `pool_size` bounds the connections.
Result<std::unique_ptr<Database>> Open(const std::string& database_url, const std::string& data_dir,
                                       int pool_size, SqliteCacheSizes caches = {});

// True when `status` came from a uniqueness violation (mapped to AlreadyExists by the backends).
inline bool IsUniqueViolation(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }

}  // namespace tl::storage
