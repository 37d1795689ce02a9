// The NGSI-LD API (ETSI GS CIM 009) under /ngsi-ld/v1: entities, attributes, batch operations, entity
// types and the @contexts we hold. One route table; src/app adds it to the dispatcher.
//
// Contract:
// - Requests take application/json (the @context from a Link header, else the core context) or
//   application/ld+json (the @context in the body; a Link header is then refused); other content
//   types get 415. Responses are application/json with a Link header naming the context used, or
//   application/ld+json with "@context" in each entity when the Accept header asks for it.
// - Tenants: the NGSILD-Tenant header (letters, digits, "_.:/-", at most 100), default "" .
// - Access: bearer tokens of operators and city admins, and API keys (role integration) with scope
//   ngsild.read (reads) or ngsild.write (reads and writes); anonymous requests get 401.
// - Errors are problem documents with NGSI-LD's types (errors.h), mapped in src/http/problem.cc.
// - GET /entities/{id} is answered on the I/O thread (`quick`): one indexed read, cached contexts.
//
// Thread-safety: the handlers share the store and the registry, both thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "http/http.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"

namespace tl::ngsild {

std::vector<http::Route> Routes(EntityStore* store, std::shared_ptr<const ContextRegistry> contexts);

// The entity selection of GET /entities (id, idPattern, type, attrs, q, geo-query, limit, offset,
// count) read from `req`'s query parameters, names expanded with `ctx`; BadRequestData naming the
// parameter, or when it names nothing to query. The temporal API selects its entities the same way.
Result<EntityQuery> EntityQueryOf(const http::Request& req, std::shared_ptr<const Context> ctx);

}  // namespace tl::ngsild
