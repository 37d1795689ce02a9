// Test support (built only with the tests): a real SMTP server on an ephemeral loopback port that
// records what it receives, and a parser for the received messages.
//
// It speaks enough of RFC 5321 for the mail module and its tests: EHLO/HELO, optional STARTTLS
// (with a self-signed certificate made by MakeSelfSignedCertificate) and AUTH PLAIN, MAIL, RCPT,
// DATA with dot-unstuffing, RSET, NOOP, QUIT. Replies can be scripted (451 or 550 at the end of
// DATA, a rejected recipient), and it can stay silent to test timeouts and stopping.
//
// Thread-safety: one accept thread plus one thread per connection; the accessors are safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tl::mail::testing {

struct SinkMessage {
  std::string mail_from;
  std::string mail_params;  // after the address, e.g. "BODY=8BITMIME"
  std::string rcpt;
  std::string data;         // dot-unstuffed, CRLF line ends, without the final "."
  bool tls = false;
  std::string auth_user;
};

struct SinkOptions {
  bool eight_bit_mime = true;
  std::string auth_user, auth_password;   // require AUTH PLAIN when set
  std::string tls_cert_pem, tls_key_pem;  // offer STARTTLS when set
  int data_delay_ms = 0;                  // wait before answering the end of DATA
  bool silent = false;                    // accept connections, never say anything
};

class SmtpSink {
 public:
  explicit SmtpSink(SinkOptions options = {});
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  uint16_t port() const { return port_; }
  // Codes for the end of DATA, used in order (a message answered with a code other than 2xx is not
  // recorded); once used up, 250.
  void QueueDataReplies(std::vector<int> codes);
  // RCPT TO:<address> is answered with `code`.
  void RejectRecipient(const std::string& address, int code);

  std::vector<SinkMessage> Messages() const;
  bool WaitForMessages(size_t n, int timeout_ms) const;
  bool WaitForConnections(int n, int timeout_ms) const;
  int connections() const { return connections_.load(); }
  int data_attempts() const { return data_attempts_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  SinkOptions options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, data_attempts_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SinkMessage> messages_;
  std::deque<int> data_replies_;
  std::map<std::string, int> rejected_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// A received message, parsed: headers unfolded (lower-case names), the Subject with its RFC 2047
// encoded-words decoded, and the body decoded from its Content-Transfer-Encoding.
struct ParsedMessage {
  std::map<std::string, std::string> headers;
  std::string subject;
  std::string body;  // LF line ends
};
ParsedMessage ParseMessage(const std::string& data);
std::string DecodeBase64(std::string_view in);

// A self-signed certificate (EC P-256) for 127.0.0.1, valid for a day; PEM.
bool MakeSelfSignedCertificate(std::string* cert_pem, std::string* key_pem);

}  // namespace tl::mail::testing
