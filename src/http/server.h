// The HTTP server: RESTinio on Asio, one server per I/O thread (`workers`), each with its own
// io_context and its own listening socket on the one port (SO_REUSEPORT: the kernel spreads new
// connections over them). The I/O threads parse and write; quick reads are answered on them, and every
// other request goes to a pool of handler threads (handlers block on storage: a durable commit waits
// for its fsync) that run the Dispatcher and complete the response.
//
// Limits: header fields and URL size (RESTinio closes the connection beyond them), body size (the
// Dispatcher answers 413 per route; RESTinio's own hard cap is the upload limit plus 1 MiB), idle and
// slow connections (closed after request_timeout), open connections (requests on connections beyond
// max_connections get 503). Start() binds and returns once listening (port 0 picks a free port;
// port() tells which); it fails when something already listens on the port, another thanglong too. Shutdown() drains:
// new requests get 503, in-flight ones finish, then the server stops.
//
// Thread-safety: Start/Shutdown from one controlling thread; handlers run on the pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/dispatcher.h"

namespace tl::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int workers = 2;           // I/O threads, one server each (the app passes its `workers` setting)
  int handler_threads = 32;  // threads running handlers, which block on storage
  size_t max_header_bytes = 16 * 1024;
  size_t max_url_bytes = 8 * 1024;
  size_t max_body_bytes = 21 << 20;
  std::chrono::seconds request_timeout{30};
  size_t max_connections = 1024;
};

class Server {
 public:
  Server(ServerOptions options, Dispatcher* dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  uint16_t port() const;
  int64_t open_connections() const;
  // Drains for at most `grace`, then stops. Idempotent.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:8080" -> host, port; fails naming `field`.
Status ParseListen(const std::string& listen, std::string* host, uint16_t* port, std::string_view field = "listen");

}  // namespace tl::http
