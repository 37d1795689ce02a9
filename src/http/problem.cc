#include "http/problem.h"

#include <nlohmann/json.hpp>

namespace tl::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kConflict: return 409;
    case StatusCode::kFailedPrecondition: return 422;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kMethodNotAllowed: return 405;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

namespace {
const char* Title(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return "Invalid request";
    case StatusCode::kUnauthenticated: return "Authentication required";
    case StatusCode::kPermissionDenied: return "Forbidden";
    case StatusCode::kNotFound: return "Not found";
    case StatusCode::kAlreadyExists: return "Already exists";
    case StatusCode::kConflict: return "Conflict";
    case StatusCode::kFailedPrecondition: return "Cannot be processed";
    case StatusCode::kResourceExhausted: return "Too many requests";
    case StatusCode::kPayloadTooLarge: return "Payload too large";
    case StatusCode::kUnsupportedMediaType: return "Unsupported media type";
    case StatusCode::kMethodNotAllowed: return "Method not allowed";
    case StatusCode::kUnavailable: return "Service unavailable";
    default: return "Internal error";
  }
}
const char* Slug(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return "invalid-request";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "forbidden";
    case StatusCode::kNotFound: return "not-found";
    case StatusCode::kAlreadyExists: return "already-exists";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kFailedPrecondition: return "unprocessable";
    case StatusCode::kResourceExhausted: return "rate-limited";
    case StatusCode::kPayloadTooLarge: return "payload-too-large";
    case StatusCode::kUnsupportedMediaType: return "unsupported-media-type";
    case StatusCode::kMethodNotAllowed: return "method-not-allowed";
    case StatusCode::kUnavailable: return "unavailable";
    default: return "internal";
  }
}
}  // namespace

std::string ProblemType(StatusCode code) { return std::string("urn:thanglong:problem:") + Slug(code); }

Response ProblemResponse(const Status& status, std::string_view request_id, std::string_view instance) {
  nlohmann::json j;
  int http = HttpStatusFor(status.code());
  j["type"] = status.problem_type() ? std::string(status.problem_type()) : ProblemType(status.code());
  j["title"] = Title(status.code());
  j["status"] = http;
  if (status.code() == StatusCode::kInternal) {
    j["detail"] = "An internal error occurred; quote the request id when reporting it.";
  } else {
    j["detail"] = status.message();
  }
  if (!status.field().empty()) j["field"] = status.field();
  j["instance"] = std::string(instance);
  j["request_id"] = std::string(request_id);
  Response r;
  r.status = http;
  r.content_type = "application/problem+json";
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (http == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace tl::http
