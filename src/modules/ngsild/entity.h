// NGSI-LD entity documents: validation of payloads, expansion of names with an @context, the
// attribute-level merges of the update operations, and rendering (compaction, simplified form,
// projection, system attributes). Pure functions over JSON; no storage, no HTTP.
//
// The stored form ("normalized, expanded"): {"id": URI, "type": IRI or [IRI...], "scope"?: ...,
// "<attribute IRI>": instance or [instance, ...]} where an instance is an object with "type"
// (Property, GeoProperty, Relationship, LanguageProperty, VocabProperty, JsonProperty, ListProperty,
// ListRelationship), its value member ("value", "object", "languageMap", "vocab", "json", "valueList",
// "objectList"), optional "observedAt", "unitCode", "datasetId", the system members "createdAt" and
// "modifiedAt" (RFC 3339, set by the store), and sub-attributes keyed by IRI. Values (including
// GeoJSON) are kept as given. The entity's own createdAt/modifiedAt live beside the document (columns).
//
// Contract: every error is BadRequestData naming the offending field ("id", "type",
// "<attribute>.value", "<attribute>[1].datasetId", ...); nothing throws on bad input. Limits: at most
// kMaxAttributes attributes per payload, kMaxInstances instances per attribute, sub-attributes nested
// kMaxSubAttributeDepth deep, names of at most kMaxNameLength bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/geo.h"

namespace tl::ngsild {

inline constexpr size_t kMaxAttributes = 1000;
inline constexpr size_t kMaxInstances = 100;
inline constexpr int kMaxSubAttributeDepth = 4;
inline constexpr size_t kMaxNameLength = 512;
inline constexpr size_t kMaxTypes = 100;

// The expanded name of the core `location` GeoProperty, whose bounds the store indexes.
inline constexpr std::string_view kLocationIri = "https://uri.etsi.org/ngsi-ld/location";

// True for the members of an attribute instance that are not sub-attributes.
bool IsInstanceMember(std::string_view name);

enum class PayloadKind {
  kEntity,    // "id" and "type" required
  kFragment,  // attributes; an optional "type" adds types; an "id" must equal `expected_id`
};

// Validates `body` (without "@context") and expands its attribute names and types with `ctx`.
// System members given (createdAt, modifiedAt) are dropped.
Result<nlohmann::json> ExpandPayload(const nlohmann::json& body, const Context& ctx, PayloadKind kind,
                                     std::string_view expected_id = {});

// The body of a partial attribute update (PATCH .../attrs/{attrId}): members of one instance, each
// checked on its own ("type" optional); sub-attribute names expanded.
Result<nlohmann::json> ExpandPartialInstance(const nlohmann::json& body, const Context& ctx, const std::string& field);

// Checks one complete attribute instance (after a merge), naming `field` in errors.
Status ValidateInstance(const nlohmann::json& instance, const std::string& field, int depth = 0);

// The document's types (expanded), in order.
std::vector<std::string> TypesOf(const nlohmann::json& doc);
// The attribute names of a document (expanded), in key order.
std::vector<std::string> AttributeNames(const nlohmann::json& doc);

// The bounding box of every instance of the `location` GeoProperty, or nullopt without one.
std::optional<BoundingBox> LocationBounds(const nlohmann::json& doc);

// System members: stamps "createdAt"/"modifiedAt" on each instance of `attribute` (now), keeping the
// createdAt of the instance with the same datasetId in `previous` (nullptr: none).
void Stamp(nlohmann::json& attribute, const nlohmann::json* previous, const std::string& now);

// The outcome of an attribute-level update, as NGSI-LD's UpdateResult.
struct UpdateOutcome {
  std::vector<std::string> updated;                              // expanded names
  std::vector<std::pair<std::string, std::string>> not_updated;  // (expanded name, reason)
  // The entity's types or its scope changed (members, not attributes): stored, but not in `updated`.
  bool members_changed = false;
  bool changed() const { return !updated.empty() || members_changed; }
};

// POST /entities/{id}/attrs and batch update: adds the fragment's attributes and instances, replacing
// instances with the same datasetId unless `no_overwrite`; adds the fragment's types and takes its
// scope (members_changed when either changes the entity).
UpdateOutcome AppendAttributes(nlohmann::json& doc, const nlohmann::json& fragment, bool no_overwrite,
                               const std::string& now);
// The stored text of a document: nlohmann's compact dump (members in key order, no white space),
// invalid UTF-8 replaced. AppendAttributesToText relies on it.
std::string DumpStored(const nlohmann::json& doc);

// AppendAttributes(doc, fragment, /*no_overwrite=*/false, now) on the stored text of `doc` as
// nlohmann's compact dump writes it (how the entity store keeps documents), without parsing all of
// it: only `type` and the members the fragment names are parsed, merged and written back in place,
// the other members' text is copied. The text is the one dumping the merged document gives.
// nullopt when `stored` is not in that form (core/json_reader.h, ScanCompactJsonObject) or a member
// to merge does not parse: then parse the whole document.
struct TextAppend {
  std::string text;
  nlohmann::json members;  // `type` and the fragment's members, as merged (an object)
  UpdateOutcome outcome;
  bool location_kept = true;  // the location member is as it was
};
std::optional<TextAppend> AppendAttributesToText(std::string_view stored, const nlohmann::json& fragment,
                                                 const std::string& now);
// PATCH /entities/{id}/attrs: replaces existing instances (same name and datasetId) only.
UpdateOutcome UpdateAttributes(nlohmann::json& doc, const nlohmann::json& fragment, const std::string& now);
// PATCH /entities/{id}/attrs/{attr}: merges the members into the instance with the fragment's
// datasetId. NotFound (ResourceNotFound) when there is no such attribute or instance.
Status PartialUpdate(nlohmann::json& doc, const std::string& attribute, const nlohmann::json& fragment,
                     const std::string& now, const std::string& field);
// DELETE /entities/{id}/attrs/{attr}: the default instance, the one with `dataset_id`, or all.
Status DeleteAttribute(nlohmann::json& doc, const std::string& attribute, const std::optional<std::string>& dataset_id,
                       bool delete_all);

struct RenderOptions {
  bool key_values = false;                       // simplified representation
  bool sys_attrs = false;                        // createdAt / modifiedAt
  const std::set<std::string>* attrs = nullptr;  // expanded names to keep; null keeps all
};

// The document compacted with `ctx` for a response (entity-level createdAt/modifiedAt from the store).
nlohmann::json Render(const nlohmann::json& doc, const Context& ctx, const RenderOptions& options, int64_t created_ms,
                      int64_t modified_ms);

// Serialises a rendered entity with "@context" (if any), "id" and "type" first.
std::string DumpEntity(const nlohmann::json& entity);

// The fast path of a retrieval: renders the stored document's text straight into the response text
// (no DOM), equal as JSON to DumpEntity(Render(...)) with "@context": context_url added when
// `context_url` is not empty; "@context", "id" and "type" lead. Returns nullopt when the options need
// the DOM (keyValues) or the text is not in the shape the store writes; the caller then parses it.
std::optional<std::string> RenderStoredText(std::string_view stored, const Context& ctx, const RenderOptions& options,
                                            int64_t created_ms, int64_t modified_ms, std::string_view context_url);

// "2020-09-09T16:40:00Z", with optional fraction and offset: RFC 3339 date-times.
bool IsDateTime(std::string_view s);

}  // namespace tl::ngsild
