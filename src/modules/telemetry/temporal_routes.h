// The NGSI-LD temporal API (ETSI GS CIM 009 clauses 5.7.3-5.7.4, 6.18-6.19) over the telemetry history:
// GET /ngsi-ld/v1/temporal/entities, GET /ngsi-ld/v1/temporal/entities/{entityId} and, for
// back-filling, POST /ngsi-ld/v1/temporal/entities/{entityId}/attrs. One route table; src/app adds it
// to the dispatcher beside ngsild::Routes.
//
// Contract:
// - Entities are selected by the entity store's query (the same id, idPattern, type, attrs, q,
//   geo-query, limit, offset and count as GET /entities: ngsild::EntityQueryOf), so only entities that
//   exist now have a temporal representation; an unknown id is ResourceNotFound. Their attributes are
//   the series the history holds for them (entity_history.h: numeric Properties), narrowed by attrs.
// - Time: timerel=before|after|between with timeAt (and endTimeAt for between), RFC 3339; before is
//   t < timeAt, after t >= timeAt, between timeAt <= t < endTimeAt; no timerel means the whole history.
//   timeproperty may only be observedAt (the time of each measurement). lastN keeps the last N
//   instances (or aggregation periods) of each attribute; without it at most kMaxTemporalInstances, the
//   latest.
// - Representations: normalized (default) gives each attribute as an array of instances
//   {"type":"Property","value":v,"observedAt":t}; options=temporalValues gives
//   {"type":"Property","values":[[v,t],...]}; options=aggregatedValues with aggrMethods (totalCount,
//   sum, avg, min, max, stddev, sumsq; distinctCount is not supported) and aggrPeriodDuration (ISO 8601,
//   default PT0S: the whole interval) gives {"type":"Property","avg":[[v,start,end],...],...}, periods
//   aligned to the interval's start (timeAt; year 1 for before) and only the non-empty ones. An open
//   interval (after, or none) ends for aggregation at the end of the period holding the current time.
// - Names are compacted with the request's @context (Link header, else the core context); the answer
//   is application/json with a Link header, or application/ld+json with "@context" in each entity.
// - POST .../attrs (6.20.3.1) adds past instances to an existing entity's history without changing
//   the entity: a JSON object of attributes, each an instance or an array of at most
//   kMaxAddedInstances, each a Property with a numeric value and an observedAt; all or nothing
//   (TelemetryStore::AppendBatch, one transaction), 204. Anything else is BadRequestData naming
//   "<attribute>[i].value" (or .type, .observedAt); an unknown entity is ResourceNotFound. It needs
//   ngsild.write for API keys.
// - Access as the entity routes: operators, city admins, and API keys with ngsild.read or
//   ngsild.write; anonymous requests get 401. Bad parameters are BadRequestData naming the parameter.
//
// Thread-safety: the handlers share the stores, both thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "core/clock.h"
#include "http/http.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"
#include "modules/telemetry/history.h"

namespace tl::telemetry {

// Instances of one attribute returned without lastN.
inline constexpr uint32_t kMaxTemporalInstances = 10'000;
// Instances of one attribute one POST .../attrs may add.
inline constexpr size_t kMaxAddedInstances = 10'000;

std::vector<http::Route> TemporalRoutes(ngsild::EntityStore* entities, TelemetryStore* history,
                                        std::shared_ptr<const ngsild::ContextRegistry> contexts, const Clock* clock);

}  // namespace tl::telemetry
