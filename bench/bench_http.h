// A minimal blocking HTTP/1.1 client for the benchmark programs: one keep-alive connection to a
// loopback port, requests with Content-Length bodies, answers read by Content-Length. Not for
// chunked answers. Thread-safety: one Connection per thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// A TCP connection to 127.0.0.1:port with Nagle off; -1 (and perror) when it cannot connect.
inline int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    perror("connect");
    close(fd);
    return -1;
  }
  return fd;
}

// Takes one complete answer (read by Content-Length) off the front of `buf`: its status and body;
// nullopt while `buf` holds less than a whole answer.
inline std::optional<std::pair<int, std::string>> TakeAnswer(std::string& buf) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  size_t cl = 0;
  auto p = buf.find("Content-Length: ");
  if (p == std::string::npos || p > end) p = buf.find("content-length: ");
  if (p != std::string::npos && p < end) cl = std::stoul(buf.substr(p + 16));
  if (buf.size() < end + 4 + cl) return std::nullopt;
  std::pair<int, std::string> answer{std::stoi(buf.substr(9, 3)), buf.substr(end + 4, cl)};
  buf.erase(0, end + 4 + cl);
  return answer;
}

class Connection {
 public:
  explicit Connection(int port) : port_(port) { Open(); }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  // Returns status and body; reopens once on a dropped connection.
  std::pair<int, std::string> Request(const std::string& method, const std::string& path, const std::string& body,
                                      const std::string& token, const std::string& extra_headers = "") {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
      req += extra_headers;  // each ending in \r\n
      if (!body.empty() || method == "POST") {
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      }
      req += "\r\n" + body;
      if (Send(req)) {
        auto r = Read();
        if (r.first) return r;
      }
      close(fd_);
      Open();
    }
    return {0, ""};
  }

 private:
  void Open() {
    fd_ = ConnectLoopback(port_);
    buf_.clear();
  }
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  std::pair<int, std::string> Read() {
    while (true) {
      if (auto answer = TakeAnswer(buf_)) return std::move(*answer);
      char tmp[65536];
      ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return {0, ""};
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  int port_;
  int fd_ = -1;
  std::string buf_;
};

// The id of the n-th benchmark entity (ngsild_bench loads them, notify_bench updates them).
inline std::string EntityId(int n) {
  char buf[64];
  snprintf(buf, sizeof buf, "urn:ngsi-ld:AirQualityObserved:B-%06d", n);
  return buf;
}

inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace bench
