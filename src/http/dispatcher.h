// The request pipeline every HTTP request goes through, independent of the socket layer.
//
// Dispatcher::Handle: assigns a request id, parses and validates the target (percent-decoding,
// UTF-8), matches the route table (404/405 as problems), enforces the body limit (413), resolves
// the bearer token through the Authenticator, checks the route's Access (401/403), calls the
// handler, audits reads of personal data through the AccessAuditor, converts errors to
// problem+json, adds security headers, records metrics and writes one JSON access-log line.
// Paths outside /api that match no route are served from StaticFiles (single-page-app fallback).
// It never throws: a handler's exception becomes a 500 problem and is logged with the request id.
//
// Thread-safety: routes are added before serving; Handle() is then safe from any number of threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "http/http.h"
#include "http/metrics.h"

namespace tl::http {

class StaticFiles;

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Resolves a bearer token to the caller; Unauthenticated for unknown, expired or revoked tokens.
  virtual Result<Principal> Authenticate(std::string_view token) = 0;
};

class AccessAuditor {
 public:
  virtual ~AccessAuditor() = default;
  // Records a successful read of personal data. A failure fails the request (no unaudited reads).
  virtual Status RecordRead(const Request& req) = 0;
};

struct RawRequest {
  std::string method;
  std::string target;  // "/api/v1/procedures?q=x"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string client_ip;
  bool over_capacity = false;  // more connections open than allowed
};

struct DispatcherOptions {
  size_t max_json_body = 1 << 20;
  size_t max_upload_body = 20 << 20;
  bool access_log = true;
  // Serve routes marked `quick` on the I/O thread. Right for an embedded store, whose reads take
  // microseconds; wrong for a networked one, where each read is a round trip the I/O thread would
  // wait out.
  bool quick_routes_inline = true;
};

class Dispatcher {
 public:
  Dispatcher(DispatcherOptions options, Metrics* metrics);
  ~Dispatcher();

  void SetAuthenticator(Authenticator* a) { authenticator_ = a; }
  void SetAuditor(AccessAuditor* a) { auditor_ = a; }
  void SetStaticFiles(std::shared_ptr<const StaticFiles> files) { static_files_ = std::move(files); }
  // Fails on a duplicate method+pattern.
  Status AddRoutes(std::vector<Route> routes);
  const std::vector<Route>& routes() const { return routes_; }

  // Answers a request: `send` gets the finished response, on this thread or, when the handler
  // deferred it (Response::Later), on whichever thread completes it.
  void Handle(RawRequest raw, std::function<void(Response)> send);
  // The same, waiting for the response (tests and tools).
  Response Handle(RawRequest raw);
  // True when the request may be handled on the socket's own I/O thread: a GET of a route marked
  // `quick` or of a static file. The socket layer hands every other request to its handler pool.
  bool IsQuick(std::string_view method, std::string_view target) const;
  void SetDraining(bool d) { draining_ = d; }
  const DispatcherOptions& options() const { return options_; }

 private:
  struct Compiled;
  template <typename Segments>
  int Match(const Segments& segs, Method method, bool* path_matched, std::string* allow) const;
  Response Dispatch(Request& req, const RawRequest& raw, std::string* route_label);
  Response RouteOutcome(Request& req, const std::string& pattern, Result<Response> result) const;
  struct InFlight;
  void Finish(InFlight& f, Response resp) const;
  Result<Response> RunRoute(const Route& route, Request& req);

  DispatcherOptions options_;
  Metrics* metrics_;
  Authenticator* authenticator_ = nullptr;
  AccessAuditor* auditor_ = nullptr;
  std::shared_ptr<const StaticFiles> static_files_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // per route
  std::atomic<bool> draining_{false};
};

// Percent-decodes a path or query component; `plus_is_space` for query strings.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space, std::string_view field);

}  // namespace tl::http
