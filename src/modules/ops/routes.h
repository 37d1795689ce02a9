// The operations centre's HTTP API: GET /api/v1/ops/events, the live feed of entity changes as
// server-sent events (text/event-stream; see event_hub.h for the events and their guarantees).
//
// Contract: bearer tokens of operators and city admins (others 403, anonymous 401). Parameters:
// `type` (comma-separated compact entity types, e.g. "AirQualityObserved,Alert"; default all) and
// the resume point, the Last-Event-ID header or the `lastEventId` parameter (the header wins); a
// malformed one is a 400 problem naming the field. 503 when the process has max_clients streams.
//
// Thread-safety: the handler shares the hub, which is thread-safe.
#pragma once

#include <vector>

#include "http/http.h"
#include "modules/ops/event_hub.h"

namespace tl::ops {

std::vector<http::Route> Routes(EventHub* hub);

}  // namespace tl::ops
