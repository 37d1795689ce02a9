// The MQTT message formats the ingester accepts (docs/mqtt.md), parsed into what the entity store
// applies: topics, the compact measurement format of devices, and NGSI-LD entity fragments.
//
// Contract:
// - ParseTopic() recognises `ngsi-ld/v1/entities`, `ngsi-ld/v1/<tenant>/entities` and
//   `devices/<deviceId>/measurements`; anything else is TopicKind::kUnknown.
// - CheckPayload() refuses payloads over kMaxPayloadBytes ("too_large") and invalid UTF-8 ("utf8");
//   the parsers then refuse what is not JSON ("json") or not in the format ("format", "entity",
//   "unknown_attribute"). Every refusal is a Malformed: a reason, which is the label of the
//   thanglong_mqtt_messages_malformed_total counter, and a detail for the log naming the field.
// - ParseMeasurements(): a JSON object {"t": RFC 3339 text or Unix ms, "<attr>": number|string|bool}
//   or an array of them (at most kMaxMeasurements); "t" may be left out (the time of receipt).
// - MeasurementItems(): one batch item per measurement, the device's short attribute names mapped to
//   NGSI-LD Properties (expanded names) with observedAt = t and the registry's unitCode; a name the
//   device does not map refuses the whole message ("unknown_attribute").
// - ParseEntities(): one NGSI-LD entity (id and type required) or an array of them, normalized or
//   concise (attributes without "type" get it from their members: "value" → Property, "object" →
//   Relationship, a GeoJSON value → GeoProperty, ...; a bare value is a Property); names are expanded
//   with the element's own "@context" when it has one, else with `default_ctx` (the platform's Smart
//   Data Models context). An element that is not valid comes back with a non-OK status (the others
//   are still applied).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/mqtt_ingest/device_registry.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"

namespace tl::mqtt_ingest {

inline constexpr size_t kMaxPayloadBytes = 256 * 1024;  // larger messages are refused
inline constexpr size_t kMaxMeasurements = 1000;        // measurements in one message
inline constexpr size_t kMaxTextValue = 1000;           // bytes of a string measurement

// The reasons a message is refused (metric labels), in the order /metrics lists them.
inline constexpr const char* kMalformedReasons[] = {"too_large", "utf8",   "json",
                                                    "format",    "entity", "unknown_attribute", "topic"};

struct Malformed {
  std::string reason;  // one of kMalformedReasons
  std::string detail;  // for the log: what and where ("[2].t: not a date-time")
};

enum class TopicKind { kUnknown, kEntities, kMeasurements };

struct Topic {
  TopicKind kind = TopicKind::kUnknown;
  std::string tenant;     // kEntities: "" for the default tenant
  std::string device_id;  // kMeasurements
};

Topic ParseTopic(std::string_view topic);

// Size and UTF-8; nullopt when the payload may be parsed.
std::optional<Malformed> CheckPayload(std::string_view payload);

struct Measurement {
  int64_t at_ms = 0;
  std::vector<std::pair<std::string, nlohmann::json>> values;  // short name → number, string or bool
};

// A parse outcome: the value or why the message is refused.
template <typename T>
struct Parsed {
  std::optional<T> value;
  Malformed error;
  bool ok() const { return value.has_value(); }
};

Parsed<std::vector<Measurement>> ParseMeasurements(std::string_view payload, int64_t received_ms);

// The batch items (stored form, upsert-update) of one device's measurements, in order.
Parsed<std::vector<ngsild::BatchItem>> MeasurementItems(const Device& device, const std::vector<Measurement>& ms);

Parsed<std::vector<ngsild::BatchItem>> ParseEntities(std::string_view payload, const ngsild::ContextRegistry& contexts,
                                                     const ngsild::Context& default_ctx);

// Concise NGSI-LD → normalized: each attribute given without "type" gets the type its members imply.
nlohmann::json NormalizeConcise(const nlohmann::json& entity);

// "2026-11-18T07:06:40Z", "2026-11-18T14:06:40.250+07:00": Unix ms, or nullopt.
std::optional<int64_t> ParseDateTime(std::string_view s);

}  // namespace tl::mqtt_ingest
