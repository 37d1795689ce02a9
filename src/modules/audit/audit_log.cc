#include "modules/audit/audit_log.h"

#include <nlohmann/json.hpp>

#include "core/crypto.h"

namespace tl::audit {
namespace {

std::string ChainHash(const std::string& prev, int64_t seq, const std::string& at, const Entry& e) {
  std::string material;
  material.reserve(256);
  for (const std::string* part : {&prev, &at, &e.actor, &e.action, &e.resource, &e.client_ip, &e.request_id,
                                  &e.detail}) {
    material += *part;
    material += '\x1f';
  }
  material += std::to_string(seq);
  return crypto::Sha256Hex(material);
}

}  // namespace

namespace chain {

std::string CreateHeadSql(const std::string& head_table) {
  return "CREATE TABLE " + head_table + " (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL);" +
         "INSERT INTO " + head_table + " (id, last_seq, last_hash) VALUES (1, 0, '" + kGenesis + "');";
}

Result<std::pair<int64_t, std::string>> Head(storage::Session& s, const std::string& head_table) {
  if (const storage::TransactionCache* cache = s.transaction_cache()) {
    if (const auto* head = cache->Find(head_table)) return std::make_pair(head->number, head->text);
  }
  TL_ASSIGN_OR_RETURN(auto head, s.Query("SELECT last_seq, last_hash FROM " + head_table + " WHERE id = 1"));
  if (head.empty()) return Internal("the head row of " + head_table + " is missing");
  return std::make_pair(head.rows[0].Int(0), head.rows[0].Text(1));
}

Result<std::pair<int64_t, std::string>> Next(storage::Session& s, const std::string& head_table, int64_t count) {
  if (s.dialect() == storage::Dialect::kSqlite) {
    TL_ASSIGN_OR_RETURN(auto head, Head(s, head_table));
    return std::make_pair(head.first + 1, std::move(head.second));
  }
  // PostgreSQL: the UPDATE takes the head row's lock, so concurrent appenders queue here.
  TL_ASSIGN_OR_RETURN(auto head, s.Query("UPDATE " + head_table +
                                             " SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq, last_hash",
                                         {count}));
  if (head.empty()) return Internal("the head row of " + head_table + " is missing");
  return std::make_pair(head.rows[0].Int(0) - count + 1, head.rows[0].Text(1));
}

Status SetHead(storage::Session& s, const std::string& head_table, int64_t last_seq, const std::string& hash) {
  if (storage::TransactionCache* cache = s.transaction_cache()) {
    cache->Set(head_table, {last_seq, hash}, [head_table](storage::Session& session, const auto& head) {
      return session
          .Exec("UPDATE " + head_table + " SET last_seq = ?, last_hash = ? WHERE id = 1", {head.number, head.text})
          .status();
    });
    return Status::Ok();
  }
  return s.Exec("UPDATE " + head_table + " SET last_seq = ?, last_hash = ? WHERE id = 1", {last_seq, hash}).status();
}

Result<VerifyReport> Verify(storage::Session& s, const std::string& head_table, const std::string& select,
                            const std::function<std::string(const storage::Row&, const std::string&)>& hash_of) {
  VerifyReport report;
  TL_ASSIGN_OR_RETURN(auto head, s.Query("SELECT last_seq, last_hash FROM " + head_table + " WHERE id = 1"));
  if (head.empty()) {
    report.intact = false;
    report.problem = "the head row of " + head_table + " is missing";
    return report;
  }
  std::string prev = kGenesis;
  int64_t expected = 1;
  const int64_t kPage = 5000;
  while (true) {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(select + " WHERE seq >= ? ORDER BY seq LIMIT ?", {expected, kPage}));
    for (const auto& r : rs.rows) {
      int64_t seq = r.Int(0);
      if (seq != expected) {
        report.intact = false;
        report.first_bad_seq = expected;
        report.problem = "entry " + std::to_string(expected) + " is missing (deleted)";
        return report;
      }
      std::string h = hash_of(r, prev);
      if (h != r.Text(r.size() - 1)) {
        report.intact = false;
        report.first_bad_seq = seq;
        report.problem = "entry " + std::to_string(seq) + " was altered (hash mismatch)";
        return report;
      }
      prev = std::move(h);
      ++expected;
      ++report.entries;
    }
    if (static_cast<int64_t>(rs.rows.size()) < kPage) break;
  }
  int64_t last_seq = head.rows[0].Int(0);
  if (last_seq != report.entries || head.rows[0].Text(1) != prev) {
    report.intact = false;
    report.first_bad_seq = report.entries + 1;
    report.problem = "the log ends at entry " + std::to_string(report.entries) + " but the head records " +
                     std::to_string(last_seq) + " entries (tail deleted or head altered)";
  }
  return report;
}

}  // namespace chain

std::vector<storage::Migration> AuditLog::Migrations() {
  return {{100, "audit log",
           "CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, "
           "action TEXT NOT NULL, resource TEXT NOT NULL, client_ip TEXT NOT NULL, request_id TEXT NOT NULL, "
           "detail TEXT NOT NULL, hash TEXT NOT NULL);"
           "CREATE INDEX audit_log_actor ON audit_log (actor, seq);"
           + chain::CreateHeadSql("audit_head")},
          // PostgreSQL's entries waiting to be chained (see AuditLog); empty on SQLite.
          {101, "audit entries pending chaining",
           "CREATE TABLE audit_pending (id {{ID}}, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
           "resource TEXT NOT NULL, client_ip TEXT NOT NULL, request_id TEXT NOT NULL, detail TEXT NOT NULL)"},
          // On SQLite `seq BIGINT PRIMARY KEY` is not the rowid: every entry went into the table and
          // into a separate index on seq. As the rowid, each entry is one B-tree insert fewer (and one
          // page fewer in most commits of the writer's batches). The table is copied once.
          {102, "audit log keyed by its rowid",
           storage::RebuildTableSql("audit_log",
                                    "seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, "
                                    "action TEXT NOT NULL, resource TEXT NOT NULL, client_ip TEXT NOT NULL, "
                                    "request_id TEXT NOT NULL, detail TEXT NOT NULL, hash TEXT NOT NULL",
                                    "seq, at, actor, action, resource, client_ip, request_id, detail, hash") +
               "CREATE INDEX audit_log_actor ON audit_log (actor, seq);",
           storage::Dialect::kSqlite}};
}

namespace {

// Chains `entries` (each with its time) after the head and inserts them together: the inline
// append (SQLite) and the pending entries' chainer (PostgreSQL) both come through here.
Status AppendChained(storage::Session& s, const std::vector<std::pair<Entry, std::string>>& entries) {
  TL_ASSIGN_OR_RETURN(auto next, chain::Next(s, "audit_head", static_cast<int64_t>(entries.size())));
  auto [seq, hash] = std::move(next);
  // On SQLite's group commit the rows go in with the batch's others at its end (storage::AppendRows).
  std::vector<storage::TransactionCache::Row> rows;
  rows.reserve(entries.size());
  for (const auto& [e, at] : entries) {
    hash = ChainHash(hash, seq, at, e);
    rows.push_back({seq, at, e.actor, e.action, e.resource, e.client_ip, e.request_id, e.detail, hash});
    ++seq;
  }
  TL_RETURN_IF_ERROR(storage::AppendRows(
      s, "INSERT INTO audit_log (seq, at, actor, action, resource, client_ip, request_id, detail, hash) VALUES ", 9,
      std::move(rows)));
  return chain::SetHead(s, "audit_head", seq - 1, hash);
}

}  // namespace

Status AuditLog::Append(storage::Session& s, const Entry& e) const {
  std::string at = FormatRfc3339(clock_->NowMillis());
  if (s.dialect() == storage::Dialect::kPostgres) {
    // Chained later by ChainPending (see the header): no row shared with other writers here.
    return s.Exec("INSERT INTO audit_pending (at, actor, action, resource, client_ip, request_id, detail) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  {at, e.actor, e.action, e.resource, e.client_ip, e.request_id, e.detail})
        .status();
  }
  return AppendChained(s, {{e, std::move(at)}});
}

Status AuditLog::AppendStandalone(const Entry& e) const {
  return db_->Write([&](storage::Session& s) { return Append(s, e); });
}

Result<int64_t> AuditLog::ChainPending() const {
  if (db_->dialect() != storage::Dialect::kPostgres) return int64_t{0};
  constexpr int64_t kBatch = 1000;
  // Nothing pending (an idle server, every 100 ms): a plain read, no lock taken and nothing to sync.
  bool any = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM audit_pending LIMIT 1"));
    any = !rs.empty();
    return Status::Ok();
  }));
  if (!any) return int64_t{0};
  int64_t chained = 0;
  for (;;) {
    int64_t batch = 0;
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      batch = 0;
      // The head first, locked: a second chainer waits here, then sees this one's work.
      TL_RETURN_IF_ERROR(s.Query("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE").status());
      TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, at, actor, action, resource, client_ip, request_id, detail "
                                           "FROM audit_pending ORDER BY id LIMIT ?",
                                           {kBatch}));
      if (rs.empty()) return Status::Ok();
      std::vector<std::pair<Entry, std::string>> entries;
      std::string ids;
      for (const auto& r : rs.rows) {
        entries.push_back({Entry{r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)}, r.Text(1)});
        ids += (ids.empty() ? "" : ",") + r.Text(0);  // integers from the table itself
      }
      batch = static_cast<int64_t>(entries.size());
      TL_RETURN_IF_ERROR(AppendChained(s, entries));
      // By id, not by range: an entry with a lower id committed after the SELECT is chained next time.
      return s.Exec("DELETE FROM audit_pending WHERE id IN (" + ids + ")").status();
    }));
    chained += batch;
    if (batch < kBatch) return chained;
  }
}

void AuditLog::StartChainer(std::chrono::milliseconds interval, std::function<void(const Status&)> on_error) {
  if (db_->dialect() != storage::Dialect::kPostgres) return;
  chainer_.Start(
      interval,
      [this, on_error = std::move(on_error)] {
        auto r = ChainPending();
        if (!r.ok() && on_error) on_error(r.status());
      },
      /*background=*/false, "tl-audit-chain");
}

Result<VerifyReport> AuditLog::Verify() const {
  TL_RETURN_IF_ERROR(ChainPending().status());
  VerifyReport report;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(report, chain::Verify(s, "audit_head",
                                              "SELECT seq, at, actor, action, resource, client_ip, request_id, detail, "
                                              "hash FROM audit_log",
                                              [](const storage::Row& r, const std::string& prev) {
                                                Entry e{r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6), r.Text(7)};
                                                return ChainHash(prev, r.Int(0), r.Text(1), e);
                                              }));
    return Status::Ok();
  }));
  return report;
}

Result<std::vector<StoredEntry>> AuditLog::List(int64_t before_seq, int limit, const std::string& actor) const {
  TL_RETURN_IF_ERROR(ChainPending().status());
  std::vector<StoredEntry> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    std::string sql =
        "SELECT seq, at, actor, action, resource, client_ip, request_id, detail, hash FROM audit_log WHERE seq < ?";
    std::vector<storage::Value> params{before_seq > 0 ? before_seq : INT64_MAX};
    if (!actor.empty()) {
      sql += " AND actor = ?";
      params.emplace_back(actor);
    }
    sql += " ORDER BY seq DESC LIMIT ?";
    params.emplace_back(int64_t{limit});
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& r : rs.rows) {
      StoredEntry e;
      e.seq = r.Int(0);
      e.at = r.Text(1);
      e.actor = r.Text(2);
      e.action = r.Text(3);
      e.resource = r.Text(4);
      e.client_ip = r.Text(5);
      e.request_id = r.Text(6);
      e.detail = r.Text(7);
      e.hash = r.Text(8);
      out.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  return out;
}

Entry EntryFor(const http::Request& req, std::string action, std::string resource, std::string detail) {
  Entry e;
  e.actor = req.principal ? req.principal->username : "anonymous";
  e.action = std::move(action);
  e.resource = std::move(resource);
  e.client_ip = req.client_ip;
  e.request_id = req.request_id;
  e.detail = std::move(detail);
  return e;
}

Status HttpReadAuditor::RecordRead(const http::Request& req) {
  std::string target = req.path;
  if (!req.query.empty()) {
    nlohmann::json q = nlohmann::json::object();
    for (const auto& [k, v] : req.query) q[k] = v;
    return log_->AppendStandalone(EntryFor(req, "read", target, q.dump()));
  }
  return log_->AppendStandalone(EntryFor(req, "read", target));
}

std::vector<http::Route> Routes(const AuditLog* log) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> routes;
  routes.push_back(
      {Method::kGet, "/api/v1/audit", Access::Roles({"city_admin"}),
       [log](http::Request& req) -> Result<http::Response> {
         int64_t before = 0;
         int limit = 50;
         if (auto b = req.Query("before")) {
           try {
             before = std::stoll(*b);
           } catch (...) {
             return InvalidArgument("must be a sequence number", "before");
           }
         }
         if (auto l = req.Query("limit")) {
           try {
             limit = std::stoi(*l);
           } catch (...) {
             return InvalidArgument("must be a number 1-200", "limit");
           }
           if (limit < 1 || limit > 200) return InvalidArgument("must be a number 1-200", "limit");
         }
         TL_ASSIGN_OR_RETURN(auto entries, log->List(before, limit, req.Query("actor").value_or("")));
         nlohmann::json items = nlohmann::json::array();
         for (const auto& e : entries) {
           items.push_back({{"seq", e.seq}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                            {"resource", e.resource}, {"client_ip", e.client_ip}, {"request_id", e.request_id},
                            {"detail", e.detail}, {"hash", e.hash}});
         }
         nlohmann::json body = {{"items", items}};
         body["next_before"] = entries.size() == static_cast<size_t>(limit) ? nlohmann::json(entries.back().seq)
                                                                             : nlohmann::json(nullptr);
         return http::Response::Json(200, body.dump());
       },
       {"Audit log entries, newest first (city admins)",
        "audit",
        {{"before", "query", "Sequence number to page before"},
         {"limit", "query", "Page size 1-200", false, "integer"},
         {"actor", "query", "Only this actor"}},
        "",
        R"({"type":"object","properties":{"items":{"type":"array"},"next_before":{"type":["integer","null"]}}})"}});
  routes.back().access.PersonalData();
  routes.push_back({Method::kGet, "/api/v1/audit/verify", Access::Roles({"city_admin"}),
                    [log](http::Request&) -> Result<http::Response> {
                      TL_ASSIGN_OR_RETURN(auto r, log->Verify());
                      nlohmann::json body = {{"entries", r.entries}, {"intact", r.intact}};
                      if (!r.intact) {
                        body["first_bad_seq"] = r.first_bad_seq;
                        body["problem"] = r.problem;
                      }
                      return http::Response::Json(200, body.dump());
                    },
                    {"Verify the audit log's hash chain", "audit", {}, "",
                     R"({"type":"object","properties":{"entries":{"type":"integer"},"intact":{"type":"boolean"}}})"}});
  return routes;
}

}  // namespace tl::audit
