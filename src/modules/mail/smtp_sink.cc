#include "modules/mail/smtp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tl::mail::testing {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One connection's transport: plain, then possibly TLS after STARTTLS.
class Io {
 public:
  Io(int fd, const std::atomic<bool>* stop) : fd_(fd), stop_(stop) {
    timeval tv{0, 100 * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Io() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    ::close(fd_);
  }

  bool Write(const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      int n = ssl_ ? SSL_write(ssl_, s.data() + done, static_cast<int>(s.size() - done))
                   : static_cast<int>(send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL));
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // False on close, error or stop.
  bool ReadLine(std::string* line) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
      if (stop_->load() || std::chrono::steady_clock::now() > deadline) return false;
      char tmp[4096];
      int n;
      if (ssl_) {
        n = SSL_read(ssl_, tmp, sizeof tmp);
        if (n <= 0) {
          int e = SSL_get_error(ssl_, n);
          if (e == SSL_ERROR_WANT_READ || (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) continue;
          return false;
        }
      } else {
        n = static_cast<int>(recv(fd_, tmp, sizeof tmp, 0));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n <= 0) return false;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  bool StartTls(const std::string& cert_pem, const std::string& key_pem) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO_free(kb);
    bool ok = cert && key && SSL_CTX_use_certificate(ctx_, cert) == 1 && SSL_CTX_use_PrivateKey(ctx_, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) return false;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    buf_.clear();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && !stop_->load()) {
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
          (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        continue;
      }
      return false;
    }
    return false;
  }

  bool tls() const { return ssl_ != nullptr; }

 private:
  int fd_;
  const std::atomic<bool>* stop_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

// "<a@b> BODY=8BITMIME" -> address, params.
void SplitPath(const std::string& arg, std::string* addr, std::string* params) {
  auto lt = arg.find('<');
  auto gt = arg.find('>');
  if (lt == std::string::npos || gt == std::string::npos || gt < lt) {
    *addr = arg;
    params->clear();
    return;
  }
  *addr = arg.substr(lt + 1, gt - lt - 1);
  *params = gt + 1 < arg.size() ? arg.substr(gt + 1) : "";
  while (!params->empty() && params->front() == ' ') params->erase(0, 1);
}

}  // namespace

std::string DecodeBase64(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) continue;  // line breaks
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

namespace {

// Decodes "=?UTF-8?B?...?=" words; whitespace between adjacent encoded words is dropped (RFC 2047 6.2).
std::string DecodeEncodedWords(const std::string& v) {
  std::string out, pending_space;
  size_t i = 0;
  bool last_was_word = false;
  while (i < v.size()) {
    if (v.compare(i, 2, "=?") == 0) {
      auto q1 = v.find('?', i + 2);
      auto q2 = q1 == std::string::npos ? q1 : v.find('?', q1 + 1);
      auto end = q2 == std::string::npos ? q2 : v.find("?=", q2 + 1);
      if (end != std::string::npos) {
        std::string charset = Upper(v.substr(i + 2, q1 - i - 2));
        std::string enc = Upper(v.substr(q1 + 1, q2 - q1 - 1));
        std::string payload = v.substr(q2 + 1, end - q2 - 1);
        if (!last_was_word) out += pending_space;
        pending_space.clear();
        out += enc == "B" ? DecodeBase64(payload) : payload;
        out += charset == "UTF-8" ? "" : "[charset " + charset + "]";
        i = end + 2;
        last_was_word = true;
        continue;
      }
    }
    if (v[i] == ' ' || v[i] == '\t') {
      pending_space += v[i];
    } else {
      out += pending_space;
      pending_space.clear();
      out += v[i];
      last_was_word = false;
    }
    ++i;
  }
  if (!last_was_word) out += pending_space;
  return out;
}

}  // namespace

ParsedMessage ParseMessage(const std::string& data) {
  ParsedMessage m;
  auto sep = data.find("\r\n\r\n");
  std::string head = data.substr(0, sep);
  std::string body = sep == std::string::npos ? "" : data.substr(sep + 4);
  std::string current;
  auto commit = [&] {
    if (current.empty()) return;
    auto colon = current.find(':');
    std::string name = Lower(current.substr(0, colon));
    std::string value = colon == std::string::npos ? "" : current.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    m.headers[name] = value;
    current.clear();
  };
  size_t pos = 0;
  while (pos <= head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      current += line;  // unfold: drop the CRLF, keep the whitespace
    } else {
      commit();
      current = line;
    }
    pos = end + 2;
  }
  commit();
  m.subject = DecodeEncodedWords(m.headers["subject"]);
  std::string decoded = Lower(m.headers["content-transfer-encoding"]) == "base64" ? DecodeBase64(body) : body;
  for (char c : decoded) {
    if (c != '\r') m.body += c;
  }
  return m;
}

bool MakeSelfSignedCertificate(std::string* cert_pem, std::string* key_pem) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return false;
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext) {
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  bool ok = X509_sign(x, key, EVP_sha256()) > 0;
  BIO* cb = BIO_new(BIO_s_mem());
  BIO* kb = BIO_new(BIO_s_mem());
  ok = ok && PEM_write_bio_X509(cb, x) == 1 && PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (ok) {
    char* p = nullptr;
    long n = BIO_get_mem_data(cb, &p);
    cert_pem->assign(p, static_cast<size_t>(n));
    n = BIO_get_mem_data(kb, &p);
    key_pem->assign(p, static_cast<size_t>(n));
  }
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

SmtpSink::SmtpSink(SinkOptions options) : options_(std::move(options)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 64) != 0) return;
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

SmtpSink::~SmtpSink() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lk(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void SmtpSink::QueueDataReplies(std::vector<int> codes) {
  std::lock_guard<std::mutex> lk(mu_);
  for (int c : codes) data_replies_.push_back(c);
}

void SmtpSink::RejectRecipient(const std::string& address, int code) {
  std::lock_guard<std::mutex> lk(mu_);
  rejected_[address] = code;
}

std::vector<SinkMessage> SmtpSink::Messages() const {
  std::lock_guard<std::mutex> lk(mu_);
  return messages_;
}

bool SmtpSink::WaitForMessages(size_t n, int timeout_ms) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return messages_.size() >= n; });
}

bool SmtpSink::WaitForConnections(int n, int timeout_ms) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return connections_.load() >= n; });
}

void SmtpSink::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lk(mu_);
    connections_++;
    cv_.notify_all();
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void SmtpSink::Serve(int fd) {
  Io io(fd, &stop_);
  if (options_.silent) {
    std::string ignored;
    while (!stop_ && io.ReadLine(&ignored)) {
    }
    while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return;
  }
  if (!io.Write("220 sink.test ESMTP ready\r\n")) return;
  std::string mail_from, params, rcpt, authed;
  bool has_mail = false;
  auto reset = [&] {
    mail_from.clear();
    params.clear();
    rcpt.clear();
    has_mail = false;
  };
  std::string line;
  while (io.ReadLine(&line)) {
    std::string verb = Upper(line.substr(0, line.find(' ')));
    std::string arg = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
    if (verb == "EHLO") {
      reset();
      std::vector<std::string> ext = {"sink.test"};
      if (options_.eight_bit_mime) ext.push_back("8BITMIME");
      if (!options_.tls_cert_pem.empty() && !io.tls()) ext.push_back("STARTTLS");
      if (!options_.auth_user.empty()) ext.push_back("AUTH LOGIN PLAIN");
      ext.push_back("SIZE 10240000");
      std::string reply;
      for (size_t i = 0; i < ext.size(); ++i) reply += "250" + std::string(i + 1 < ext.size() ? "-" : " ") + ext[i] + "\r\n";
      if (!io.Write(reply)) return;
    } else if (verb == "HELO") {
      if (!io.Write("250 sink.test\r\n")) return;
    } else if (verb == "STARTTLS") {
      if (options_.tls_cert_pem.empty() || io.tls()) {
        if (!io.Write("454 TLS not available\r\n")) return;
        continue;
      }
      if (!io.Write("220 go ahead\r\n")) return;
      if (!io.StartTls(options_.tls_cert_pem, options_.tls_key_pem)) return;
      reset();
    } else if (verb == "AUTH") {
      std::string mech = Upper(arg.substr(0, arg.find(' ')));
      std::string token = arg.find(' ') == std::string::npos ? "" : arg.substr(arg.find(' ') + 1);
      std::string expected = std::string(1, '\0') + options_.auth_user + std::string(1, '\0') + options_.auth_password;
      if (mech == "PLAIN" && !options_.auth_user.empty() && DecodeBase64(token) == expected) {
        authed = options_.auth_user;
        if (!io.Write("235 2.7.0 Authentication successful\r\n")) return;
      } else {
        if (!io.Write("535 5.7.8 Authentication credentials invalid\r\n")) return;
      }
    } else if (verb == "MAIL") {
      if (!options_.auth_user.empty() && authed.empty()) {
        if (!io.Write("530 5.7.0 Authentication required\r\n")) return;
        continue;
      }
      SplitPath(arg.substr(arg.find(':') + 1), &mail_from, &params);
      has_mail = true;
      if (!io.Write("250 2.1.0 OK\r\n")) return;
    } else if (verb == "RCPT") {
      std::string addr, ignored;
      SplitPath(arg.substr(arg.find(':') + 1), &addr, &ignored);
      int code = 250;
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (auto it = rejected_.find(addr); it != rejected_.end()) code = it->second;
      }
      if (!has_mail) code = 503;
      if (code == 250) rcpt = addr;
      if (!io.Write(std::to_string(code) + (code == 250 ? " 2.1.5 OK" : " 5.1.1 <" + addr + ">: recipient rejected") +
                    "\r\n")) {
        return;
      }
    } else if (verb == "DATA") {
      if (rcpt.empty()) {
        if (!io.Write("503 5.5.1 RCPT first\r\n")) return;
        continue;
      }
      if (!io.Write("354 End data with <CR><LF>.<CR><LF>\r\n")) return;
      std::string data, l;
      bool complete = false;
      while (io.ReadLine(&l)) {
        if (l == ".") {
          complete = true;
          break;
        }
        if (!l.empty() && l[0] == '.') l.erase(0, 1);
        data += l + "\r\n";
      }
      if (!complete) return;
      data_attempts_++;
      if (options_.data_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.data_delay_ms));
      int code = 250;
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (!data_replies_.empty()) {
          code = data_replies_.front();
          data_replies_.pop_front();
        }
        if (code / 100 == 2) {
          messages_.push_back({mail_from, params, rcpt, data, io.tls(), authed});
          cv_.notify_all();
        }
      }
      std::string text = code / 100 == 2 ? " 2.0.0 queued" : code / 100 == 4 ? " 4.3.0 try again later" : " 5.7.1 rejected";
      if (!io.Write(std::to_string(code) + text + "\r\n")) return;
      reset();
    } else if (verb == "RSET") {
      reset();
      if (!io.Write("250 2.0.0 OK\r\n")) return;
    } else if (verb == "NOOP") {
      if (!io.Write("250 2.0.0 OK\r\n")) return;
    } else if (verb == "QUIT") {
      io.Write("221 2.0.0 Bye\r\n");
      return;
    } else {
      if (!io.Write("500 5.5.2 unknown command\r\n")) return;
    }
  }
}

}  // namespace tl::mail::testing
