#include "storage/postgres/postgres_database.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tl::storage {

std::string RewritePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  bool in_quote = false;
  for (char c : sql) {
    if (c == '\'') in_quote = !in_quote;
    if (c == '?' && !in_quote) {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

std::string MaskPostgresUrl(const std::string& url) {
  // postgresql://user:password@host/db -> postgresql://user:***@host/db
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

namespace {

Status FromResult(PGconn* conn, PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = std::string(what) + ": " + (res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  std::string sqlstate = state ? state : "";
  if (sqlstate == "23505") return AlreadyExists(msg);
  if (sqlstate == "23503") return FailedPrecondition(msg);
  if (sqlstate == "40001" || sqlstate == "40P01") return Conflict(msg);
  if (sqlstate.rfind("23", 0) == 0 || sqlstate.rfind("22", 0) == 0) return InvalidArgument(msg);
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57", 0) == 0) {
    return Unavailable(msg);
  }
  return Internal(msg);
}

constexpr Oid kByteaOid = 17;

// BYTEA in text results is "\x" followed by two hex digits per byte.
std::string DecodeByteaHex(const char* p, int len) {
  std::string out;
  if (len < 2 || p[0] != '\\' || p[1] != 'x') return std::string(p, static_cast<size_t>(len));
  out.reserve(static_cast<size_t>(len - 2) / 2);
  auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (int i = 2; i + 1 < len; i += 2) out.push_back(static_cast<char>(hex(p[i]) * 16 + hex(p[i + 1])));
  return out;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PgConnection final : public Session {
 public:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  void Reset() {
    PQreset(conn_);
    prepared_.clear();
  }

  Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params) override {
    return Run(sql, params.begin(), params.size()).first;
  }
  Result<ResultSet> QueryV(std::string_view sql, const std::vector<Value>& params) override {
    return Run(sql, params.data(), params.size()).first;
  }
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params) override {
    auto [rs, n] = Run(sql, params.begin(), params.size());
    if (!rs.ok()) return rs.status();
    return n;
  }
  Result<int64_t> ExecV(std::string_view sql, const std::vector<Value>& params) override {
    auto [rs, n] = Run(sql, params.data(), params.size());
    if (!rs.ok()) return rs.status();
    return n;
  }
  Status ExecScript(std::string_view sql) override {
    std::string s(sql);
    ResultPtr res(PQexec(conn_, s.c_str()));
    auto st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return FromResult(conn_, res.get(), "script");
    return Status::Ok();
  }
  void AfterCommit(std::function<void()> fn) override { after_commit_.Add(std::move(fn)); }
  CommitCallbacks& after_commit() { return after_commit_; }

  Status Simple(const char* sql) {
    ResultPtr res(PQexec(conn_, sql));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return FromResult(conn_, res.get(), sql);
    return Status::Ok();
  }

 private:
  std::pair<Result<ResultSet>, int64_t> Run(std::string_view sql, const Value* params, size_t n) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = "s" + std::to_string(prepared_.size());
      std::string rewritten = RewritePlaceholders(sql);
      ResultPtr res(PQprepare(conn_, name.c_str(), rewritten.c_str(), 0, nullptr));
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return {FromResult(conn_, res.get(), "prepare"), 0};
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> storage(n);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0), formats(n, 0);
    for (size_t i = 0; i < n; ++i) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              values[i] = nullptr;
            } else if constexpr (std::is_same_v<T, std::string>) {
              values[i] = v.c_str();
            } else if constexpr (std::is_same_v<T, Blob>) {
              values[i] = v.bytes.data();
              lengths[i] = static_cast<int>(v.bytes.size());
              formats[i] = 1;  // binary
            } else {
              storage[i] = std::to_string(v);
              values[i] = storage[i].c_str();
            }
          },
          params[i]);
    }
    ResultPtr res(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                                 formats.data(), 0));
    auto st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return {FromResult(conn_, res.get(), "query"), 0};
    ResultSet rs;
    int rows = PQntuples(res.get());
    int cols = PQnfields(res.get());
    rs.rows.reserve(rows);
    for (int r = 0; r < rows; ++r) {
      std::vector<std::optional<std::string>> cells;
      cells.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          cells.emplace_back(std::nullopt);
        } else if (PQftype(res.get(), c) == kByteaOid) {
          cells.emplace_back(DecodeByteaHex(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
        } else {
          cells.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
        }
      }
      rs.rows.emplace_back(std::move(cells));
    }
    const char* tuples = PQcmdTuples(res.get());
    int64_t changed = (tuples && *tuples) ? std::strtoll(tuples, nullptr, 10) : 0;
    return {std::move(rs), changed};
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;
  CommitCallbacks after_commit_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, int pool_size) : url_(std::move(url)), max_(std::max(1, pool_size)) {}

  Status Init() {
    TL_ASSIGN_OR_RETURN(auto c, Connect());
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(c));
    total_ = 1;
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  std::string Describe() const override { return MaskPostgresUrl(url_); }

  Status Write(const Work& work) override { return Run(work, "BEGIN"); }
  // At READ COMMITTED every statement takes its own snapshot, inside a transaction or not, so reads
  // run as single statements and save the BEGIN and COMMIT round trips.
  Status Read(const Work& work) override { return Run(work, nullptr); }
  Status Ping() override {
    return Read([](Session& s) { return s.Query("SELECT 1").status(); });
  }

  PoolStats Stats() const override {
    PoolStats st;
    std::lock_guard lock(mu_);
    st.connections_total = total_;
    st.connections_in_use = total_ - static_cast<int64_t>(idle_.size());
    st.transactions_committed = committed_;
    st.transactions_rolled_back = rolled_back_;
    st.waits_for_connection = waits_;
    return st;
  }

 private:
  Result<std::unique_ptr<PgConnection>> Connect() {
    PGconn* raw = PQconnectdb(url_.c_str());
    auto conn = std::make_unique<PgConnection>(raw);
    if (PQstatus(raw) != CONNECTION_OK) {
      return Unavailable(std::string("cannot connect to PostgreSQL at ") + MaskPostgresUrl(url_) + ": " +
                         PQerrorMessage(raw));
    }
    PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
    TL_RETURN_IF_ERROR(conn->Simple("SET client_encoding = 'UTF8'"));
    return conn;
  }

  Result<std::unique_ptr<PgConnection>> Acquire() {
    {
      std::unique_lock lock(mu_);
      if (idle_.empty() && total_ >= max_) {
        waits_++;
        if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !idle_.empty(); })) {
          return Unavailable("no PostgreSQL connection free within 30 s");
        }
      }
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      total_++;
    }
    auto c = Connect();
    if (!c.ok()) {
      std::lock_guard lock(mu_);
      total_--;
      cv_.notify_one();
    }
    return c;
  }

  void Release(std::unique_ptr<PgConnection> c) {
    {
      std::lock_guard lock(mu_);
      if (c->healthy()) {
        idle_.push_back(std::move(c));
      } else {
        total_--;
      }
    }
    cv_.notify_one();
  }

  // Runs `work` on a pooled connection, inside a transaction opened with `begin` (nullptr: none).
  Status Run(const Work& work, const char* begin) {
    TL_ASSIGN_OR_RETURN(auto conn, Acquire());
    if (!conn->healthy()) conn->Reset();
    conn->after_commit().Clear();
    if (!begin) {
      Status st = work(*conn);
      if (st.ok()) {
        conn->after_commit().RunAndClear();
      } else {
        conn->after_commit().Clear();
      }
      Release(std::move(conn));
      return st;
    }
    Status st = conn->Simple(begin);
    if (!st.ok() && !conn->healthy()) {
      conn->Reset();
      st = conn->Simple(begin);
    }
    if (st.ok()) {
      st = work(*conn);
      if (st.ok()) {
        st = conn->Simple("COMMIT");
        if (st.ok()) {
          {
            std::lock_guard lock(mu_);
            committed_++;
          }
          conn->after_commit().RunAndClear();
        }
      }
      if (!st.ok()) {
        conn->after_commit().Clear();
        conn->Simple("ROLLBACK").IgnoreError();
        std::lock_guard lock(mu_);
        rolled_back_++;
      }
    }
    Release(std::move(conn));
    return st;
  }

  std::string url_;
  int64_t max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int64_t total_ = 0, committed_ = 0, rolled_back_ = 0, waits_ = 0;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, int pool_size) {
  auto db = std::make_unique<PostgresDatabase>(url, pool_size);
  TL_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace tl::storage
