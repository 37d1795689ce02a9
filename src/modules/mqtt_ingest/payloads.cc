#include "modules/mqtt_ingest/payloads.h"

#include <cmath>

#include "core/clock.h"
#include "core/text.h"
#include "modules/ngsild/entity.h"

namespace tl::mqtt_ingest {

using nlohmann::json;

namespace {

template <typename T>
Parsed<T> Refuse(std::string reason, std::string detail) {
  Parsed<T> p;
  p.error = Malformed{std::move(reason), std::move(detail)};
  return p;
}

template <typename T>
Parsed<T> Accept(T value) {
  Parsed<T> p;
  p.value = std::move(value);
  return p;
}

bool IsTopicTenant(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string_view> Levels(std::string_view topic) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = topic.find('/', start);
    out.push_back(topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

constexpr std::string_view kAttributeTypes[] = {"Property",      "GeoProperty",  "Relationship",
                                                "LanguageProperty", "VocabProperty", "JsonProperty",
                                                "ListProperty",  "ListRelationship"};
constexpr std::string_view kGeoJsonTypes[] = {"Point",      "LineString",      "Polygon",           "MultiPoint",
                                              "MultiLineString", "MultiPolygon", "GeometryCollection"};

template <size_t N>
bool In(const std::string_view (&set)[N], const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  for (auto x : set) {
    if (s == x) return true;
  }
  return false;
}

bool IsInstanceObject(const json& x) {
  if (!x.is_object()) return false;
  if (auto t = x.find("type"); t != x.end() && In(kAttributeTypes, *t)) return true;
  for (const char* m : {"value", "object", "languageMap", "vocab", "json", "valueList", "objectList"}) {
    if (x.contains(m)) return true;
  }
  return false;
}

json NormalizeInstance(const json& x) {
  if (x.is_object()) {
    auto t = x.find("type");
    bool typed = t != x.end() && In(kAttributeTypes, *t);
    if (!typed && t != x.end() && In(kGeoJsonTypes, *t) && (x.contains("coordinates") || x.contains("geometries"))) {
      return json{{"type", "GeoProperty"}, {"value", x}};
    }
    if (!IsInstanceObject(x)) return json{{"type", "Property"}, {"value", x}};
    json out = json::object();
    for (const auto& [k, v] : x.items()) {
      // Sub-attributes may be concise too.
      out[k] = ngsild::IsInstanceMember(k) ? v : NormalizeInstance(v);
    }
    if (!typed) {
      const char* type = "Property";
      if (x.contains("object")) type = "Relationship";
      else if (x.contains("languageMap")) type = "LanguageProperty";
      else if (x.contains("vocab")) type = "VocabProperty";
      else if (x.contains("json")) type = "JsonProperty";
      else if (x.contains("valueList")) type = "ListProperty";
      else if (x.contains("objectList")) type = "ListRelationship";
      else if (auto v = x.find("value");
               v != x.end() && v->is_object() && In(kGeoJsonTypes, v->value("type", json())) &&
               (v->contains("coordinates") || v->contains("geometries")))
        type = "GeoProperty";
      out["type"] = type;
    }
    return out;
  }
  if (x.is_array() && !x.empty()) {
    bool instances = true;
    for (const auto& e : x) instances = instances && IsInstanceObject(e);
    if (instances) {
      json out = json::array();
      for (const auto& e : x) out.push_back(NormalizeInstance(e));
      return out;
    }
  }
  return json{{"type", "Property"}, {"value", x}};
}

}  // namespace

std::optional<int64_t> ParseDateTime(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + std::min(sec, 59) - offset_min * 60;
  return secs * 1000 + ms;
}

Topic ParseTopic(std::string_view topic) {
  Topic t;
  auto levels = Levels(topic);
  if (levels.size() == 3 && levels[0] == "ngsi-ld" && levels[1] == "v1" && levels[2] == "entities") {
    t.kind = TopicKind::kEntities;
  } else if (levels.size() == 4 && levels[0] == "ngsi-ld" && levels[1] == "v1" && levels[3] == "entities" &&
             IsTopicTenant(levels[2])) {
    t.kind = TopicKind::kEntities;
    t.tenant = std::string(levels[2]);
  } else if (levels.size() == 3 && levels[0] == "devices" && levels[2] == "measurements" && IsDeviceName(levels[1])) {
    t.kind = TopicKind::kMeasurements;
    t.device_id = std::string(levels[1]);
  }
  return t;
}

std::optional<Malformed> CheckPayload(std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    return Malformed{"too_large", std::to_string(payload.size()) + " bytes; at most " +
                                      std::to_string(kMaxPayloadBytes)};
  }
  if (!text::IsValidUtf8(payload)) return Malformed{"utf8", "the payload is not valid UTF-8"};
  return std::nullopt;
}

Parsed<std::vector<Measurement>> ParseMeasurements(std::string_view payload, int64_t received_ms) {
  using Out = std::vector<Measurement>;
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded()) return Refuse<Out>("json", "the payload is not JSON");
  if (j.is_object()) j = json::array({std::move(j)});
  if (!j.is_array() || j.empty()) return Refuse<Out>("format", "a measurement object or a non-empty array of them");
  if (j.size() > kMaxMeasurements) {
    return Refuse<Out>("format", "at most " + std::to_string(kMaxMeasurements) + " measurements per message");
  }
  Out out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    std::string at = j.size() > 1 ? "[" + std::to_string(i) + "]" : std::string();
    if (!e.is_object()) return Refuse<Out>("format", at + ": a measurement is a JSON object");
    Measurement m;
    m.at_ms = received_ms;
    for (const auto& [k, v] : e.items()) {
      std::string field = at.empty() ? k : at + "." + k;
      if (k == "t") {
        if (v.is_string()) {
          auto ms = ParseDateTime(v.get_ref<const std::string&>());
          if (!ms) return Refuse<Out>("format", field + ": not an RFC 3339 date-time");
          m.at_ms = *ms;
        } else if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < (int64_t{1} << 50)) {
          m.at_ms = v.get<int64_t>();
        } else {
          return Refuse<Out>("format", field + ": RFC 3339 text or Unix milliseconds");
        }
        continue;
      }
      if (!IsDeviceName(k)) return Refuse<Out>("format", field + ": not a short attribute name");
      if (v.is_string()) {
        if (v.get_ref<const std::string&>().size() > kMaxTextValue) {
          return Refuse<Out>("format", field + ": text longer than " + std::to_string(kMaxTextValue) + " bytes");
        }
      } else if (v.is_number()) {
        if (v.is_number_float() && !std::isfinite(v.get<double>())) return Refuse<Out>("format", field + ": not finite");
      } else if (!v.is_boolean()) {
        return Refuse<Out>("format", field + ": a number, a string or a boolean");
      }
      m.values.emplace_back(k, v);
    }
    if (m.values.empty()) return Refuse<Out>("format", at + ": no measured value besides t");
    out.push_back(std::move(m));
  }
  return Accept(std::move(out));
}

Parsed<std::vector<ngsild::BatchItem>> MeasurementItems(const Device& device, const std::vector<Measurement>& ms) {
  using Out = std::vector<ngsild::BatchItem>;
  Out out;
  out.reserve(ms.size());
  for (const auto& m : ms) {
    json doc = {{"id", device.entity_id}, {"type", device.entity_type}};
    std::string observed = FormatRfc3339(m.at_ms);
    for (const auto& [shortname, value] : m.values) {
      auto a = device.attributes.find(shortname);
      if (a == device.attributes.end()) {
        return Refuse<Out>("unknown_attribute", shortname + ": device " + device.id + " does not map it");
      }
      json inst = {{"type", "Property"}, {"value", value}, {"observedAt", observed}};
      if (!a->second.unit_code.empty()) inst["unitCode"] = a->second.unit_code;
      doc[a->second.name] = std::move(inst);
    }
    ngsild::BatchItem item;
    item.id = device.entity_id;
    item.doc = std::move(doc);
    out.push_back(std::move(item));
  }
  return Accept(std::move(out));
}

json NormalizeConcise(const json& entity) {
  if (!entity.is_object()) return entity;
  json out = json::object();
  for (const auto& [k, v] : entity.items()) {
    if (k == "id" || k == "type" || k == "@context" || k == "scope" || k == "createdAt" || k == "modifiedAt") {
      out[k] = v;
    } else {
      out[k] = NormalizeInstance(v);
    }
  }
  return out;
}

Parsed<std::vector<ngsild::BatchItem>> ParseEntities(std::string_view payload, const ngsild::ContextRegistry& contexts,
                                                     const ngsild::Context& default_ctx) {
  using Out = std::vector<ngsild::BatchItem>;
  json j = json::parse(payload, nullptr, false);
  if (j.is_discarded()) return Refuse<Out>("json", "the payload is not JSON");
  if (j.is_object()) j = json::array({std::move(j)});
  if (!j.is_array() || j.empty()) return Refuse<Out>("format", "an NGSI-LD entity or a non-empty array of them");
  if (j.size() > ngsild::kMaxBatch) {
    return Refuse<Out>("format", "at most " + std::to_string(ngsild::kMaxBatch) + " entities per message");
  }
  Out out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    json& e = j[i];
    ngsild::BatchItem item;
    std::string at = j.size() > 1 ? "[" + std::to_string(i) + "]." : std::string();
    if (!e.is_object()) {
      item.status = InvalidArgument("an entity is a JSON object", at + "body");
      out.push_back(std::move(item));
      continue;
    }
    if (auto id = e.find("id"); id != e.end() && id->is_string()) item.id = id->get<std::string>();
    if (item.id.empty() || !ngsild::IsUri(item.id)) {
      item.status = InvalidArgument("an entity needs an id that is an absolute URI", at + "id");
      out.push_back(std::move(item));
      continue;
    }
    std::shared_ptr<const ngsild::Context> own;
    if (auto c = e.find("@context"); c != e.end()) {
      auto ctx = contexts.FromValue(*c);
      if (!ctx.ok()) {
        item.status = InvalidArgument(ctx.status().message(), at + "@context");
        out.push_back(std::move(item));
        continue;
      }
      own = *ctx;
      e.erase("@context");
    }
    auto doc = ngsild::ExpandPayload(NormalizeConcise(e), own ? *own : default_ctx, ngsild::PayloadKind::kEntity,
                                     item.id);
    if (!doc.ok()) {
      item.status = InvalidArgument(doc.status().message(), at + doc.status().field());
    } else {
      item.doc = std::move(*doc);
    }
    out.push_back(std::move(item));
  }
  return Accept(std::move(out));
}

}  // namespace tl::mqtt_ingest
