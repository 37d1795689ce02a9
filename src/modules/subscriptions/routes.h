// The NGSI-LD subscription routes under /ngsi-ld/v1/subscriptions: create (201 + Location), list
// (limit, offset, count=true → NGSILD-Results-Count), retrieve, update (PATCH, 204), delete (204).
//
// Contract: as the entity routes (modules/ngsild/routes.h): application/json with the @context in a
// Link header, or application/ld+json with "@context" in the body; NGSILD-Tenant; bearer tokens of
// operators and city admins, API keys with ngsild.read / ngsild.write; NGSI-LD problem types.
// A subscription is answered as given, plus "status" (active, paused, expired) and the delivery
// status inside "notification" (timesSent, lastNotification, lastSuccess, lastFailure, status ok /
// failed) and the extensions "failures" and "pendingNotifications".
//
// Thread-safety: the handlers share the store, which is thread-safe.
#pragma once

#include <vector>

#include "http/http.h"
#include "modules/subscriptions/store.h"

namespace tl::subscriptions {

std::vector<http::Route> Routes(SubscriptionStore* store);

}  // namespace tl::subscriptions
