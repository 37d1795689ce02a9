// Subscriptions on the platform's storage, the change listener that turns entity changes into
// notifications, and the durable notification outbox.
//
// Contract:
// - Tables (migrations 980-981): ngsild_subscriptions (tenant, id) → the document as given (JSON
//   text), the delivery columns (endpoint, accept, throttling, expires_at, is_active) and the status
//   (times_sent, failures, consecutive_failures, last_notification, last_success, last_failure,
//   retry_at); ngsild_subscriptions_revision (one row, bumped by every subscription write);
//   ngsild_notifications, the outbox: one row per (subscription, entity change) holding the data
//   element, with next_attempt_at, attempts and a lease (claimed_until, claimed_by).
// - OnEntityChanged (ngsild::ChangeListener) runs inside the entity write transaction and inserts one
//   outbox row per triggered subscription on the same Session: an acknowledged entity write has its
//   notifications committed with it (kill -9 safe); a rolled-back one has none.
// - Matching uses an in-memory snapshot of every subscription, refreshed from the database when the
//   revision row changed: checked on the write's own Session at most every kRevisionCheckMs, and at
//   once after a subscription write of this process. Several processes may share one database;
//   another process's subscription change takes effect here within kRevisionCheckMs.
// - Outbox rows are removed only when delivered, or when their subscription is deleted.
// - Wake-ups: after a write of this process that queued notifications commits, every callback added
//   with AddQueuedListener runs (on the committing thread; it must be quick, e.g. wake a Deliverer).
//   Other processes' rows are found by polling.
// - CRUD: Create fails with AlreadyExists for an existing id; Get/Update/Delete with
//   ResourceNotFound.
//
// Thread-safety: safe to share; the snapshot is swapped under a mutex and read without copying.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"
#include "modules/subscriptions/subscription.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::subscriptions {

inline constexpr int64_t kRevisionCheckMs = 200;

// The delivery status of a subscription.
struct DeliveryStatus {
  int64_t times_sent = 0;  // successful notifications (POSTs answered 2xx)
  int64_t failures = 0;    // failed attempts, in total
  int64_t consecutive_failures = 0;
  std::optional<int64_t> last_notification;  // ms: last attempt
  std::optional<int64_t> last_success;
  std::optional<int64_t> last_failure;
  std::optional<int64_t> retry_at;  // backoff: no attempt before
  int64_t pending = 0;              // rows waiting in the outbox (Get only)
};

struct StoredSubscription {
  nlohmann::json doc;  // as given
  DeliveryStatus status;
  int64_t created_at = 0;
  int64_t modified_at = 0;
};

// One claimed outbox row.
struct Notification {
  int64_t id = 0;
  std::string tenant;
  std::string subscription_id;
  std::string data;  // the data element, JSON text
  int64_t attempts = 0;
};

// The subscription's delivery settings and gates, read when delivering.
struct DeliveryTarget {
  std::string endpoint;
  std::string accept;
  std::string context_url;
  int64_t throttling_s = 0;
  std::optional<int64_t> last_notification;
  std::optional<int64_t> retry_at;
  int64_t consecutive_failures = 0;
};

class SubscriptionStore final : public ngsild::ChangeListener {
 public:
  SubscriptionStore(storage::Database* db, const Clock* clock, std::shared_ptr<const ngsild::ContextRegistry> contexts)
      : db_(db), clock_(clock), contexts_(std::move(contexts)) {}
  static std::vector<storage::Migration> Migrations();

  const ngsild::ContextRegistry& contexts() const { return *contexts_; }
  int64_t now() const { return clock_->NowMillis(); }

  // `doc` as given (with "@context" when the request had one); an id is generated when missing.
  // Returns the id.
  Result<std::string> Create(const std::string& tenant, nlohmann::json doc);
  Result<StoredSubscription> Get(const std::string& tenant, const std::string& id) const;
  Result<std::vector<StoredSubscription>> List(const std::string& tenant, int limit, int offset, int64_t* total) const;
  // Merges the patch's top-level members (null removes one) into the document and recompiles it.
  Status Update(const std::string& tenant, const std::string& id, const nlohmann::json& patch);
  // Deletes the subscription and its undelivered notifications.
  Status Delete(const std::string& tenant, const std::string& id);

  Status OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) override;

  // Outbox (used by the Deliverer; public for tests and tools).
  Result<std::vector<Notification>> Claim(const std::string& owner, int limit, int64_t lease_ms) const;
  // The target of a subscription, or nullopt when it no longer exists.
  Result<std::optional<DeliveryTarget>> Target(const std::string& tenant, const std::string& id) const;
  // Delivered: removes the rows and records a success.
  Status Delivered(const std::string& owner, const std::string& tenant, const std::string& id,
                   const std::vector<int64_t>& rows) const;
  // Failed: records the failure and reschedules the rows at `retry_at`.
  Status Failed(const std::string& owner, const std::string& tenant, const std::string& id,
                const std::vector<int64_t>& rows, int64_t retry_at) const;
  // Not yet (throttling or backoff): gives the rows back, due at `due`.
  Status Defer(const std::string& owner, const std::vector<int64_t>& rows, int64_t due) const;
  // Rows of a subscription that no longer exists.
  Status Discard(const std::string& owner, const std::vector<int64_t>& rows) const;
  Result<int64_t> PendingCount() const;
  // Calls `fn` after each commit of this process that queued notifications (see the contract).
  // Returns an id for RemoveQueuedListener, which returns only once no call of `fn` is running.
  int AddQueuedListener(std::function<void()> fn);
  void RemoveQueuedListener(int id);

 private:
  void SignalQueued();
  struct Snapshot {
    int64_t revision = -1;
    std::map<std::string, std::vector<std::shared_ptr<const Subscription>>> by_tenant;
  };
  Status Bump(storage::Session& s) const;
  Result<std::shared_ptr<const Snapshot>> Current(storage::Session& s);

  storage::Database* db_;
  const Clock* clock_;
  std::shared_ptr<const ngsild::ContextRegistry> contexts_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<Snapshot>();
  std::chrono::steady_clock::time_point checked_at_{};
  std::atomic<bool> stale_{true};
  std::mutex queued_mu_;
  int next_queued_id_ = 0;
  std::map<int, std::function<void()>> queued_listeners_;
};

}  // namespace tl::subscriptions
