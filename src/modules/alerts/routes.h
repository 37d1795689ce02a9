// The alerts API (docs/alerts.md). Operators and city administrators read and act on alerts; city
// administrators edit the rules. Every write is audited in its transaction.
//
//   GET    /api/v1/alerts?status=open|acknowledged|assigned|resolved&severity=&entity_type=&limit=&cursor=
//          -> {"items": [Alert...], "next_cursor": "<id>" | null}   newest first; open = not resolved
//   GET    /api/v1/alerts/{id}                                           -> Alert
//   POST   /api/v1/alerts/{id}/actions/{acknowledge|assign|comment|resolve}
//          {"version": n, "note"?, "assignee" (assign), "text" (comment)} -> the updated Alert
//          stale version or a transition the status does not allow -> 409; missing member -> 400 naming it
//   GET    /api/v1/alert-rules                 -> {"items": [Rule...]}
//   GET    /api/v1/alert-rules/{id}            -> Rule
//   POST   /api/v1/alert-rules                 city_admin -> 201 Rule
//   PUT    /api/v1/alert-rules/{id}            city_admin -> Rule
//   DELETE /api/v1/alert-rules/{id}            city_admin -> 204
//
// Bad query parameters are InvalidArgument naming them; an unknown alert or rule (or an id that is not
// one) is NotFound.
//
// Thread-safety: the routes hold a pointer to the shared AlertService.
#pragma once

#include <vector>

#include "http/http.h"
#include "modules/alerts/alerts.h"

namespace tl::alerts {

std::vector<http::Route> Routes(AlertService* service);

}  // namespace tl::alerts
