// HTTP types shared by the server adapter and every module's routes.
//
// A module declares its routes in one table (a std::vector<Route>): method, path pattern with
// {params}, who may call it (Access), the handler and its OpenAPI description. Handlers return
// Result<Response>; a non-OK Status becomes an RFC 9457 problem document in exactly one place
// (problem.cc), so handlers never build error responses themselves.
//
// Thread-safety: Route tables are immutable after start-up; a Request belongs to one worker thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/personal_id.h"
#include "core/status.h"

namespace tl::http {

enum class Method { kGet, kPost, kPut, kPatch, kDelete };
const char* MethodName(Method m);

// Who is calling: resolved from the bearer token by the auth middleware.
struct Principal {
  int64_t user_id = 0;
  std::string username;
  std::string full_name;
  std::string role;                     // citizen, organisation, desk_officer, ...
  std::optional<std::string> agency;    // officials only
  std::optional<std::string> personal_id;  // citizens: their 12-digit personal identification number
  std::optional<std::string> tax_code;     // organisations: their tax code (10 digits, or 10-3)
  std::vector<std::string> scopes;         // API keys (role "integration"): what the key may do
  std::vector<std::string> agencies_in_jurisdiction;  // the agency and every agency under it
  std::vector<std::string> units_in_jurisdiction;     // administrative units those agencies serve
  bool city_wide = false;               // city_admin, or an agency at the city's root
  std::string token_hash;

  bool HasRole(std::string_view r) const { return role == r; }
  // The account's personal id as the registry's integer key (citizens); nullopt without one.
  std::optional<int64_t> PersonalIdNumber() const {
    return personal_id ? PersonalIdValue(*personal_id) : std::nullopt;
  }
  bool HasScope(std::string_view s) const {
    for (const auto& x : scopes) {
      if (x == s) return true;
    }
    return false;
  }
  bool IsOfficial() const { return agency.has_value(); }
  bool CoversAgency(std::string_view agency_code) const;
  bool CoversUnit(std::string_view unit_code) const;
};

struct Request {
  Method method = Method::kGet;
  std::string path;                                  // decoded path, no query
  std::string route_pattern;                         // the matched pattern, for logs and metrics
  std::map<std::string, std::string> path_params;
  std::multimap<std::string, std::string> query;     // decoded, validated UTF-8
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string client_ip;
  std::string request_id;
  std::optional<Principal> principal;

  // First header value by lower-case name.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
  std::optional<std::string> Query(const std::string& name) const;
  const std::string& Param(const std::string& name) const { return path_params.at(name); }
};

// The open end of a streamed response (Response::Streaming): the socket layer owns the connection,
// the module that streams holds this. Thread-safe: Write and Close from any thread.
class Stream {
 public:
  virtual ~Stream() = default;
  // Sends `data` as the next part of the body at once. False when the stream is closed (the client
  // went away, a write failed, or the server is shutting down): stop writing and drop the stream.
  virtual bool Write(std::string data) = 0;
  virtual bool open() const = 0;
  // Ends the body. Idempotent; dropping the last reference closes it too.
  virtual void Close() = 0;
};

struct Response;
// Finishes a response the handler deferred (Response::Later): call it once, from any thread. If every
// copy is dropped without a call, the client gets a 500 problem rather than no answer.
using Reply = std::function<void(Result<Response>)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response NoContent() {
    Response r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  // A response that is not ready yet: the dispatcher calls `start` with a Reply that completes it
  // (problem mapping, headers, metrics) and sends it. For a handler that answers after a durable
  // write without holding its thread (storage::Database::WriteAsync). Not for personal-data routes.
  static Response Later(std::function<void(Reply)> start) {
    Response r;
    r.later = std::move(start);
    return r;
  }
  std::function<void(Reply)> later;

  // A body written over time (server-sent events): the status and headers go out at once with
  // chunked transfer coding, then `open` receives the Stream, on the thread that sent the headers,
  // and may keep it for as long as it likes. The access log and metrics record the opening (status
  // and time to the headers). Open streams are closed when the server shuts down.
  static Response Streaming(std::string content_type, std::function<void(std::shared_ptr<Stream>)> open) {
    Response r;
    r.content_type = std::move(content_type);
    r.stream = std::move(open);
    return r;
  }
  std::function<void(std::shared_ptr<Stream>)> stream;
};

// Access policy checked before the handler runs. Finer checks (jurisdiction over the resource)
// happen in services, which know the resource.
struct Access {
  enum class Kind { kPublic, kAuthenticated, kRoles } kind = Kind::kPublic;
  std::vector<std::string> roles;
  bool personal_data = false;  // reads are audited

  static Access Public() { return {}; }
  static Access Authenticated() { return {Kind::kAuthenticated, {}, false}; }
  static Access Roles(std::vector<std::string> r) { return {Kind::kRoles, std::move(r), false}; }
  Access& PersonalData() {
    personal_data = true;
    return *this;
  }
};

// OpenAPI description of one operation (rendered by openapi.cc).
struct ParamDoc {
  std::string name;
  std::string in;  // "path" | "query"
  std::string description;
  bool required = false;
  std::string type = "string";
};

struct OperationDoc {
  std::string summary;
  std::string tag;
  std::vector<ParamDoc> params;
  std::string request_schema;   // JSON Schema text, empty for none
  std::string response_schema;  // JSON Schema text of the success body, empty for none
  int success_status = 200;
  std::string response_media_type = "application/json";  // "text/event-stream" for a streamed response
};

using Handler = std::function<Result<Response>(Request&)>;

struct Route {
  Method method;
  std::string pattern;  // "/api/v1/procedures/{code}"
  Access access;
  Handler handler;
  OperationDoc doc;
  size_t max_body = 0;  // 0: the server's JSON default
  // Served on the socket's I/O thread, saving two thread hand-offs: a short read that never waits on
  // a commit or a remote party, or a handler that only checks the request and hands its write to the
  // store with Response::Later (answered once durable, from the store's thread). Leave false for
  // anything that waits for a write, scans or calls out.
  bool quick = false;
};

}  // namespace tl::http
