#include "http/dispatcher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "core/text.h"
#include "http/problem.h"
#include "http/static_files.h"

namespace tl::http {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsParam(const std::string& p) { return p.size() >= 2 && p.front() == '{' && p.back() == '}'; }

std::optional<Method> ParseMethod(std::string_view m) {
  if (m == "GET" || m == "HEAD") return Method::kGet;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "PATCH") return Method::kPatch;
  if (m == "DELETE") return Method::kDelete;
  return std::nullopt;
}

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space, std::string_view field) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return InvalidArgument("malformed percent-encoding", std::string(field));
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!text::IsValidUtf8(out) || out.find('\0') != std::string::npos) {
    return InvalidArgument("not valid UTF-8 text", std::string(field));
  }
  return out;
}

Dispatcher::Dispatcher(DispatcherOptions options, Metrics* metrics) : options_(options), metrics_(metrics) {}
Dispatcher::~Dispatcher() = default;

Status Dispatcher::AddRoutes(std::vector<Route> routes) {
  for (auto& r : routes) {
    for (const auto& existing : routes_) {
      if (existing.method == r.method && existing.pattern == r.pattern) {
        return Internal(std::string("duplicate route ") + MethodName(r.method) + " " + r.pattern);
      }
    }
    segments_.push_back(SplitPath(r.pattern));
    routes_.push_back(std::move(r));
  }
  return Status::Ok();
}

template <typename Segments>
int Dispatcher::Match(const Segments& segs, Method method, bool* path_matched, std::string* allow) const {
  int best = -1;
  int best_literals = -1;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const auto& pat = segments_[r];
    if (pat.size() != segs.size()) continue;
    bool match = true;
    int literals = 0;
    for (size_t i = 0; i < pat.size() && match; ++i) {
      if (IsParam(pat[i])) match = !segs[i].empty();
      else if (pat[i] != segs[i]) match = false;
      else ++literals;
    }
    if (!match) continue;
    *path_matched = true;
    if (routes_[r].method != method) {
      if (allow && allow->find(MethodName(routes_[r].method)) == std::string::npos) {
        if (!allow->empty()) *allow += ", ";
        *allow += MethodName(routes_[r].method);
      }
      continue;
    }
    if (literals > best_literals) {
      best = static_cast<int>(r);
      best_literals = literals;
    }
  }
  return best;
}

bool Dispatcher::IsQuick(std::string_view method, std::string_view target) const {
  auto m = ParseMethod(method);
  if (!m) return false;
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path[0] != '/') return true;  // a 400 problem, answered at once
  std::vector<std::string_view> segs;
  for (size_t i = 1; i <= path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    segs.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  bool path_matched = false;
  int r = Match(segs, *m, &path_matched, nullptr);
  if (r >= 0) return routes_[r].quick && options_.quick_routes_inline;
  return path.rfind("/api/", 0) != 0;  // static files, served from memory
}

Result<Response> Dispatcher::RunRoute(const Route& route, Request& req) {
  size_t limit = route.max_body ? route.max_body : options_.max_json_body;
  if (req.body.size() > limit) {
    return Status(StatusCode::kPayloadTooLarge,
                  "the body is " + std::to_string(req.body.size()) + " bytes; this route accepts at most " +
                      std::to_string(limit),
                  "body");
  }
  if (route.access.kind != Access::Kind::kPublic && !req.principal) {
    return Unauthenticated("this route requires a bearer token (POST /api/v1/auth/login)");
  }
  if (route.access.kind == Access::Kind::kRoles) {
    bool allowed = false;
    for (const auto& r : route.access.roles) allowed = allowed || req.principal->role == r;
    if (!allowed) return PermissionDenied("the role '" + req.principal->role + "' may not call this route");
  }
  TL_ASSIGN_OR_RETURN(Response resp, route.handler(req));
  if ((resp.later || resp.stream) && route.access.personal_data) {
    return Internal("a personal-data route may not defer or stream its response");  // its read would go unaudited
  }
  if (route.access.personal_data && resp.status < 400 && auditor_) {
    Status audited = auditor_->RecordRead(req);
    if (!audited.ok()) return Unavailable("the read could not be recorded in the audit log; try again");
  }
  return resp;
}

Response Dispatcher::Dispatch(Request& req, const RawRequest& raw, std::string* route_label) {
  auto problem = [&](const Status& st) { return ProblemResponse(st, req.request_id, req.path); };
  if (draining_) return problem(Unavailable("the server is shutting down"));
  if (raw.over_capacity) return problem(Unavailable("too many open connections; retry shortly"));

  auto method = ParseMethod(raw.method);
  if (!method) return problem(Status(StatusCode::kInvalidArgument, "unsupported method", "method"));
  req.method = *method;

  std::string_view target = raw.target;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (raw_path.empty() || raw_path[0] != '/') return problem(InvalidArgument("malformed request target", "path"));
  auto path = PercentDecode(raw_path, false, "path");
  if (!path.ok()) return problem(path.status());
  req.path = std::move(*path);
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    size_t i = 0;
    while (i <= qs.size()) {
      size_t amp = qs.find('&', i);
      if (amp == std::string_view::npos) amp = qs.size();
      std::string_view pair = qs.substr(i, amp - i);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        auto key = PercentDecode(pair.substr(0, eq), true, "query");
        if (!key.ok()) return problem(key.status());
        auto val = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, *key);
        if (!val.ok()) return problem(val.status());
        req.query.emplace(std::move(*key), std::move(*val));
      }
      i = amp + 1;
    }
  }

  // Authenticate whenever a token is presented, so public routes can still personalise.
  if (auto auth = req.Header("authorization")) {
    std::string_view v = *auth;
    if (v.size() < 7 || (v.substr(0, 7) != "Bearer " && v.substr(0, 7) != "bearer ")) {
      return problem(Status(StatusCode::kUnauthenticated, "the Authorization header must be 'Bearer <token>'"));
    }
    if (!authenticator_) return problem(Internal("no authenticator configured"));
    auto principal = authenticator_->Authenticate(text::Trim(v.substr(7)));
    if (!principal.ok()) return problem(principal.status());
    req.principal = std::move(*principal);
  }

  // The route whose pattern matches with the most literal segments wins, so "/dossiers/counts" beats
  // "/dossiers/{code}" whatever the order of the tables.
  auto segs = SplitPath(req.path);
  bool path_matched = false;
  std::string allow;
  int best = Match(segs, req.method, &path_matched, &allow);
  std::map<std::string, std::string> best_params;
  if (best >= 0) {
    const auto& pat = segments_[best];
    for (size_t i = 0; i < pat.size(); ++i) {
      if (IsParam(pat[i])) best_params[pat[i].substr(1, pat[i].size() - 2)] = segs[i];
    }
  }
  if (best >= 0) {
    const Route& route = routes_[best];
    *route_label = route.pattern;
    req.route_pattern = route.pattern;
    req.path_params = std::move(best_params);
    return RouteOutcome(req, route.pattern, RunRoute(route, req));
  }
  if (path_matched) {
    Response r = problem(Status(StatusCode::kMethodNotAllowed, "method not allowed on this path; allowed: " + allow,
                                "method"));
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (req.method == Method::kGet && req.path.rfind("/api/", 0) != 0 && static_files_) {
    if (auto file = static_files_->Serve(req.path)) {
      *route_label = "static";
      return std::move(*file);
    }
  }
  return problem(NotFound("no such resource: " + req.path));
}

Response Dispatcher::RouteOutcome(Request& req, const std::string& pattern, Result<Response> result) const {
  if (result.ok()) return std::move(*result);
  if (result.status().code() == StatusCode::kInternal) {
    spdlog::error(R"("msg":"internal error","request_id":"{}","route":"{}","error":{})", req.request_id, pattern,
                  nlohmann::json(result.status().message()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return ProblemResponse(result.status(), req.request_id, req.path);
}

// A request between its arrival and its answer; shared with a deferred response's Reply.
struct Dispatcher::InFlight {
  Request req;
  std::string method;
  std::string route_label = "unmatched";
  std::chrono::steady_clock::time_point start;
  std::function<void(Response)> send;
  bool sent = false;
};

void Dispatcher::Finish(InFlight& f, Response resp) const {
  if (f.sent) return;
  f.sent = true;
  resp.later = nullptr;
  resp.headers.emplace_back("X-Request-Id", f.req.request_id);
  resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
  resp.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  resp.headers.emplace_back("X-Frame-Options", "DENY");
  resp.headers.emplace_back("Referrer-Policy", "no-referrer");
  resp.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  if (f.route_label != "static") resp.headers.emplace_back("Cache-Control", "no-store");
  if (f.method == "HEAD") {
    resp.body.clear();
    resp.stream = nullptr;  // headers only
  }

  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - f.start).count();
  if (metrics_) metrics_->Observe(f.method, f.route_label, resp.status, secs);
  if (options_.access_log) {
    spdlog::info(R"("msg":"request","request_id":"{}","method":"{}","route":"{}","status":{},"duration_ms":{:.3f},"client":"{}","user":"{}")",
                 f.req.request_id, f.method, f.route_label, resp.status, secs * 1000, f.req.client_ip,
                 f.req.principal ? f.req.principal->username : "");
  }
  f.send(std::move(resp));
}

void Dispatcher::Handle(RawRequest raw, std::function<void(Response)> send) {
  auto f = std::make_shared<InFlight>();
  f->start = std::chrono::steady_clock::now();
  f->send = std::move(send);
  f->method = raw.method;
  Request& req = f->req;
  req.client_ip = raw.client_ip;
  req.headers = std::move(raw.headers);
  req.body = std::move(raw.body);
  auto incoming_id = req.Header("x-request-id");
  req.request_id = incoming_id && SaneRequestId(*incoming_id) ? std::string(*incoming_id) : crypto::FastRandomToken(12);

  auto guarded = [&](auto&& body) -> Response {
    try {
      return body();
    } catch (const std::exception& e) {
      spdlog::error(R"("msg":"handler threw","request_id":"{}","error":{})", req.request_id,
                    nlohmann::json(std::string(e.what())).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return ProblemResponse(Internal(e.what()), req.request_id, req.path);
    } catch (...) {
      return ProblemResponse(Internal("unknown exception"), req.request_id, req.path);
    }
  };
  Response resp = guarded([&] { return Dispatch(req, raw, &f->route_label); });
  if (!resp.later) {
    Finish(*f, std::move(resp));
    return;
  }
  // Deferred: the Reply finishes the response wherever it is called. Its state outlives every copy
  // of the Reply; if the last copy goes without a call, the client still gets an answer (a 500).
  struct Completion {
    const Dispatcher* dispatcher;
    std::shared_ptr<InFlight> f;
    std::mutex mu;
    ~Completion() {
      std::lock_guard lock(mu);
      if (!f->sent) {
        dispatcher->Finish(*f, ProblemResponse(Internal("the response was never completed"), f->req.request_id,
                                               f->req.path));
      }
    }
  };
  auto completion = std::make_shared<Completion>();
  completion->dispatcher = this;
  completion->f = f;
  Reply reply = [completion](Result<Response> result) {
    std::lock_guard lock(completion->mu);
    InFlight& fl = *completion->f;
    if (fl.sent) return;
    Response out;
    try {
      out = completion->dispatcher->RouteOutcome(fl.req, fl.route_label, std::move(result));
      if (out.later || out.stream) out = ProblemResponse(Internal("a deferred response may not defer again or stream"), fl.req.request_id, fl.req.path);
    } catch (...) {
      out = ProblemResponse(Internal("completing the response failed"), fl.req.request_id, fl.req.path);
    }
    completion->dispatcher->Finish(fl, std::move(out));
  };
  auto start = std::move(resp.later);
  try {
    start(std::move(reply));
  } catch (const std::exception& e) {
    // `start` threw before handing the reply on: answer now (a later call of a surviving copy is ignored).
    std::lock_guard lock(completion->mu);
    Finish(*f, ProblemResponse(Internal(e.what()), req.request_id, req.path));
  }
}

Response Dispatcher::Handle(RawRequest raw) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Response> out;
  Handle(std::move(raw), [&](Response r) {
    std::lock_guard lock(mu);
    out = std::move(r);
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return out.has_value(); });
  return std::move(*out);
}

}  // namespace tl::http
