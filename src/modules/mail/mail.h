// E-mail notifications (thư điện tử): a transactional outbox and the SMTP sender that drains it.
//
// Contract. A module that tells someone something by e-mail calls Outbox::Enqueue() inside the
// storage write transaction of the action that caused it: the message is a row of `mail_outbox`
// that commits or rolls back with the action, so a rolled-back action never sends mail and a
// committed one is sent at least once. A Sender (one background thread, started by `serve` only
// when smtp_host is configured) claims due rows with a lease (claimed_until, claimed_by; on
// PostgreSQL with FOR UPDATE SKIP LOCKED), so several processes over one database never send the
// same row at the same time; sends them over SMTP (smtp_client.h); then marks each sent, or, on a
// 4xx reply, a network error or a timeout, schedules another attempt with exponential backoff,
// and gives up (failed_at, keeping last_error) on a 5xx reply or after max_attempts. A process
// that dies after the SMTP server accepted a message but before marking it may send it again once
// its lease has expired; the Message-ID is fixed at enqueue time, so the copies are recognisable.
// Sent rows are deleted after `keep_sent_ms` (30 days), failed ones are kept until retried or
// deleted by hand (`thanglong mail list --failed`, `thanglong mail retry`).
//
// Thread-safety: Outbox holds no state of its own (all is in the database) and is safe to share.
// A Sender owns one thread: Start() and Stop() from one controlling thread; Stop() is idempotent
// and prompt (it wakes the wait and interrupts SMTP I/O within ~0.1 s). RunOnce() may be called
// instead of Start() (tests, `thanglong mail flush`), but not at the same time as the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "modules/mail/smtp_client.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::mail {

struct OutboxMessage {
  int64_t id = 0;
  std::string recipient;
  std::string subject;
  std::string body;
  std::string message_key;  // the local part of the Message-ID
  int64_t created_at = 0;
  int64_t attempts = 0;
  std::optional<int64_t> next_attempt_at;  // null once sent or given up
  std::optional<int64_t> sent_at;
  std::optional<int64_t> failed_at;        // given up
  std::optional<std::string> last_error;
  std::optional<int64_t> claimed_until;
};

struct OutboxCounts {
  int64_t pending = 0;   // waiting for a first or further attempt
  int64_t retrying = 0;  // of which have failed at least once
  int64_t failed = 0;    // given up
  std::optional<int64_t> oldest_pending_created_at;
};

class Outbox {
 public:
  Outbox(storage::Database* db, const Clock* clock) : db_(db), clock_(clock) {}

  static std::vector<storage::Migration> Migrations();
  // A minimal check of a recipient address: local@domain, no spaces, controls or header syntax.
  static Status ValidateAddress(std::string_view address);

  // Queues a message in the caller's write transaction. `body` is plain UTF-8 text. Returns its id.
  Result<int64_t> Enqueue(storage::Session& s, const std::string& to, const std::string& subject,
                          const std::string& body) const;

  // Claims up to `limit` due, unclaimed (or lease-expired) messages for `owner` until now + lease_ms.
  Result<std::vector<OutboxMessage>> Claim(const std::string& owner, int limit, int64_t lease_ms) const;
  // The outcome of an attempt by `owner`; false when the lease was lost (another sender took it over).
  Result<bool> MarkSent(const std::string& owner, int64_t id) const;
  // Counts a failed attempt: retry at `next_attempt_at`, or give up when nullopt.
  Result<bool> MarkFailed(const std::string& owner, int64_t id, const std::string& error,
                          std::optional<int64_t> next_attempt_at) const;
  // Gives a claimed message back without counting an attempt (stop, or the session broke first).
  Status Release(const std::string& owner, int64_t id) const;

  Result<OutboxMessage> Get(int64_t id) const;
  // `which`: pending | failed | sent; newest first.
  Result<std::vector<OutboxMessage>> List(const std::string& which, int limit) const;
  Result<OutboxCounts> Counts() const;
  Result<int64_t> PendingCount() const;
  // Puts a failed message back in the queue with its attempts reset. False if it is not failed.
  Result<bool> Retry(int64_t id) const;
  // Deletes messages sent before `before_ms`; returns how many.
  Result<int64_t> PurgeSent(int64_t before_ms) const;

 private:
  storage::Database* db_;
  const Clock* clock_;
};

struct SenderOptions {
  SmtpSettings smtp;
  int max_attempts = 8;                        // attempts before giving up (4xx and network errors)
  int64_t backoff_base_ms = 60'000;            // 1 min, 2 min, 4 min, ... after the 1st, 2nd, 3rd failure
  int64_t backoff_max_ms = 6LL * 3600'000;     // at most 6 h between attempts
  int64_t lease_ms = 10LL * 60'000;            // a claim expires after 10 min
  int batch = 10;                              // messages claimed (and sent over one session) at a time
  int64_t poll_ms = 2000;                      // how often an idle sender looks for due messages
  int64_t keep_sent_ms = 30LL * 86400'000;     // sent messages are deleted after 30 days
  std::string owner;                           // claim owner id; empty: host name, pid and a random suffix
};

class Sender {
 public:
  Sender(const Outbox* outbox, const Clock* clock, SenderOptions options);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void Start();
  void Stop();
  void Wake();  // look for due messages now

  // Claims one batch and tries each message once; returns how many were claimed.
  Result<int> RunOnce();

  // The delay before the next attempt after the n-th failed one (n >= 1).
  int64_t Backoff(int64_t failed_attempts) const;

  int64_t sent_total() const { return sent_.load(); }
  int64_t retried_total() const { return retried_.load(); }
  int64_t failed_total() const { return failed_.load(); }
  const std::string& owner() const { return options_.owner; }

 private:
  void Loop();
  Status Conclude(const OutboxMessage& m, const SendResult& r);

  const Outbox* outbox_;
  const Clock* clock_;
  SenderOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> sent_{0}, retried_{0}, failed_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::thread thread_;
  int64_t last_purge_ms_ = 0;
};

}  // namespace tl::mail
