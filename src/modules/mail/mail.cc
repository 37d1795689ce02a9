#include "modules/mail/mail.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "core/crypto.h"
#include "core/text.h"
#include "core/thread_name.h"

namespace tl::mail {
namespace {

constexpr const char* kColumns =
    "id, recipient, subject, body, message_key, created_at, attempts, next_attempt_at, sent_at, failed_at, "
    "last_error, claimed_until";

std::optional<int64_t> OptInt(const storage::Row& r, size_t i) {
  return r.IsNull(i) ? std::nullopt : std::optional<int64_t>(r.Int(i));
}

OutboxMessage FromRow(const storage::Row& r) {
  OutboxMessage m;
  m.id = r.Int(0);
  m.recipient = r.Text(1);
  m.subject = r.Text(2);
  m.body = r.Text(3);
  m.message_key = r.Text(4);
  m.created_at = r.Int(5);
  m.attempts = r.Int(6);
  m.next_attempt_at = OptInt(r, 7);
  m.sent_at = OptInt(r, 8);
  m.failed_at = OptInt(r, 9);
  m.last_error = r.OptText(10);
  m.claimed_until = OptInt(r, 11);
  return m;
}

// Server replies and socket errors may hold any bytes; keep printable ASCII (the database wants UTF-8).
std::string CleanError(const std::string& e) {
  std::string out;
  for (char c : e.substr(0, 1000)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u == '\n' || (u >= 0x20 && u < 0x7f)) ? c : '?';
  }
  return out;
}

// A JSON string literal, for the structured log lines.
std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (char c : CleanError(v)) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string DefaultOwner() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + crypto::RandomToken(6);
}

}  // namespace

std::vector<storage::Migration> Outbox::Migrations() {
  return {{600, "e-mail outbox",
           "CREATE TABLE mail_outbox (id {{ID}}, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, "
           "message_key TEXT NOT NULL, created_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
           "next_attempt_at BIGINT, sent_at BIGINT, failed_at BIGINT, last_error TEXT, claimed_until BIGINT, "
           "claimed_by TEXT);"
           "CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;"
           "CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;"
           "CREATE INDEX mail_outbox_failed ON mail_outbox (failed_at) WHERE failed_at IS NOT NULL;"}};
}

Status Outbox::ValidateAddress(std::string_view a) {
  const char* field = "to";
  if (a.size() < 3 || a.size() > 254) return InvalidArgument("is not an e-mail address", field);
  if (!text::IsValidUtf8(a)) return InvalidArgument("is not valid UTF-8", field);
  auto at = a.find('@');
  if (at == std::string_view::npos || at != a.rfind('@') || at == 0 || at > 64 || at + 1 == a.size()) {
    return InvalidArgument("is not an e-mail address (local@domain)", field);
  }
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || std::string_view("<>()[],;:\"\\").find(static_cast<char>(c)) != std::string_view::npos) {
      return InvalidArgument("is not an e-mail address (spaces, controls or <>()[],;:\"\\ are not allowed)", field);
    }
  }
  std::string_view domain = a.substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return InvalidArgument("has no valid domain", field);
  }
  for (unsigned char c : domain) {
    if (!(std::isalnum(c) || c == '-' || c == '.' || c >= 0x80)) return InvalidArgument("has no valid domain", field);
  }
  return Status::Ok();
}

Result<int64_t> Outbox::Enqueue(storage::Session& s, const std::string& to, const std::string& subject,
                                const std::string& body) const {
  TL_RETURN_IF_ERROR(ValidateAddress(to));
  if (!text::IsValidUtf8(subject) || subject.find('\0') != std::string::npos) {
    return InvalidArgument("is not valid UTF-8 text", "subject");
  }
  if (!text::IsValidUtf8(body) || body.find('\0') != std::string::npos) {
    return InvalidArgument("is not valid UTF-8 text", "body");
  }
  std::string clean_subject = subject;
  for (char& c : clean_subject) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  clean_subject = std::string(text::Trim(clean_subject));
  if (clean_subject.empty()) return InvalidArgument("is required", "subject");
  int64_t now = clock_->NowMillis();
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("INSERT INTO mail_outbox (recipient, subject, body, message_key, created_at, "
                                       "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id",
                                       {to, clean_subject, body, crypto::RandomToken(18), now, now}));
  return rs.rows.at(0).Int(0);
}

Result<std::vector<OutboxMessage>> Outbox::Claim(const std::string& owner, int limit, int64_t lease_ms) const {
  std::vector<OutboxMessage> out;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    // The inner SELECT picks due rows; on PostgreSQL it locks them and skips rows another sender is
    // claiming right now. The outer WHERE repeats the condition, so a row whose claim committed while
    // this statement waited is re-checked (and left alone) rather than claimed twice.
    std::string due = "next_attempt_at IS NOT NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)";
    std::string sql = "UPDATE mail_outbox SET claimed_until = ?, claimed_by = ? WHERE id IN (SELECT id FROM mail_outbox WHERE " +
                      due + " ORDER BY next_attempt_at, id LIMIT ?" +
                      (s.dialect() == storage::Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "") + ") AND " + due +
                      " RETURNING " + kColumns;
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(sql, {now + lease_ms, owner, now, now, int64_t{limit}, now, now}));
    for (const auto& r : rs.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<bool> Outbox::MarkSent(const std::string& owner, int64_t id) const {
  int64_t changed = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(changed, s.Exec("UPDATE mail_outbox SET sent_at = ?, attempts = attempts + 1, next_attempt_at = NULL, "
                                        "claimed_until = NULL, claimed_by = NULL WHERE id = ? AND claimed_by = ?",
                                        {clock_->NowMillis(), id, owner}));
    return Status::Ok();
  }));
  return changed == 1;
}

Result<bool> Outbox::MarkFailed(const std::string& owner, int64_t id, const std::string& error,
                                std::optional<int64_t> next_attempt_at) const {
  int64_t changed = 0;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(changed, s.Exec("UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                                        "failed_at = ?, claimed_until = NULL, claimed_by = NULL "
                                        "WHERE id = ? AND claimed_by = ?",
                                        {CleanError(error),
                                         next_attempt_at ? storage::Value(*next_attempt_at) : storage::Null(),
                                         next_attempt_at ? storage::Null() : storage::Value(now), id, owner}));
    return Status::Ok();
  }));
  return changed == 1;
}

Status Outbox::Release(const std::string& owner, int64_t id) const {
  return db_->Write([&](storage::Session& s) -> Status {
    return s.Exec("UPDATE mail_outbox SET claimed_until = NULL, claimed_by = NULL WHERE id = ? AND claimed_by = ?",
                  {id, owner})
        .status();
  });
}

Result<OutboxMessage> Outbox::Get(int64_t id) const {
  std::optional<OutboxMessage> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM mail_outbox WHERE id = ?", {id}));
    if (!rs.empty()) out = FromRow(rs.rows[0]);
    return Status::Ok();
  }));
  if (!out) return NotFound("no e-mail " + std::to_string(id) + " in the outbox");
  return *out;
}

Result<std::vector<OutboxMessage>> Outbox::List(const std::string& which, int limit) const {
  std::string where;
  if (which == "pending") where = "next_attempt_at IS NOT NULL";
  else if (which == "failed") where = "failed_at IS NOT NULL";
  else if (which == "sent") where = "sent_at IS NOT NULL";
  else return InvalidArgument("must be pending, failed or sent", "which");
  std::vector<OutboxMessage> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM mail_outbox WHERE " + where +
                                             " ORDER BY id DESC LIMIT ?",
                                         {int64_t{limit}}));
    for (const auto& r : rs.rows) out.push_back(FromRow(r));
    return Status::Ok();
  }));
  return out;
}

Result<OutboxCounts> Outbox::Counts() const {
  OutboxCounts c;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto p, s.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0), "
                                        "MIN(created_at) FROM mail_outbox WHERE next_attempt_at IS NOT NULL"));
    c.pending = p.rows.at(0).Int(0);
    c.retrying = p.rows.at(0).Int(1);
    c.oldest_pending_created_at = OptInt(p.rows.at(0), 2);
    TL_ASSIGN_OR_RETURN(auto f, s.Query("SELECT COUNT(*) FROM mail_outbox WHERE failed_at IS NOT NULL"));
    c.failed = f.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return c;
}

Result<int64_t> Outbox::PendingCount() const {
  int64_t n = 0;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM mail_outbox WHERE next_attempt_at IS NOT NULL"));
    n = rs.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return n;
}

Result<bool> Outbox::Retry(int64_t id) const {
  int64_t changed = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(changed, s.Exec("UPDATE mail_outbox SET failed_at = NULL, attempts = 0, next_attempt_at = ? "
                                        "WHERE id = ? AND failed_at IS NOT NULL",
                                        {clock_->NowMillis(), id}));
    return Status::Ok();
  }));
  return changed == 1;
}

Result<int64_t> Outbox::PurgeSent(int64_t before_ms) const {
  int64_t n = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(n, s.Exec("DELETE FROM mail_outbox WHERE sent_at IS NOT NULL AND sent_at < ?", {before_ms}));
    return Status::Ok();
  }));
  return n;
}

// ---------------------------------------------------------------------------------------------

Sender::Sender(const Outbox* outbox, const Clock* clock, SenderOptions options)
    : outbox_(outbox), clock_(clock), options_(std::move(options)) {
  if (options_.owner.empty()) options_.owner = DefaultOwner();
  options_.batch = std::max(1, options_.batch);
  options_.max_attempts = std::max(1, options_.max_attempts);
}

Sender::~Sender() { Stop(); }

void Sender::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    NameThisThread("tl-mail");
    Loop();
  });
}

void Sender::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lk(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sender::Wake() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

int64_t Sender::Backoff(int64_t failed_attempts) const {
  int64_t n = std::max<int64_t>(1, failed_attempts);
  if (n > 40) return options_.backoff_max_ms;
  int64_t d = options_.backoff_base_ms;
  for (int64_t i = 1; i < n && d < options_.backoff_max_ms; ++i) d *= 2;
  return std::min(d, options_.backoff_max_ms);
}

void Sender::Loop() {
  spdlog::info(R"("msg":"mail sender started","smtp":"{}:{}","owner":"{}")", options_.smtp.host, options_.smtp.port,
               options_.owner);
  while (!stop_) {
    auto n = RunOnce();
    if (!n.ok()) spdlog::warn(R"("msg":"mail sender: storage error","error":"{}")", n.status().message());
    if (n.ok() && *n >= options_.batch && !stop_) continue;  // more may be due
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(options_.poll_ms), [this] { return stop_.load() || wake_; });
    wake_ = false;
  }
  spdlog::info(R"("msg":"mail sender stopped","sent":{},"retried":{},"failed":{})", sent_.load(), retried_.load(),
               failed_.load());
}

Status Sender::Conclude(const OutboxMessage& m, const SendResult& r) {
  if (r.ok()) {
    TL_ASSIGN_OR_RETURN(bool mine, outbox_->MarkSent(options_.owner, m.id));
    sent_++;
    if (!mine) spdlog::warn(R"("msg":"mail sent after its claim expired","id":{})", m.id);
    spdlog::info(R"("msg":"mail sent","id":{},"attempt":{},"reply":{})", m.id, m.attempts + 1,
                 Quote(r.detail));
    return Status::Ok();
  }
  int64_t attempts = m.attempts + 1;
  bool give_up = r.outcome == Outcome::kPermanent || attempts >= options_.max_attempts;
  std::optional<int64_t> next;
  if (!give_up) next = clock_->NowMillis() + Backoff(attempts);
  TL_ASSIGN_OR_RETURN(bool mine, outbox_->MarkFailed(options_.owner, m.id, r.detail, next));
  (void)mine;
  if (give_up) {
    failed_++;
    spdlog::warn(R"("msg":"mail given up","id":{},"attempts":{},"error":{})", m.id, attempts,
                 Quote(r.detail));
  } else {
    retried_++;
    spdlog::info(R"("msg":"mail will be retried","id":{},"attempts":{},"in_s":{},"error":{})", m.id, attempts,
                 Backoff(attempts) / 1000, Quote(r.detail));
  }
  return Status::Ok();
}

Result<int> Sender::RunOnce() {
  int64_t now = clock_->NowMillis();
  if (now - last_purge_ms_ >= 3600'000) {
    last_purge_ms_ = now;
    auto purged = outbox_->PurgeSent(now - options_.keep_sent_ms);
    if (purged.ok() && *purged > 0) spdlog::info(R"("msg":"sent mail purged","count":{})", *purged);
  }
  TL_ASSIGN_OR_RETURN(auto batch, outbox_->Claim(options_.owner, options_.batch, options_.lease_ms));
  if (batch.empty()) return 0;
  // Stop using the claims well before they expire, so no other sender can take a row we are sending.
  int64_t margin = std::min<int64_t>(options_.lease_ms / 2, 3LL * options_.smtp.timeout_ms);
  int64_t finish_by = now + options_.lease_ms - margin;
  std::string domain = options_.smtp.from.substr(options_.smtp.from.rfind('@') + 1);
  Status first_error;

  SmtpSession session(options_.smtp, &stop_);
  SendResult open = stop_ ? SendResult{Outcome::kRetry, "stopped"} : session.Open();
  for (const auto& m : batch) {
    Status st;
    if (stop_ || (open.ok() && (!session.usable() || clock_->NowMillis() > finish_by))) {
      st = outbox_->Release(options_.owner, m.id);  // not attempted: no attempt is counted
    } else if (!open.ok()) {
      // Connecting, TLS or authentication failed: not the message's fault, so always retryable.
      st = Conclude(m, {Outcome::kRetry, "SMTP session: " + open.detail});
    } else {
      OutgoingMessage out{m.recipient, m.subject, m.body, "<" + m.message_key + "@" + domain + ">", m.created_at};
      SendResult r = session.Send(out);
      if (stop_ && r.outcome == Outcome::kRetry) st = outbox_->Release(options_.owner, m.id);
      else st = Conclude(m, r);
    }
    if (!st.ok() && first_error.ok()) first_error = st;
  }
  session.Quit();
  if (!first_error.ok()) return first_error;
  return static_cast<int>(batch.size());
}

}  // namespace tl::mail
