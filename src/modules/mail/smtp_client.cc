#include "modules/mail/smtp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <vector>

namespace tl::mail {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxReplyLine = 8192;
constexpr size_t kMaxReplyLines = 100;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  return inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::string OpenSslError(const char* what) {
  std::string out = what;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += std::string(": ") + buf;
  }
  return out;
}

// Writes through OpenSSL may raise SIGPIPE on a closed socket (it uses write(2)); block it in this
// thread for the duration and swallow a pending one, so a dropped connection is an error, not death.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending_before_);
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    if (!sigismember(&pending_before_, SIGPIPE)) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE)) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        timespec zero{0, 0};
        sigtimedwait(&pipe, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_{}, pending_before_{};
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Encoding helpers

std::string Base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string EncodeHeaderText(std::string_view text) {
  // Control characters (CR and LF above all) never reach a header: they become spaces.
  std::string clean(text);
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (IsAscii(clean) && clean.size() <= 60 && clean.find("=?") == std::string::npos) return clean;
  // 45 octets make 60 base64 characters: "=?UTF-8?B?" + 60 + "?=" is 72, within RFC 2047's 75.
  constexpr size_t kChunk = 45;
  std::string out, chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(chunk) + "?=";
    chunk.clear();
  };
  for (size_t i = 0; i < clean.size();) {
    unsigned char lead = static_cast<unsigned char>(clean[i]);
    size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 1;
    len = std::min(len, clean.size() - i);
    if (chunk.size() + len > kChunk) flush();
    chunk.append(clean, i, len);
    i += len;
  }
  flush();
  return out;
}

std::string DotStuff(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  bool line_start = true;
  for (char c : data) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  return out;
}

std::string FormatRfc5322Date(int64_t unix_ms) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

namespace {

// Splits text into lines (any of CRLF, LF, CR), for re-joining with CRLF.
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(cur);
      cur.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty() || lines.empty()) lines.push_back(cur);
  return lines;
}

bool FitsEightBit(std::string_view body) {
  for (const auto& l : Lines(body)) {
    if (l.size() > 998) return false;
  }
  return body.find('\0') == std::string_view::npos;
}

}  // namespace

std::string RenderMessage(const SmtpSettings& settings, const OutgoingMessage& m, bool eight_bit) {
  std::string out;
  out += "Date: " + FormatRfc5322Date(m.date_ms) + "\r\n";
  if (settings.from_name.empty()) {
    out += "From: " + settings.from + "\r\n";
  } else {
    out += "From: " + EncodeHeaderText(settings.from_name) + " <" + settings.from + ">\r\n";
  }
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + EncodeHeaderText(m.subject) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += std::string("Content-Transfer-Encoding: ") + (eight_bit ? "8bit" : "base64") + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no vacation auto-replies to notifications
  out += "\r\n";
  std::string body;
  for (const auto& l : Lines(m.body)) body += l + "\r\n";
  if (eight_bit) {
    out += body;
  } else {
    std::string b = Base64(body);
    for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  }
  return out;
}

Status ValidateSettings(const SmtpSettings& s) {
  if (s.host.empty()) return InvalidArgument("is required to send e-mail", "smtp_host");
  if (s.port < 1 || s.port > 65535) return InvalidArgument("must be a port number", "smtp_port");
  auto at = s.from.rfind('@');
  if (s.from.empty() || at == std::string::npos || at == 0 || at + 1 == s.from.size() ||
      s.from.find_first_of(" \t\r\n<>,;\"") != std::string::npos) {
    return InvalidArgument("must be the sender's e-mail address (e.g. mot-cua@hanoi.gov.vn) when smtp_host is set",
                           "smtp_from");
  }
  if (s.tls != "auto" && s.tls != "starttls" && s.tls != "tls" && s.tls != "off") {
    return InvalidArgument("must be auto, starttls, tls or off", "smtp_tls");
  }
  if (s.user.find_first_of(std::string("\0", 1)) != std::string::npos ||
      s.password.find_first_of(std::string("\0", 1)) != std::string::npos) {
    return InvalidArgument("must not contain NUL", "smtp_user");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Connection: a TCP socket, optionally wrapped in TLS, with deadlines and cancellation.

class SmtpSession::Connection {
 public:
  Connection(const std::atomic<bool>* cancel, int timeout_ms) : cancel_(cancel), timeout_ms_(timeout_ms) {}
  ~Connection() { Close(); }

  Status Connect(const std::string& host, int port) {
    auto deadline = Deadline();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    if (rc != 0) return Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
    std::string last = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        last = std::strerror(errno);
        continue;
      }
      fd_ = fd;
      if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
          last = std::strerror(errno);
          Close();
          continue;
        }
        Status w = Wait(POLLOUT, deadline);
        int err = 0;
        socklen_t len = sizeof err;
        if (!w.ok()) {
          last = w.message();
          Close();
          if (Cancelled()) break;
          continue;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          last = std::strerror(err);
          Close();
          continue;
        }
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(res);
      return Status::Ok();
    }
    freeaddrinfo(res);
    return Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " + last);
  }

  // TLS over the connected socket (implicit TLS, or after STARTTLS's 220), verifying the server's
  // certificate against the system's CAs (plus settings.ca_file) and its name.
  Status StartTls(const SmtpSettings& s) {
    if (!buf_.empty()) return Unavailable("the server sent data before the TLS handshake");
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return Unavailable(OpenSslError("cannot create a TLS context"));
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx_);
    if (!s.ca_file.empty() && SSL_CTX_load_verify_locations(ctx_, s.ca_file.c_str(), nullptr) != 1) {
      return Unavailable(OpenSslError(("cannot read smtp_ca_file " + s.ca_file).c_str()));
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    if (!ssl_) return Unavailable(OpenSslError("cannot create a TLS session"));
    SSL_set_fd(ssl_, fd_);
    if (IsIpLiteral(s.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), s.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, s.host.c_str());
      SSL_set1_host(ssl_, s.host.c_str());
    }
    auto deadline = Deadline();
    while (true) {
      ERR_clear_error();
      int r = SSL_connect(ssl_);
      if (r == 1) return Status::Ok();
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        TL_RETURN_IF_ERROR(Wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline));
        continue;
      }
      long verify = SSL_get_verify_result(ssl_);
      std::string why = verify != X509_V_OK ? std::string("certificate not trusted: ") +
                                                  X509_verify_cert_error_string(verify)
                                            : OpenSslError("handshake failed");
      SSL_free(ssl_);
      ssl_ = nullptr;
      return Unavailable("TLS with " + s.host + " failed: " + why);
    }
  }

  Status Write(std::string_view data) {
    auto deadline = Deadline();
    size_t done = 0;
    while (done < data.size()) {
      if (Cancelled()) return Unavailable("stopped");
      if (ssl_) {
        SigpipeGuard guard;
        ERR_clear_error();
        int n = SSL_write(ssl_, data.data() + done, static_cast<int>(std::min<size_t>(data.size() - done, 1 << 16)));
        if (n > 0) {
          done += static_cast<size_t>(n);
          continue;
        }
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          TL_RETURN_IF_ERROR(Wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline));
          continue;
        }
        return Unavailable(OpenSslError("the connection broke while sending"));
      }
      ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        TL_RETURN_IF_ERROR(Wait(POLLOUT, deadline));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return Unavailable(std::string("the connection broke while sending: ") + std::strerror(errno));
      }
    }
    return Status::Ok();
  }

  Result<std::string> ReadLine() {
    auto deadline = Deadline();
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (buf_.size() > kMaxReplyLine) return Unavailable("the server's reply line is too long");
      if (Cancelled()) return Unavailable("stopped");
      char tmp[4096];
      if (ssl_) {
        ERR_clear_error();
        int n = SSL_read(ssl_, tmp, sizeof tmp);
        if (n > 0) {
          buf_.append(tmp, static_cast<size_t>(n));
          continue;
        }
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          TL_RETURN_IF_ERROR(Wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline));
          continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN) return Unavailable("the server closed the connection");
        return Unavailable(OpenSslError("the connection broke while reading"));
      }
      ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<size_t>(n));
      } else if (n == 0) {
        return Unavailable("the server closed the connection");
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        TL_RETURN_IF_ERROR(Wait(POLLIN, deadline));
      } else if (errno != EINTR) {
        return Unavailable(std::string("the connection broke while reading: ") + std::strerror(errno));
      }
    }
  }

  void Close() {
    if (ssl_) {
      SSL_free(ssl_);  // no close_notify: the peer may be gone, and QUIT already ended the session
      ssl_ = nullptr;
    }
    if (ctx_) {
      SSL_CTX_free(ctx_);
      ctx_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    buf_.clear();
  }

  bool open() const { return fd_ >= 0; }
  bool tls() const { return ssl_ != nullptr; }

 private:
  SteadyClock::time_point Deadline() const { return SteadyClock::now() + std::chrono::milliseconds(timeout_ms_); }
  bool Cancelled() const { return cancel_ && cancel_->load(); }

  // Waits until the socket is ready for `events`, in slices of 100 ms so a stop request is seen.
  Status Wait(short events, SteadyClock::time_point deadline) {
    while (true) {
      if (Cancelled()) return Unavailable("stopped");
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
      if (left <= 0) return Unavailable("timed out after " + std::to_string(timeout_ms_ / 1000) + " s waiting for the server");
      pollfd p{fd_, events, 0};
      int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
      if (r > 0) return Status::Ok();  // ready, or an error the next read/write reports
      if (r < 0 && errno != EINTR) return Unavailable(std::string("poll: ") + std::strerror(errno));
    }
  }

  const std::atomic<bool>* cancel_;
  int timeout_ms_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

// ---------------------------------------------------------------------------------------------
// Session

SmtpSession::SmtpSession(SmtpSettings settings, const std::atomic<bool>* cancel)
    : settings_(std::move(settings)), cancel_(cancel) {
  if (settings_.helo.empty()) {
    char name[256] = {0};
    if (gethostname(name, sizeof name - 1) == 0 && name[0]) settings_.helo = name;
    else settings_.helo = "localhost";
  }
}

SmtpSession::~SmtpSession() { Quit(); }

bool SmtpSession::usable() const { return conn_ && conn_->open() && !broken_; }
bool SmtpSession::encrypted() const { return conn_ && conn_->tls(); }

SendResult SmtpSession::Fail(const Status& io) {
  broken_ = true;
  if (conn_) conn_->Close();
  return {Outcome::kRetry, io.message()};
}

SendResult SmtpSession::FromReply(const std::string& step, const Reply& r) {
  SendResult out;
  out.detail = step + ": " + std::to_string(r.code) + " " + r.text;
  if (r.code >= 500 && r.code < 600) {
    out.outcome = Outcome::kPermanent;
  } else {
    out.outcome = Outcome::kRetry;
    if (r.code < 400 || r.code >= 500) broken_ = true;  // an unexpected reply: the dialogue is lost
    if (r.code == 421) broken_ = true;                   // the server is closing the channel
  }
  return out;
}

Result<SmtpSession::Reply> SmtpSession::ReadReply() {
  Reply reply;
  for (size_t n = 0;; ++n) {
    if (n >= kMaxReplyLines) return Unavailable("the server's reply has too many lines");
    TL_ASSIGN_OR_RETURN(std::string line, conn_->ReadLine());
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
        !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])) ||
        (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      return Unavailable("not an SMTP reply: " + line.substr(0, 80));
    }
    int code = std::stoi(line.substr(0, 3));
    if (n > 0 && code != reply.code) return Unavailable("inconsistent codes in a multi-line reply");
    reply.code = code;
    std::string text = line.size() > 4 ? line.substr(4) : std::string();
    if (!reply.text.empty()) reply.text += "\n";
    reply.text += text;
    if (line.size() == 3 || line[3] == ' ') return reply;
  }
}

Result<SmtpSession::Reply> SmtpSession::Command(const std::string& line) {
  TL_RETURN_IF_ERROR(conn_->Write(line + "\r\n"));
  return ReadReply();
}

Status SmtpSession::Ehlo() {
  extensions_.clear();
  TL_ASSIGN_OR_RETURN(Reply r, Command("EHLO " + settings_.helo));
  if (r.code == 250) {
    size_t start = 0;
    bool first = true;
    while (start <= r.text.size()) {
      size_t end = r.text.find('\n', start);
      if (end == std::string::npos) end = r.text.size();
      std::string line = r.text.substr(start, end - start);
      if (!first && !line.empty()) {
        auto sp = line.find(' ');
        extensions_[Upper(line.substr(0, sp))] = sp == std::string::npos ? "" : Upper(line.substr(sp + 1));
      }
      first = false;
      start = end + 1;
    }
    return Status::Ok();
  }
  if (r.code >= 500) {  // an old server without ESMTP
    TL_ASSIGN_OR_RETURN(Reply h, Command("HELO " + settings_.helo));
    if (h.code == 250) return Status::Ok();
    return FailedPrecondition("HELO: " + std::to_string(h.code) + " " + h.text);
  }
  return FailedPrecondition("EHLO: " + std::to_string(r.code) + " " + r.text);
}

SendResult SmtpSession::Open() {
  Quit();
  broken_ = false;
  conn_ = std::make_unique<Connection>(cancel_, settings_.timeout_ms);
  Status st = conn_->Connect(settings_.host, settings_.port);
  if (!st.ok()) return Fail(st);
  if (settings_.tls == "tls") {
    st = conn_->StartTls(settings_);
    if (!st.ok()) return Fail(st);
  }
  auto greeting = ReadReply();
  if (!greeting.ok()) return Fail(greeting.status());
  if (greeting->code != 220) {
    auto r = FromReply("greeting", *greeting);
    broken_ = true;
    return r;
  }
  auto ehlo = [&]() -> SendResult {
    Status e = Ehlo();
    if (e.code() == StatusCode::kUnavailable) return Fail(e);
    if (!e.ok()) {
      broken_ = true;
      return {Outcome::kRetry, e.message()};
    }
    return {Outcome::kSent, ""};
  };
  if (auto r = ehlo(); !r.ok()) return r;
  bool offered = extensions_.count("STARTTLS") > 0;
  if (!conn_->tls() && (settings_.tls == "starttls" || (settings_.tls == "auto" && offered))) {
    if (!offered) {
      broken_ = true;
      return {Outcome::kRetry, "the server does not offer STARTTLS (smtp_tls = starttls)"};
    }
    auto r = Command("STARTTLS");
    if (!r.ok()) return Fail(r.status());
    if (r->code != 220) {
      broken_ = true;
      return FromReply("STARTTLS", *r);
    }
    st = conn_->StartTls(settings_);
    if (!st.ok()) return Fail(st);
    if (auto again = ehlo(); !again.ok()) return again;
  }
  if (!settings_.user.empty()) {
    if (!conn_->tls() && !IsLoopback(settings_.host)) {
      broken_ = true;
      return {Outcome::kRetry, "refusing to send the SMTP password without TLS (the server offers no STARTTLS)"};
    }
    auto it = extensions_.find("AUTH");
    if (it == extensions_.end() || (" " + it->second + " ").find(" PLAIN ") == std::string::npos) {
      broken_ = true;
      return {Outcome::kRetry, "the server does not offer AUTH PLAIN"};
    }
    std::string token = Base64(std::string(1, '\0') + settings_.user + std::string(1, '\0') + settings_.password);
    auto r = Command("AUTH PLAIN " + token);
    if (!r.ok()) return Fail(r.status());
    if (r->code != 235) {
      broken_ = true;
      return FromReply("AUTH", *r);
    }
  }
  return {Outcome::kSent, "ready"};
}

void SmtpSession::Reset() {
  if (!usable()) return;
  auto r = Command("RSET");
  if (!r.ok() || r->code != 250) broken_ = true;
}

SendResult SmtpSession::Send(const OutgoingMessage& m) {
  if (!usable()) return {Outcome::kRetry, "no open SMTP session"};
  bool eight_bit = extensions_.count("8BITMIME") > 0 && FitsEightBit(m.body);
  bool utf8_addresses = !IsAscii(m.to) || !IsAscii(settings_.from);
  if (utf8_addresses && extensions_.count("SMTPUTF8") == 0) {
    return {Outcome::kPermanent, "the address is not ASCII and the server does not offer SMTPUTF8"};
  }
  std::string mail = "MAIL FROM:<" + settings_.from + ">";
  if (eight_bit) mail += " BODY=8BITMIME";
  if (utf8_addresses) mail += " SMTPUTF8";
  struct Step {
    std::string name, line;
    int expect;
  };
  for (const Step& step : {Step{"MAIL FROM", mail, 250}, Step{"RCPT TO", "RCPT TO:<" + m.to + ">", 250},
                           Step{"DATA", "DATA", 354}}) {
    auto r = Command(step.line);
    if (!r.ok()) return Fail(r.status());
    bool ok = step.expect == 354 ? r->code == 354 : r->code / 100 == 2;
    if (!ok) {
      SendResult out = FromReply(step.name, *r);
      Reset();
      return out;
    }
  }
  Status st = conn_->Write(DotStuff(RenderMessage(settings_, m, eight_bit)) + ".\r\n");
  if (!st.ok()) return Fail(st);
  auto r = ReadReply();
  if (!r.ok()) return Fail(r.status());
  if (r->code / 100 == 2) return {Outcome::kSent, std::to_string(r->code) + " " + r->text};
  return FromReply("end of DATA", *r);
}

void SmtpSession::Quit() {
  if (!conn_) return;
  if (usable()) {
    auto r = Command("QUIT");
    (void)r;
  }
  conn_->Close();
  conn_.reset();
}

}  // namespace tl::mail
