// NGSI-LD subscriptions (ETSI GS CIM 009, clause 5.8): the subscription document, its validation and
// the matching of an entity change against it. Pure: no storage, no HTTP.
//
// Contract:
// - Parse() takes a subscription as the client writes it (compact terms) and the @context to expand
//   them with, and compiles it: entities[] (id, idPattern, type), watchedAttributes, q, geoQ
//   (geometry, coordinates, georel, geoproperty), notification.attributes / format (normalized or
//   keyValues) / endpoint (uri: http or https only; accept application/json or application/ld+json),
//   expiresAt (RFC 3339), throttling (whole seconds >= 0), isActive. Either entities or
//   watchedAttributes is required. Errors are NGSI-LD BadRequestData naming the field.
// - Evaluate() decides whether one entity change triggers the subscription and, if so, returns the
//   notification's data element: the entity compacted with the subscription's @context, projected on
//   notification.attributes, in its format. Deletions never notify. q and geoQ are evaluated on the
//   entity compacted with the subscription's @context (q names are compact terms).
//
// Thread-safety: a parsed Subscription is immutable; Evaluate may run on any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"
#include "modules/ngsild/geo.h"
#include "modules/ngsild/q_query.h"

namespace tl::subscriptions {

inline constexpr size_t kMaxEntitySelectors = 100;
inline constexpr size_t kMaxWatchedAttributes = 100;
inline constexpr int64_t kMaxThrottlingSeconds = 86400;

struct EntitySelector {
  std::string id;                               // empty: any
  std::optional<ngsild::IdPattern> id_pattern;  // none: any
  std::string type;                             // expanded; empty: any
};

struct Subscription {
  std::string id;
  nlohmann::json doc;  // as given (compact), with "@context" when one was given; no status members
  std::shared_ptr<const ngsild::Context> context;
  std::vector<EntitySelector> entities;
  std::set<std::string> watched;  // expanded
  std::optional<ngsild::Query> q;
  std::optional<ngsild::GeoQuery> geo;
  std::string geoproperty = "location";             // compact (as in the compacted entity)
  // Expanded names of the attributes q and geoQ read: all a change's entity is rendered with to test
  // them (a rendering of the whole entity per change cost a few percent of MQTT ingestion's CPU).
  std::set<std::string> filter_attributes;
  std::optional<std::set<std::string>> attributes;  // expanded; none: all
  bool key_values = false;
  std::string endpoint;
  std::string accept = "application/json";
  std::optional<int64_t> expires_at_ms;
  int64_t throttling_s = 0;
  bool active = true;

  bool ExpiredAt(int64_t now_ms) const { return expires_at_ms && *expires_at_ms <= now_ms; }
  // The URL of the @context for Link headers / "@context" of notifications.
  std::string ContextUrl() const;
};

// Compiles `doc` (without status members; "@context" taken from the doc if present, else `ctx`).
// The id must be set (the caller generates one when the client gave none).
Result<Subscription> Parse(const nlohmann::json& doc, const ngsild::ContextRegistry& contexts);

// The notification's data element when `change` triggers `sub` at `now_ms`, else nullopt.
std::optional<nlohmann::json> Evaluate(const Subscription& sub, const ngsild::EntityChange& change, int64_t now_ms);

// RFC 3339 date-time ("2026-11-22T10:00:00Z", fraction and offset optional) to Unix ms.
Result<int64_t> ParseDateTime(std::string_view s, std::string_view field);

}  // namespace tl::subscriptions
