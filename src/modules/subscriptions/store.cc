#include "modules/subscriptions/store.h"

#include <algorithm>

#include "core/crypto.h"
#include "modules/ngsild/errors.h"

namespace tl::subscriptions {
namespace {

using nlohmann::json;

constexpr const char* kStatusColumns =
    "times_sent, failures, consecutive_failures, last_notification, last_success, last_failure, retry_at, "
    "created_at, modified_at";

std::optional<int64_t> OptInt(const storage::Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return r.Int(i);
}

// Reads `doc` + status columns starting at column 0.
StoredSubscription FromRow(const storage::Row& r) {
  StoredSubscription s;
  s.doc = json::parse(r.Text(0), nullptr, false);
  s.status.times_sent = r.Int(1);
  s.status.failures = r.Int(2);
  s.status.consecutive_failures = r.Int(3);
  s.status.last_notification = OptInt(r, 4);
  s.status.last_success = OptInt(r, 5);
  s.status.last_failure = OptInt(r, 6);
  s.status.retry_at = OptInt(r, 7);
  s.created_at = r.Int(8);
  s.modified_at = r.Int(9);
  return s;
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ",?" : "?";
  return out;
}

// Runs `sql_head` + " (?,?,...)" over `rows` in chunks, after the leading parameters.
Status ExecOverIds(storage::Session& s, const std::string& sql_head, std::vector<storage::Value> leading,
                   const std::vector<int64_t>& rows) {
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < rows.size(); i += kChunk) {
    size_t n = std::min(kChunk, rows.size() - i);
    std::vector<storage::Value> params = leading;
    for (size_t j = 0; j < n; ++j) params.emplace_back(rows[i + j]);
    TL_RETURN_IF_ERROR(s.ExecV(sql_head + " (" + Placeholders(n) + ")", params).status());
  }
  return Status::Ok();
}

}  // namespace

std::vector<storage::Migration> SubscriptionStore::Migrations() {
  return {
      {980, "ngsild subscriptions",
       "CREATE TABLE ngsild_subscriptions (tenant TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, "
       "endpoint TEXT NOT NULL, accept TEXT NOT NULL, context_url TEXT NOT NULL, throttling BIGINT NOT NULL DEFAULT 0, "
       "expires_at BIGINT, is_active INTEGER NOT NULL DEFAULT 1, times_sent BIGINT NOT NULL DEFAULT 0, "
       "failures BIGINT NOT NULL DEFAULT 0, consecutive_failures BIGINT NOT NULL DEFAULT 0, last_notification BIGINT, "
       "last_success BIGINT, last_failure BIGINT, retry_at BIGINT, created_at BIGINT NOT NULL, "
       "modified_at BIGINT NOT NULL, PRIMARY KEY (tenant, id));"
       "CREATE TABLE ngsild_subscriptions_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL);"
       "INSERT INTO ngsild_subscriptions_revision (id, revision) VALUES (1, 0);"},
      {981, "ngsild notification outbox",
       "CREATE TABLE ngsild_notifications (id {{ID}}, tenant TEXT NOT NULL, subscription_id TEXT NOT NULL, "
       "data TEXT NOT NULL, created_at BIGINT NOT NULL, next_attempt_at BIGINT NOT NULL, "
       "attempts BIGINT NOT NULL DEFAULT 0, claimed_until BIGINT, claimed_by TEXT);"
       "CREATE INDEX ngsild_notifications_due ON ngsild_notifications (next_attempt_at, id);"
       "CREATE INDEX ngsild_notifications_subscription ON ngsild_notifications (tenant, subscription_id);"},
  };
}

Status SubscriptionStore::Bump(storage::Session& s) const {
  return s.Exec("UPDATE ngsild_subscriptions_revision SET revision = revision + 1 WHERE id = 1").status();
}

Result<std::string> SubscriptionStore::Create(const std::string& tenant, json doc) {
  if (!doc.is_object()) return ngsild::InvalidRequest("a subscription is a JSON object", "body");
  if (!doc.contains("id")) doc["id"] = "urn:ngsi-ld:Subscription:" + crypto::RandomToken(16);
  for (const char* k : {"status", "createdAt", "modifiedAt"}) doc.erase(k);
  TL_ASSIGN_OR_RETURN(Subscription sub, Parse(doc, *contexts_));
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    auto st = s.Exec(
                   "INSERT INTO ngsild_subscriptions (tenant, id, doc, endpoint, accept, context_url, throttling, "
                   "expires_at, is_active, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {tenant, sub.id, doc.dump(), sub.endpoint, sub.accept, sub.ContextUrl(), sub.throttling_s,
                    storage::OptInt(sub.expires_at_ms), int64_t{sub.active ? 1 : 0}, now, now})
                  .status();
    if (storage::IsUniqueViolation(st)) {
      return Status(StatusCode::kAlreadyExists, "a subscription with this id exists", "id")
          .WithProblemType(ngsild::kAlreadyExists);
    }
    TL_RETURN_IF_ERROR(st);
    return Bump(s);
  }));
  stale_ = true;
  return sub.id;
}

Result<StoredSubscription> SubscriptionStore::Get(const std::string& tenant, const std::string& id) const {
  std::optional<StoredSubscription> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT doc, ") + kStatusColumns +
                                             " FROM ngsild_subscriptions WHERE tenant = ? AND id = ?",
                                         {tenant, id}));
    if (rs.empty()) return Status::Ok();
    out = FromRow(rs.rows[0]);
    TL_ASSIGN_OR_RETURN(auto n, s.Query("SELECT COUNT(*) FROM ngsild_notifications WHERE tenant = ? AND "
                                        "subscription_id = ?",
                                        {tenant, id}));
    out->status.pending = n.rows[0].Int(0);
    return Status::Ok();
  }));
  if (!out) return ngsild::ResourceNotFound("no subscription " + id);
  return std::move(*out);
}

Result<std::vector<StoredSubscription>> SubscriptionStore::List(const std::string& tenant, int limit, int offset,
                                                                int64_t* total) const {
  std::vector<StoredSubscription> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT doc, ") + kStatusColumns +
                                             " FROM ngsild_subscriptions WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
                                         {tenant, int64_t{limit}, int64_t{offset}}));
    for (const auto& r : rs.rows) out.push_back(FromRow(r));
    if (total) {
      TL_ASSIGN_OR_RETURN(auto n, s.Query("SELECT COUNT(*) FROM ngsild_subscriptions WHERE tenant = ?", {tenant}));
      *total = n.rows[0].Int(0);
    }
    return Status::Ok();
  }));
  return out;
}

Status SubscriptionStore::Update(const std::string& tenant, const std::string& id, const json& patch) {
  if (!patch.is_object() || patch.empty())
    return ngsild::BadRequestData("the patch must be a non-empty object", "body");
  if (auto pid = patch.find("id"); pid != patch.end() && *pid != id) {
    return ngsild::BadRequestData("the id cannot be changed", "id");
  }
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs,
                        s.Query("SELECT doc FROM ngsild_subscriptions WHERE tenant = ? AND id = ?", {tenant, id}));
    if (rs.empty()) return ngsild::ResourceNotFound("no subscription " + id);
    json doc = json::parse(rs.rows[0].Text(0), nullptr, false);
    if (!doc.is_object()) return Internal("a stored subscription is not JSON");
    for (const auto& [k, v] : patch.items()) {
      if (k == "status" || k == "createdAt" || k == "modifiedAt") continue;
      if (v.is_null()) {
        doc.erase(k);
      } else {
        doc[k] = v;
      }
    }
    TL_ASSIGN_OR_RETURN(Subscription sub, Parse(doc, *contexts_));
    TL_RETURN_IF_ERROR(
        s.Exec("UPDATE ngsild_subscriptions SET doc = ?, endpoint = ?, accept = ?, context_url = ?, "
               "throttling = ?, expires_at = ?, is_active = ?, modified_at = ? WHERE tenant = ? AND id = ?",
               {doc.dump(), sub.endpoint, sub.accept, sub.ContextUrl(), sub.throttling_s,
                storage::OptInt(sub.expires_at_ms), int64_t{sub.active ? 1 : 0}, now, tenant, id})
            .status());
    return Bump(s);
  }));
  stale_ = true;
  return Status::Ok();
}

Status SubscriptionStore::Delete(const std::string& tenant, const std::string& id) {
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(int64_t n,
                        s.Exec("DELETE FROM ngsild_subscriptions WHERE tenant = ? AND id = ?", {tenant, id}));
    if (n == 0) return ngsild::ResourceNotFound("no subscription " + id);
    TL_RETURN_IF_ERROR(
        s.Exec("DELETE FROM ngsild_notifications WHERE tenant = ? AND subscription_id = ?", {tenant, id}).status());
    return Bump(s);
  }));
  stale_ = true;
  return Status::Ok();
}

Result<std::shared_ptr<const SubscriptionStore::Snapshot>> SubscriptionStore::Current(storage::Session& s) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!stale_.exchange(false) && now - checked_at_ < std::chrono::milliseconds(kRevisionCheckMs)) return snapshot_;
  checked_at_ = now;
  TL_ASSIGN_OR_RETURN(auto rev, s.Query("SELECT revision FROM ngsild_subscriptions_revision WHERE id = 1"));
  int64_t revision = rev.empty() ? 0 : rev.rows[0].Int(0);
  if (revision == snapshot_->revision) return snapshot_;
  auto next = std::make_shared<Snapshot>();
  next->revision = revision;
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT tenant, doc FROM ngsild_subscriptions WHERE is_active = 1"));
  for (const auto& r : rs.rows) {
    json doc = json::parse(r.Text(1), nullptr, false);
    auto sub = Parse(doc, *contexts_);
    if (!sub.ok()) continue;  // validated on write; a context no longer held leaves it unmatched
    next->by_tenant[r.Text(0)].push_back(std::make_shared<const Subscription>(std::move(*sub)));
  }
  snapshot_ = std::move(next);
  return snapshot_;
}

Status SubscriptionStore::OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) {
  if (change.kind == ngsild::ChangeKind::kDeleted) return Status::Ok();
  TL_ASSIGN_OR_RETURN(auto snapshot, Current(session));
  auto it = snapshot->by_tenant.find(change.tenant);
  if (it == snapshot->by_tenant.end()) return Status::Ok();
  int64_t now = clock_->NowMillis();
  bool queued = false;
  for (const auto& sub : it->second) {
    auto data = Evaluate(*sub, change, now);
    if (!data) continue;
    TL_RETURN_IF_ERROR(
        session
            .Exec("INSERT INTO ngsild_notifications (tenant, subscription_id, data, created_at, "
                  "next_attempt_at) VALUES (?, ?, ?, ?, ?)",
                  {change.tenant, sub->id, data->dump(-1, ' ', false, json::error_handler_t::replace), now, now})
            .status());
    queued = true;
  }
  if (queued) session.AfterCommit([this] { SignalQueued(); });
  return Status::Ok();
}

int SubscriptionStore::AddQueuedListener(std::function<void()> fn) {
  std::lock_guard lock(queued_mu_);
  int id = next_queued_id_++;
  queued_listeners_.emplace(id, std::move(fn));
  return id;
}

void SubscriptionStore::RemoveQueuedListener(int id) {
  std::lock_guard lock(queued_mu_);
  queued_listeners_.erase(id);
}

void SubscriptionStore::SignalQueued() {
  std::lock_guard lock(queued_mu_);
  for (const auto& [id, fn] : queued_listeners_) fn();
}

Result<std::vector<Notification>> SubscriptionStore::Claim(const std::string& owner, int limit,
                                                           int64_t lease_ms) const {
  std::vector<Notification> out;
  int64_t now = clock_->NowMillis();
  // A read first: an idle outbox costs no write transaction (the SQLite writer is shared).
  bool any = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id FROM ngsild_notifications WHERE next_attempt_at <= ? AND "
                                         "(claimed_until IS NULL OR claimed_until <= ?) LIMIT 1",
                                         {now, now}));
    any = !rs.empty();
    return Status::Ok();
  }));
  if (!any) return out;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    // As the mail outbox: the inner SELECT picks due rows (on PostgreSQL locking them, skipping rows
    // another process is claiming); the outer WHERE re-checks, so a row is never claimed twice.
    std::string due = "next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)";
    std::string sql =
        "UPDATE ngsild_notifications SET claimed_until = ?, claimed_by = ? WHERE id IN (SELECT id FROM "
        "ngsild_notifications WHERE " +
        due + " ORDER BY next_attempt_at, id LIMIT ?" +
        (s.dialect() == storage::Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "") + ") AND " + due +
        " RETURNING id, tenant, subscription_id, data, attempts";
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(sql, {now + lease_ms, owner, now, now, int64_t{limit}, now, now}));
    for (const auto& r : rs.rows) out.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4)});
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<std::optional<DeliveryTarget>> SubscriptionStore::Target(const std::string& tenant,
                                                                const std::string& id) const {
  std::optional<DeliveryTarget> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT endpoint, accept, context_url, throttling, last_notification, "
                                         "retry_at, consecutive_failures FROM ngsild_subscriptions WHERE tenant = ? "
                                         "AND id = ?",
                                         {tenant, id}));
    if (rs.empty()) return Status::Ok();
    const auto& r = rs.rows[0];
    out = DeliveryTarget{r.Text(0), r.Text(1), r.Text(2), r.Int(3), OptInt(r, 4), OptInt(r, 5), r.Int(6)};
    return Status::Ok();
  }));
  return out;
}

Status SubscriptionStore::Delivered(const std::string& owner, const std::string& tenant, const std::string& id,
                                    const std::vector<int64_t>& rows) const {
  int64_t now = clock_->NowMillis();
  return db_->Write([&](storage::Session& s) -> Status {
    TL_RETURN_IF_ERROR(
        ExecOverIds(s, "DELETE FROM ngsild_notifications WHERE claimed_by = ? AND id IN", {owner}, rows));
    return s
        .Exec(
            "UPDATE ngsild_subscriptions SET times_sent = times_sent + 1, last_notification = ?, last_success = ?, "
            "consecutive_failures = 0, retry_at = NULL WHERE tenant = ? AND id = ?",
            {now, now, tenant, id})
        .status();
  });
}

Status SubscriptionStore::Failed(const std::string& owner, const std::string& tenant, const std::string& id,
                                 const std::vector<int64_t>& rows, int64_t retry_at) const {
  int64_t now = clock_->NowMillis();
  return db_->Write([&](storage::Session& s) -> Status {
    TL_RETURN_IF_ERROR(ExecOverIds(s,
                                   "UPDATE ngsild_notifications SET attempts = attempts + 1, next_attempt_at = ?, "
                                   "claimed_until = NULL, claimed_by = NULL WHERE claimed_by = ? AND id IN",
                                   {retry_at, owner}, rows));
    return s
        .Exec(
            "UPDATE ngsild_subscriptions SET failures = failures + 1, consecutive_failures = consecutive_failures + 1, "
            "last_notification = ?, last_failure = ?, retry_at = ? WHERE tenant = ? AND id = ?",
            {now, now, retry_at, tenant, id})
        .status();
  });
}

Status SubscriptionStore::Defer(const std::string& owner, const std::vector<int64_t>& rows, int64_t due) const {
  return db_->Write([&](storage::Session& s) -> Status {
    return ExecOverIds(s,
                       "UPDATE ngsild_notifications SET next_attempt_at = ?, claimed_until = NULL, claimed_by = NULL "
                       "WHERE claimed_by = ? AND id IN",
                       {due, owner}, rows);
  });
}

Status SubscriptionStore::Discard(const std::string& owner, const std::vector<int64_t>& rows) const {
  return db_->Write([&](storage::Session& s) -> Status {
    return ExecOverIds(s, "DELETE FROM ngsild_notifications WHERE claimed_by = ? AND id IN", {owner}, rows);
  });
}

Result<int64_t> SubscriptionStore::PendingCount() const {
  int64_t n = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM ngsild_notifications"));
    n = rs.rows[0].Int(0);
    return Status::Ok();
  }));
  return n;
}

}  // namespace tl::subscriptions
