// The one place where a Status becomes an HTTP response: RFC 9457 problem+json.
//
// Each StatusCode has a stable problem `type` URI ("urn:thanglong:problem:<kind>") and HTTP status; a
// Status may name another `type` (Status::WithProblemType, e.g. NGSI-LD's error types), which is used
// as is while the HTTP status still follows the code.
// Validation errors name the offending field in the `field` member. Internal errors never expose
// their message (which may hold SQL text); they are logged with the request id instead.
//
// Thread-safety: pure functions.
#pragma once

#include "core/status.h"
#include "http/http.h"

namespace tl::http {

int HttpStatusFor(StatusCode code);
std::string ProblemType(StatusCode code);
Response ProblemResponse(const Status& status, std::string_view request_id, std::string_view instance);

}  // namespace tl::http
