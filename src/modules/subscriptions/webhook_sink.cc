#include "modules/subscriptions/webhook_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace tl::testing {

bool WebhookSink::Start(uint16_t port) {
  Stop();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return false;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  running_ = true;
  acceptor_ = std::thread([this] {
    while (running_) {
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (!running_) break;
        continue;
      }
      std::lock_guard lock(mu_);
      connections_.push_back(c);
      workers_.emplace_back([this, c] { Serve(c); });
    }
  });
  return true;
}

void WebhookSink::Stop() {
  if (!running_.exchange(false)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  listen_fd_ = -1;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int c : connections_) ::shutdown(c, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  std::lock_guard lock(mu_);
  for (int c : connections_) ::close(c);
  connections_.clear();
}

void WebhookSink::Serve(int fd) {
  std::string buf;
  char chunk[65536];
  while (true) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, head_end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t length = 0;
    if (auto p = lower.find("content-length:"); p != std::string::npos) {
      length = std::stoul(lower.substr(p + 15));
    }
    while (buf.size() < head_end + 4 + length) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string body = buf.substr(head_end + 4, length);
    buf.erase(0, head_end + 4 + length);
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(std::move(body));
      arrivals_.push_back(std::chrono::steady_clock::now());
    }
    cv_.notify_all();
    static constexpr char kReply[] = "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n";
    if (::send(fd, kReply, sizeof kReply - 1, MSG_NOSIGNAL) < 0) return;
  }
}

std::vector<std::string> WebhookSink::Bodies() const {
  std::lock_guard lock(mu_);
  return bodies_;
}

std::vector<std::chrono::steady_clock::time_point> WebhookSink::Arrivals() const {
  std::lock_guard lock(mu_);
  return arrivals_;
}

size_t WebhookSink::Count() const {
  std::lock_guard lock(mu_);
  return bodies_.size();
}

bool WebhookSink::WaitFor(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return bodies_.size() >= n; });
}

}  // namespace tl::testing
