// Test support: a real HTTP/1.1 server on a loopback port that records the bodies POSTed to it
// (keep-alive, Content-Length bodies only), answers 204, and can be stopped and started again on
// the same port (a webhook that restarts).
//
// Thread-safety: Start/Stop from one thread; Bodies()/Count()/WaitFor() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tl::testing {

class WebhookSink {
 public:
  WebhookSink() = default;
  ~WebhookSink() { Stop(); }
  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;

  // Listens on 127.0.0.1:`port` (0: an ephemeral port). Returns false on failure.
  bool Start(uint16_t port = 0);
  // Closes the listener and every connection.
  void Stop();
  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/notify") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<std::string> Bodies() const;
  // When each body arrived (complete), in the same order as Bodies().
  std::vector<std::chrono::steady_clock::time_point> Arrivals() const;
  size_t Count() const;
  // Waits until at least `n` bodies were received.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout) const;

 private:
  void Serve(int fd);
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> running_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> bodies_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::vector<int> connections_;
  std::vector<std::thread> workers_;
};

}  // namespace tl::testing
