// SMTP client (RFC 5321) for the mail module's sender: one session over TCP, optionally TLS.
//
// Contract. SmtpSession::Open() connects (with a timeout), reads the greeting, says EHLO (HELO if
// EHLO is refused), upgrades with STARTTLS when the settings ask for it (or the server offers it, in
// `auto` mode) or starts with TLS (`tls`, port 465), says EHLO again and authenticates with AUTH
// PLAIN when a user is configured (never in clear text except to a loopback server). Send() then
// delivers one message per call: MAIL FROM, RCPT TO, DATA with the message rendered by
// RenderMessage() and dot-stuffed. A 2xx reply is success, 4xx (and any network error or timeout)
// is retryable, 5xx is permanent; after a failed transaction the session sends RSET and stays
// usable unless the connection broke (usable() says so). Every read and write has a deadline
// (settings.timeout_ms) and watches `cancel`, so a stop request interrupts a session within ~0.1 s.
//
// Messages are text/plain UTF-8. Header words with non-ASCII text (the Subject, the sender's display
// name) are RFC 2047 encoded-words (UTF-8, base64). The body travels as 8bit when the server offers
// 8BITMIME and no line is longer than 998 octets, otherwise as base64.
//
// Thread-safety: a session belongs to one thread. The free functions are pure.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tl::mail {

struct SmtpSettings {
  std::string host;
  int port = 25;
  std::string from;        // envelope sender and From: address
  std::string from_name;   // display name in From: (UTF-8), optional
  std::string user;        // AUTH PLAIN when non-empty
  std::string password;
  std::string tls = "auto";  // auto (STARTTLS when offered) | starttls (required) | tls (implicit) | off
  std::string ca_file;       // extra trusted CA certificates (PEM), besides the system's
  std::string helo;          // EHLO name; empty: this machine's host name
  int timeout_ms = 60000;    // per command
};

// Checks a settings value set before the first session (host, from, tls mode).
Status ValidateSettings(const SmtpSettings& settings);

enum class Outcome { kSent, kRetry, kPermanent };

struct SendResult {
  Outcome outcome = Outcome::kRetry;
  std::string detail;  // the server's reply ("250 2.0.0 queued as ...") or the error
  bool ok() const { return outcome == Outcome::kSent; }
};

struct OutgoingMessage {
  std::string to;
  std::string subject;
  std::string body;        // text, UTF-8; line ends are normalised to CRLF
  std::string message_id;  // "<unique@domain>"
  int64_t date_ms = 0;     // Unix ms, rendered in the Date: header
};

// RFC 2047 encoded-words ("=?UTF-8?B?...?=") for `text`, each at most 75 characters, split on
// character boundaries and folded with CRLF SP. Returns `text` unchanged when it is short printable ASCII.
std::string EncodeHeaderText(std::string_view text);
std::string Base64(std::string_view bytes);
// Doubles a leading '.' on every line (RFC 5321 4.5.2); `data` has CRLF line ends.
std::string DotStuff(std::string_view data);
// The whole message (headers and body, CRLF line ends), not dot-stuffed.
std::string RenderMessage(const SmtpSettings& settings, const OutgoingMessage& message, bool eight_bit);
// "Wed, 18 Nov 2026 07:06:40 +0000"
std::string FormatRfc5322Date(int64_t unix_ms);

class SmtpSession {
 public:
  // `cancel` (optional) is polled during I/O; when it becomes true, the session fails with kRetry.
  explicit SmtpSession(SmtpSettings settings, const std::atomic<bool>* cancel = nullptr);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  SendResult Open();
  SendResult Send(const OutgoingMessage& message);
  void Quit();  // polite QUIT and close; safe to call twice
  bool usable() const;
  bool encrypted() const;
  // EHLO keywords (upper case) and their parameters, e.g. {"AUTH", "PLAIN LOGIN"}.
  const std::map<std::string, std::string>& extensions() const { return extensions_; }

 private:
  struct Reply {
    int code = 0;
    std::string text;  // all lines, joined by " / "
  };
  class Connection;

  Result<Reply> Command(const std::string& line);  // sends line + CRLF, reads the reply
  Result<Reply> ReadReply();
  Status Ehlo();
  SendResult Fail(const Status& io);                // a broken connection: retry, session unusable
  SendResult FromReply(const std::string& step, const Reply& reply);  // 4xx retry, 5xx permanent
  void Reset();                                     // RSET after a failed transaction

  SmtpSettings settings_;
  const std::atomic<bool>* cancel_;
  std::unique_ptr<Connection> conn_;
  std::map<std::string, std::string> extensions_;
  bool broken_ = false;
};

}  // namespace tl::mail
