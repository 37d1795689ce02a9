// Delivery of NGSI-LD notifications: a worker thread drains the outbox of store.h and POSTs
// Notification bodies ({"id", "type": "Notification", "subscriptionId", "notifiedAt", "data": [...]})
// to each subscription's endpoint over HTTP(S) with libcurl.
//
// Contract:
// - Rows are claimed with a lease (several processes may deliver from one database; a row is never
//   sent by two at once). Claimed rows of one subscription go out together, oldest first, in one POST
//   of up to max_per_post data elements.
// - A 2xx answer deletes the rows and records a success. Anything else (connection refused, timeout,
//   non-2xx) records a failure and reschedules every claimed row of that subscription after a backoff
//   of initial_backoff_ms doubling per consecutive failure up to max_backoff_ms, with +-20% jitter.
//   Rows are never given up: a notification is delivered at least once, or dropped only with its
//   subscription. A process killed after the endpoint answered but before the rows were deleted sends
//   them again once the lease expires (at-least-once; the notification id differs, the data does not).
// - Throttling: no POST to a subscription sooner than `throttling` seconds after its previous
//   attempt; rows that arrive meanwhile are deferred to that moment and then sent together.
// - HTTP: http and https only, no redirects, connect timeout 2 s, total 10 s, connections reused.
//
// - The thread looks for due rows again at once after a batch, and when idle every idle_poll_ms, or
//   sooner when this process commits new notifications (the store's queued listener wakes it).
//
// Thread-safety: Start() and Stop() from one owning thread; RunOnce() (tests, tools) must not run
// concurrently with the thread; Wake() from any thread. Counters are atomic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "modules/subscriptions/store.h"

namespace tl::subscriptions {

struct DeliveryOptions {
  std::string owner;  // lease owner id; random when empty
  int claim_batch = 2000;
  int max_per_post = 1000;
  int64_t lease_ms = 60000;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 300000;
  int64_t idle_poll_ms = 20;
  long connect_timeout_ms = 2000;
  long total_timeout_ms = 10000;
};

// One HTTP POST of a notification; the real one uses libcurl (tests may substitute).
class WebhookClient {
 public:
  WebhookClient(long connect_timeout_ms, long total_timeout_ms);
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;
  // The HTTP status, or Unavailable for a transport error (message: curl's).
  Result<int> Post(const std::string& url, const std::string& content_type, const std::string& link,
                   const std::string& tenant, const std::string& body);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

class Deliverer {
 public:
  Deliverer(SubscriptionStore* store, const Clock* clock, DeliveryOptions options = {});
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  void Start();
  void Stop();
  // Makes an idle thread look for due rows now instead of at its next poll.
  void Wake();
  // Claims and delivers one batch; returns the number of rows delivered.
  Result<int64_t> RunOnce();

  int64_t delivered_total() const { return delivered_.load(); }
  int64_t failed_posts_total() const { return failed_.load(); }

 private:
  int64_t Backoff(int64_t consecutive_failures);

  SubscriptionStore* store_;
  const Clock* clock_;
  DeliveryOptions options_;
  WebhookClient client_;
  std::atomic<int64_t> delivered_{0};
  std::atomic<int64_t> failed_{0};
  uint64_t jitter_state_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  int queued_listener_ = -1;  // while started
  std::thread thread_;
};

}  // namespace tl::subscriptions
