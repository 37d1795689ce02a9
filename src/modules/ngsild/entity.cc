#include "modules/ngsild/entity.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/clock.h"
#include "core/json_reader.h"

#include "modules/ngsild/errors.h"

namespace tl::ngsild {

using nlohmann::json;

namespace {

struct AttributeKind {
  std::string_view type;
  std::string_view member;  // the member carrying the value
};
constexpr AttributeKind kKinds[] = {
    {"Property", "value"},         {"GeoProperty", "value"},
    {"Relationship", "object"},    {"LanguageProperty", "languageMap"},
    {"VocabProperty", "vocab"},    {"JsonProperty", "json"},
    {"ListProperty", "valueList"}, {"ListRelationship", "objectList"},
};

const AttributeKind* KindOf(std::string_view type) {
  for (const auto& k : kKinds) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

bool IsEntityMember(std::string_view name) {
  return name == "id" || name == "type" || name == "scope";
}
bool IsSystemMember(std::string_view name) {
  return name == "createdAt" || name == "modifiedAt" || name == "deletedAt";
}

bool Digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

Status CheckName(std::string_view name, const std::string& field) {
  if (name.empty()) return BadRequestData("an attribute or type name may not be empty", field);
  if (name.size() > kMaxNameLength) {
    return BadRequestData("names are at most " + std::to_string(kMaxNameLength) + " bytes long", field);
  }
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f ||
        std::string_view("<>\"'=;()\\").find(static_cast<char>(c)) != std::string_view::npos) {
      return BadRequestData(
          "'" + std::string(name) + "' holds a character names may not hold (<>\"'=;()\\, spaces or controls)", field);
    }
  }
  return Status::Ok();
}

Result<std::string> ExpandName(std::string_view name, const Context& ctx, const std::string& field) {
  TL_RETURN_IF_ERROR(CheckName(name, field));
  std::string iri = ctx.Expand(name);
  if (iri.empty() || iri[0] == '@') {
    return BadRequestData("'" + std::string(name) + "' is an alias of the JSON-LD keyword " + iri + ", not a name",
                          field);
  }
  return iri;
}

std::optional<std::string> DatasetOf(const json& instance) {
  auto it = instance.find("datasetId");
  if (it == instance.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The instances of an attribute value (an object, or an array of them).
std::vector<json*> Instances(json& attribute) {
  std::vector<json*> out;
  if (attribute.is_object()) {
    out.push_back(&attribute);
  } else if (attribute.is_array()) {
    for (auto& i : attribute) out.push_back(&i);
  }
  return out;
}
std::vector<const json*> Instances(const json& attribute) {
  std::vector<const json*> out;
  if (attribute.is_object()) {
    out.push_back(&attribute);
  } else if (attribute.is_array()) {
    for (const auto& i : attribute) out.push_back(&i);
  }
  return out;
}

json* FindInstance(json& attribute, const std::optional<std::string>& dataset) {
  for (json* i : Instances(attribute)) {
    if (DatasetOf(*i) == dataset) return i;
  }
  return nullptr;
}
const json* FindInstance(const json& attribute, const std::optional<std::string>& dataset) {
  for (const json* i : Instances(attribute)) {
    if (DatasetOf(*i) == dataset) return i;
  }
  return nullptr;
}

// One instance is stored as an object, several as an array.
void Normalize(json& attribute) {
  if (attribute.is_array() && attribute.size() == 1) {
    json only = std::move(attribute[0]);
    attribute = std::move(only);
  }
}

// Adds `instance` to `attribute` (which may be an object or an array).
void AddInstance(json& attribute, json instance) {
  if (attribute.is_object()) {
    json arr = json::array();
    arr.push_back(std::move(attribute));
    attribute = std::move(arr);
  }
  attribute.push_back(std::move(instance));
}

Status CheckUriList(const json& v, const std::string& field) {
  if (v.is_string()) {
    if (!IsUri(v.get_ref<const std::string&>())) return BadRequestData("must be a URI", field);
    return Status::Ok();
  }
  if (v.is_array() && !v.empty()) {
    for (const auto& o : v) {
      if (!o.is_string() || !IsUri(o.get_ref<const std::string&>())) return BadRequestData("must hold URIs", field);
    }
    return Status::Ok();
  }
  return BadRequestData("must be a URI or an array of URIs", field);
}

// Checks one reserved member of an instance.
Status CheckMember(std::string_view key, const json& v, const std::string& field) {
  const std::string f = field + "." + std::string(key);
  if (key == "type") {
    if (!v.is_string() || KindOf(v.get_ref<const std::string&>()) == nullptr) {
      return BadRequestData(
          "must be Property, GeoProperty, Relationship, LanguageProperty, VocabProperty, JsonProperty, ListProperty "
          "or ListRelationship",
          f);
    }
  } else if (key == "value" || key == "json") {
    if (v.is_null()) return BadRequestData("may not be null", f);
  } else if (key == "object") {
    return CheckUriList(v, f);
  } else if (key == "observedAt") {
    if (!v.is_string() || !IsDateTime(v.get_ref<const std::string&>())) {
      return BadRequestData("must be an RFC 3339 date-time such as 2026-11-18T07:00:00Z", f);
    }
  } else if (key == "datasetId") {
    if (!v.is_string() || !IsUri(v.get_ref<const std::string&>())) return BadRequestData("must be a URI", f);
  } else if (key == "unitCode" || key == "lang") {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) return BadRequestData("must be a string", f);
  } else if (key == "languageMap") {
    if (!v.is_object() || v.empty()) return BadRequestData("must be an object of language tags to strings", f);
    for (const auto& [lang, text] : v.items()) {
      if (!text.is_string() && !text.is_array())
        return BadRequestData("must map language tags to strings", f + "." + lang);
    }
  } else if (key == "vocab") {
    if (!v.is_string() && !(v.is_array() && !v.empty()))
      return BadRequestData("must be a term or an array of terms", f);
  } else if (key == "valueList" || key == "objectList") {
    if (!v.is_array()) return BadRequestData("must be an array", f);
  }
  return Status::Ok();
}

Result<json> ExpandInstance(const json& instance, const Context& ctx, const std::string& field, int depth) {
  json out = json::object();
  for (const auto& [key, v] : instance.items()) {
    if (IsSystemMember(key)) continue;
    if (IsInstanceMember(key)) {
      out[key] = v;
      continue;
    }
    std::string sub_field = field + "." + key;
    TL_ASSIGN_OR_RETURN(std::string name, ExpandName(key, ctx, sub_field));
    if (out.contains(name)) return BadRequestData("two sub-attributes expand to " + name, sub_field);
    TL_ASSIGN_OR_RETURN(out[name], ExpandInstance(v, ctx, sub_field, depth + 1));
  }
  return out;
}

// An attribute of a payload: one instance or an array of them (distinct datasetIds).
Result<json> ExpandAttribute(const json& value, const Context& ctx, const std::string& field) {
  if (value.is_object()) {
    TL_RETURN_IF_ERROR(ValidateInstance(value, field));
    return ExpandInstance(value, ctx, field, 0);
  }
  if (!value.is_array() || value.empty()) {
    return BadRequestData("an attribute must be an object with a type (or an array of such instances)", field);
  }
  if (value.size() > kMaxInstances) {
    return BadRequestData("at most " + std::to_string(kMaxInstances) + " instances of one attribute", field);
  }
  json out = json::array();
  std::set<std::optional<std::string>> datasets;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    TL_RETURN_IF_ERROR(ValidateInstance(value[i], f));
    if (!datasets.insert(DatasetOf(value[i])).second) {
      return BadRequestData("two instances have the same datasetId (or neither has one)", f + ".datasetId");
    }
    TL_ASSIGN_OR_RETURN(json expanded, ExpandInstance(value[i], ctx, f, 0));
    out.push_back(std::move(expanded));
  }
  Normalize(out);
  return out;
}

Result<json> ExpandTypes(const json& v, const Context& ctx) {
  std::vector<std::string> names;
  if (v.is_string()) {
    names.push_back(v.get<std::string>());
  } else if (v.is_array() && !v.empty() && v.size() <= kMaxTypes) {
    for (const auto& t : v) {
      if (!t.is_string()) return BadRequestData("types must be strings", "type");
      names.push_back(t.get<std::string>());
    }
  } else {
    return BadRequestData("must be a type name or an array of at most " + std::to_string(kMaxTypes) + " of them",
                          "type");
  }
  json out = json::array();
  for (const auto& n : names) {
    TL_ASSIGN_OR_RETURN(std::string iri, ExpandName(n, ctx, "type"));
    if (std::find(out.begin(), out.end(), iri) == out.end()) out.push_back(std::move(iri));
  }
  if (out.size() == 1) return out[0];
  return out;
}

json SimplifiedInstance(const json& instance) {
  auto type = instance.find("type");
  if (type != instance.end() && type->is_string()) {
    if (const AttributeKind* k = KindOf(type->get_ref<const std::string&>())) {
      auto it = instance.find(k->member);
      return it == instance.end() ? json() : *it;
    }
  }
  return json();
}

json RenderInstance(const json& instance, const Context& ctx, bool sys_attrs) {
  json out = json::object();
  for (const auto& [key, v] : instance.items()) {
    if (IsInstanceMember(key)) {
      if (!sys_attrs && IsSystemMember(key)) continue;
      out[key] = v;
    } else if (v.is_object()) {
      out[ctx.Compact(key)] = RenderInstance(v, ctx, sys_attrs);
    }
  }
  return out;
}

}  // namespace

bool IsInstanceMember(std::string_view name) {
  static constexpr std::string_view kMembers[] = {
      "type",       "value",      "object",     "languageMap", "vocab",      "json",
      "valueList",  "objectList", "observedAt", "unitCode",    "datasetId",  "createdAt",
      "modifiedAt", "deletedAt",  "instanceId", "lang",        "objectType",
  };
  return std::find(std::begin(kMembers), std::end(kMembers), name) != std::end(kMembers);
}

bool IsDateTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f+](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || !Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' || !Digits(s, 8, 2) ||
      s[10] != 'T' || !Digits(s, 11, 2) || s[13] != ':' || !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2)) {
    return false;
  }
  int month = (s[5] - '0') * 10 + (s[6] - '0');
  int day = (s[8] - '0') * 10 + (s[9] - '0');
  int hour = (s[11] - '0') * 10 + (s[12] - '0');
  int minute = (s[14] - '0') * 10 + (s[15] - '0');
  int second = (s[17] - '0') * 10 + (s[18] - '0');
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start || i - start > 9) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && Digits(zone, 1, 2) && zone[3] == ':' &&
         Digits(zone, 4, 2);
}

Status ValidateInstance(const json& instance, const std::string& field, int depth) {
  if (!instance.is_object()) return BadRequestData("an attribute must be an object with a type", field);
  auto type = instance.find("type");
  if (type == instance.end()) return BadRequestData("the attribute has no type", field + ".type");
  TL_RETURN_IF_ERROR(CheckMember("type", *type, field));
  const AttributeKind* kind = KindOf(type->get_ref<const std::string&>());
  auto value = instance.find(kind->member);
  if (value == instance.end() || value->is_null()) {
    return BadRequestData("a " + std::string(kind->type) + " needs a non-null '" + std::string(kind->member) + "'",
                          field + "." + std::string(kind->member));
  }
  for (const auto& [key, v] : instance.items()) {
    if (IsInstanceMember(key)) {
      TL_RETURN_IF_ERROR(CheckMember(key, v, field));
      continue;
    }
    std::string sub_field = field + "." + key;
    if (depth + 1 > kMaxSubAttributeDepth) {
      return BadRequestData("sub-attributes nest more than " + std::to_string(kMaxSubAttributeDepth) + " levels",
                            sub_field);
    }
    if (!v.is_object()) return BadRequestData("a sub-attribute must be an object with a type", sub_field);
    TL_RETURN_IF_ERROR(ValidateInstance(v, sub_field, depth + 1));
  }
  if (kind->type == "GeoProperty") {
    auto geometry = ParseGeometry(*value, field + ".value.");
    if (!geometry.ok()) return AsNgsiLd(geometry.status());
  }
  return Status::Ok();
}

Result<json> ExpandPayload(const json& body, const Context& ctx, PayloadKind kind, std::string_view expected_id) {
  if (!body.is_object()) return BadRequestData("must be a JSON object", "body");
  if (body.size() > kMaxAttributes + 8) {
    return BadRequestData("at most " + std::to_string(kMaxAttributes) + " attributes per request", "body");
  }
  json out = json::object();
  for (const auto& [key, v] : body.items()) {
    if (key == "@context" || IsSystemMember(key)) continue;
    if (key == "id") {
      if (!v.is_string() || !IsUri(v.get_ref<const std::string&>())) {
        return BadRequestData("the entity id must be a URI (e.g. urn:ngsi-ld:AirQualityObserved:hn-001)", "id");
      }
      if (kind == PayloadKind::kFragment && !expected_id.empty() && v.get_ref<const std::string&>() != expected_id) {
        return BadRequestData("the fragment's id differs from the entity's", "id");
      }
      if (kind == PayloadKind::kEntity) out["id"] = v;
      continue;
    }
    if (key == "type") {
      TL_ASSIGN_OR_RETURN(out["type"], ExpandTypes(v, ctx));
      continue;
    }
    if (key == "scope") {
      bool ok = v.is_string() || (v.is_array() && !v.empty() &&
                                  std::all_of(v.begin(), v.end(), [](const json& s) { return s.is_string(); }));
      if (!ok) return BadRequestData("must be a scope such as /Hanoi/BaDinh or an array of them", "scope");
      out["scope"] = v;
      continue;
    }
    TL_ASSIGN_OR_RETURN(std::string name, ExpandName(key, ctx, key));
    if (IsEntityMember(name) || out.contains(name)) return BadRequestData("two attributes expand to " + name, key);
    TL_ASSIGN_OR_RETURN(out[name], ExpandAttribute(v, ctx, key));
  }
  if (kind == PayloadKind::kEntity) {
    if (!out.contains("id")) return BadRequestData("an entity needs an id", "id");
    if (!out.contains("type")) return BadRequestData("an entity needs a type", "type");
  }
  return out;
}

Result<json> ExpandPartialInstance(const json& body, const Context& ctx, const std::string& field) {
  if (!body.is_object()) return BadRequestData("must be a JSON object", "body");
  json out = json::object();
  for (const auto& [key, v] : body.items()) {
    if (key == "@context" || IsSystemMember(key)) continue;
    if (IsInstanceMember(key)) {
      TL_RETURN_IF_ERROR(CheckMember(key, v, field));
      out[key] = v;
      continue;
    }
    std::string sub_field = field + "." + key;
    if (!v.is_object()) return BadRequestData("a sub-attribute must be an object with a type", sub_field);
    TL_RETURN_IF_ERROR(ValidateInstance(v, sub_field, 1));
    TL_ASSIGN_OR_RETURN(std::string name, ExpandName(key, ctx, sub_field));
    TL_ASSIGN_OR_RETURN(out[name], ExpandInstance(v, ctx, sub_field, 1));
  }
  if (out.empty()) return BadRequestData("the update names no member of the attribute", "body");
  return out;
}

std::vector<std::string> TypesOf(const json& doc) {
  std::vector<std::string> out;
  auto it = doc.find("type");
  if (it == doc.end()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) out.push_back(t.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> AttributeNames(const json& doc) {
  std::vector<std::string> out;
  for (const auto& [key, v] : doc.items()) {
    if (!IsEntityMember(key)) out.push_back(key);
  }
  return out;
}

std::optional<BoundingBox> LocationBounds(const json& doc) {
  auto it = doc.find(kLocationIri);
  if (it == doc.end()) return std::nullopt;
  std::optional<BoundingBox> out;
  for (const json* instance : Instances(*it)) {
    auto type = instance->find("type");
    auto value = instance->find("value");
    if (type == instance->end() || *type != "GeoProperty" || value == instance->end()) continue;
    auto geometry = ParseGeometry(*value);
    if (!geometry.ok()) continue;
    BoundingBox b = BoundsOf(*geometry);
    if (!out) {
      out = b;
    } else {
      out->min_lon = std::min(out->min_lon, b.min_lon);
      out->min_lat = std::min(out->min_lat, b.min_lat);
      out->max_lon = std::max(out->max_lon, b.max_lon);
      out->max_lat = std::max(out->max_lat, b.max_lat);
    }
  }
  return out;
}

void Stamp(json& attribute, const json* previous, const std::string& now) {
  for (json* instance : Instances(attribute)) {
    const json* before = previous ? FindInstance(*previous, DatasetOf(*instance)) : nullptr;
    auto created = before ? before->find("createdAt") : json::const_iterator();
    if (before && created != before->end()) {
      (*instance)["createdAt"] = *created;
    } else {
      (*instance)["createdAt"] = now;
    }
    (*instance)["modifiedAt"] = now;
  }
}

UpdateOutcome AppendAttributes(json& doc, const json& fragment, bool no_overwrite, const std::string& now) {
  UpdateOutcome o;
  if (auto types = fragment.find("type"); types != fragment.end()) {
    std::vector<std::string> have = TypesOf(doc);
    for (const auto& t : TypesOf(fragment)) {
      if (std::find(have.begin(), have.end(), t) == have.end()) {
        have.push_back(t);
        o.members_changed = true;
      }
    }
    if (o.members_changed) doc["type"] = have.size() == 1 ? json(have[0]) : json(have);
  }
  if (auto scope = fragment.find("scope"); scope != fragment.end()) {
    auto now_scope = doc.find("scope");
    if (now_scope == doc.end() || *now_scope != *scope) {
      doc["scope"] = *scope;
      o.members_changed = true;
    }
  }
  for (const auto& [name, value] : fragment.items()) {
    if (IsEntityMember(name)) continue;
    auto existing = doc.find(name);
    if (existing == doc.end()) {
      json stamped = value;
      Stamp(stamped, nullptr, now);
      doc[name] = std::move(stamped);
      o.updated.push_back(name);
      continue;
    }
    bool changed = false;
    bool skipped = false;
    for (const json* instance : Instances(value)) {
      json copy = *instance;
      json* same = FindInstance(*existing, DatasetOf(copy));
      if (same != nullptr && no_overwrite) {
        skipped = true;
        continue;
      }
      Stamp(copy, same, now);
      if (same != nullptr) {
        *same = std::move(copy);
      } else {
        AddInstance(*existing, std::move(copy));
      }
      changed = true;
    }
    Normalize(*existing);
    if (changed) o.updated.push_back(name);
    if (skipped && !changed) o.not_updated.emplace_back(name, "the attribute exists and noOverwrite was given");
  }
  return o;
}

std::string DumpStored(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// What AppendAttributes needs of a stored attribute that the fragment's one instance replaces whole:
// when `stored_text` is one instance without a datasetId (a compact object) and `replacing` is one
// instance without a datasetId, the merge keeps only the stored `createdAt` (Stamp) and drops the rest,
// so an object holding just that stands in for the parsed attribute (a sensor's measurement, mostly).
// nullopt otherwise: then the stored attribute is parsed whole.
std::optional<json> ReplacedInstanceStandIn(std::string_view stored_text, const json& replacing) {
  if (!replacing.is_object() || replacing.contains("datasetId")) return std::nullopt;
  auto members = ScanCompactJsonObject(stored_text);
  if (!members) return std::nullopt;
  json stand_in = json::object();
  for (const RawJsonMember& m : *members) {
    if (m.key == "datasetId") return std::nullopt;
    if (m.key == "createdAt") {
      json created = ParseJson(m.value);
      if (created.is_discarded()) return std::nullopt;
      stand_in["createdAt"] = std::move(created);
    }
  }
  return stand_in;
}

}  // namespace

std::optional<TextAppend> AppendAttributesToText(std::string_view stored, const json& fragment,
                                                 const std::string& now) {
  if (!fragment.is_object()) return std::nullopt;
  auto members = ScanCompactJsonObject(stored);
  if (!members) return std::nullopt;
  auto raw_of = [&](std::string_view name) -> const RawJsonMember* {
    auto it = std::lower_bound(members->begin(), members->end(), name,
                               [](const RawJsonMember& m, std::string_view n) { return m.key < n; });
    return it != members->end() && it->key == name ? &*it : nullptr;
  };
  TextAppend out;
  out.members = json::object();
  const std::string location_name(kLocationIri);
  // Parses the stored member `name` into out.members (nothing when the entity has none).
  auto take = [&](const std::string& name) -> bool {
    const RawJsonMember* raw = raw_of(name);
    if (raw == nullptr) return true;
    if (auto replacing = fragment.find(name);
        replacing != fragment.end() && !IsEntityMember(name) && name != location_name) {
      if (auto stand_in = ReplacedInstanceStandIn(raw->value, *replacing)) {
        out.members[name] = std::move(*stand_in);
        return true;
      }
    }
    json value = ParseJson(raw->value);
    if (value.is_discarded()) return false;
    out.members[name] = std::move(value);
    return true;
  };
  if (!take("type")) return std::nullopt;
  for (const auto& [name, value] : fragment.items()) {
    if (name == "id" || name == "type" || out.members.contains(name)) continue;
    if (!take(name)) return std::nullopt;
  }
  std::optional<json> location_before;
  if (fragment.contains(location_name)) {
    auto it = out.members.find(location_name);
    location_before = it == out.members.end() ? json() : *it;
  }
  out.outcome = AppendAttributes(out.members, fragment, /*no_overwrite=*/false, now);
  if (location_before) {
    auto it = out.members.find(location_name);
    out.location_kept = it == out.members.end() ? location_before->is_null() : *it == *location_before;
  }
  // The stored members and the merged ones, both in key order, as DumpStored of the whole would write.
  out.text.reserve(stored.size() + 256);
  out.text += '{';
  auto emit = [&](std::string_view key_text, std::string_view value_text) {
    if (out.text.size() > 1) out.text += ',';
    out.text += key_text;
    out.text += ':';
    out.text += value_text;
  };
  auto merged = out.members.items().begin();
  const auto merged_end = out.members.items().end();
  auto emit_merged = [&] {
    emit(DumpStored(json(merged.key())), DumpStored(merged.value()));
    ++merged;
  };
  for (const RawJsonMember& m : *members) {
    while (merged != merged_end && std::string_view(merged.key()) < m.key) emit_merged();
    if (merged != merged_end && std::string_view(merged.key()) == m.key) {
      emit_merged();  // the same key: the escape-free key dumps as it was written
    } else {
      emit("\"" + std::string(m.key) + '"', m.value);
    }
  }
  while (merged != merged_end) emit_merged();
  out.text += '}';
  return out;
}

UpdateOutcome UpdateAttributes(json& doc, const json& fragment, const std::string& now) {
  UpdateOutcome o;
  for (const auto& [name, value] : fragment.items()) {
    if (IsEntityMember(name)) continue;
    auto existing = doc.find(name);
    if (existing == doc.end()) {
      o.not_updated.emplace_back(name, "the entity has no such attribute");
      continue;
    }
    bool changed = false;
    std::string missing;
    for (const json* instance : Instances(value)) {
      json* same = FindInstance(*existing, DatasetOf(*instance));
      if (same == nullptr) {
        missing = DatasetOf(*instance).value_or("the default instance");
        continue;
      }
      json copy = *instance;
      Stamp(copy, same, now);
      *same = std::move(copy);
      changed = true;
    }
    if (changed) o.updated.push_back(name);
    if (!missing.empty()) o.not_updated.emplace_back(name, "the attribute has no instance " + missing);
  }
  return o;
}

Status PartialUpdate(json& doc, const std::string& attribute, const json& fragment, const std::string& now,
                     const std::string& field) {
  auto existing = doc.find(attribute);
  if (existing == doc.end()) return ResourceNotFound("the entity has no attribute " + attribute);
  std::optional<std::string> dataset = DatasetOf(fragment);
  json* instance = FindInstance(*existing, dataset);
  if (instance == nullptr) {
    return ResourceNotFound("the attribute has no instance " + dataset.value_or("without datasetId"));
  }
  json merged = *instance;
  for (const auto& [key, v] : fragment.items()) {
    if (key == "datasetId") continue;
    merged[key] = v;
  }
  TL_RETURN_IF_ERROR(ValidateInstance(merged, field));
  merged["modifiedAt"] = now;
  *instance = std::move(merged);
  return Status::Ok();
}

Status DeleteAttribute(json& doc, const std::string& attribute, const std::optional<std::string>& dataset_id,
                       bool delete_all) {
  auto existing = doc.find(attribute);
  if (existing == doc.end() || IsEntityMember(attribute)) {
    return ResourceNotFound("the entity has no attribute " + attribute);
  }
  if (delete_all) {
    doc.erase(existing);
    return Status::Ok();
  }
  json& value = *existing;
  if (value.is_object()) {
    if (DatasetOf(value) != dataset_id) {
      return ResourceNotFound("the attribute has no instance " + dataset_id.value_or("without datasetId"));
    }
    doc.erase(existing);
    return Status::Ok();
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (DatasetOf(value[i]) == dataset_id) {
      value.erase(i);
      if (value.empty()) {
        doc.erase(existing);
      } else {
        Normalize(value);
      }
      return Status::Ok();
    }
  }
  return ResourceNotFound("the attribute has no instance " + dataset_id.value_or("without datasetId"));
}

json Render(const json& doc, const Context& ctx, const RenderOptions& options, int64_t created_ms,
            int64_t modified_ms) {
  json out = json::object();
  out["id"] = doc.value("id", "");
  std::vector<std::string> types = TypesOf(doc);
  if (types.size() == 1) {
    out["type"] = ctx.Compact(types[0]);
  } else {
    json arr = json::array();
    for (const auto& t : types) arr.push_back(ctx.Compact(t));
    out["type"] = std::move(arr);
  }
  if (auto scope = doc.find("scope"); scope != doc.end()) out["scope"] = *scope;
  if (options.sys_attrs) {
    out["createdAt"] = FormatRfc3339(created_ms);
    out["modifiedAt"] = FormatRfc3339(modified_ms);
  }
  for (const auto& [key, value] : doc.items()) {
    if (IsEntityMember(key)) continue;
    if (options.attrs != nullptr && !options.attrs->contains(key)) continue;
    std::string name = ctx.Compact(key);
    if (options.key_values) {
      if (value.is_array()) {
        json arr = json::array();
        for (const auto& i : value) arr.push_back(SimplifiedInstance(i));
        out[name] = std::move(arr);
      } else {
        out[name] = SimplifiedInstance(value);
      }
    } else if (value.is_array()) {
      json arr = json::array();
      for (const auto& i : value) arr.push_back(RenderInstance(i, ctx, options.sys_attrs));
      out[name] = std::move(arr);
    } else {
      out[name] = RenderInstance(value, ctx, options.sys_attrs);
    }
  }
  return out;
}

std::string DumpEntity(const json& entity) {
  if (!entity.is_object()) return entity.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out = "{";
  bool first = true;
  auto emit = [&](const std::string& key, const json& v) {
    if (!first) out += ',';
    first = false;
    out += json(key).dump();
    out += ':';
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  for (const char* lead : {"@context", "id", "type"}) {
    if (auto it = entity.find(lead); it != entity.end()) emit(lead, *it);
  }
  for (const auto& [key, v] : entity.items()) {
    if (key != "@context" && key != "id" && key != "type") emit(key, v);
  }
  out += '}';
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Rendering stored text without a DOM.

namespace {

// A minimal scanner over JSON text the store wrote (valid, compact); any surprise makes it fail, and
// the caller falls back to the DOM.
class TextScanner {
 public:
  explicit TextScanner(std::string_view s) : s_(s) {}
  size_t pos() const { return i_; }
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  // A string without escapes (keys and types the store writes never need one), its content.
  bool PlainString(std::string_view* out) {
    SkipSpace();
    if (Peek() != '"') return false;
    size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') return false;
      ++i_;
    }
    if (i_ >= s_.size()) return false;
    *out = s_.substr(start, i_ - start);
    ++i_;
    return true;
  }
  // Skips one value; `out` is its text.
  bool Value(std::string_view* out) {
    SkipSpace();
    size_t start = i_;
    int depth = 0;
    do {
      if (i_ >= s_.size()) return false;
      char c = s_[i_];
      if (c == '"') {
        if (!SkipString()) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i_;
      } else if (c == '}' || c == ']') {
        if (--depth < 0) return false;
        ++i_;
      } else if (depth == 0) {
        while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']') ++i_;
      } else {
        ++i_;
      }
    } while (depth > 0);
    *out = s_.substr(start, i_ - start);
    return true;
  }
  // Skips the string whose opening quote is at the cursor. memchr finds each quote (the values are
  // mostly long IRIs and text); a quote after an odd run of backslashes is escaped, and the search
  // goes on past it.
  bool SkipString() {
    size_t from = i_ + 1;
    for (;;) {
      const void* hit = from < s_.size() ? std::memchr(s_.data() + from, '"', s_.size() - from) : nullptr;
      if (hit == nullptr) return false;
      size_t q = static_cast<size_t>(static_cast<const char*>(hit) - s_.data());
      size_t backslashes = 0;
      while (q - backslashes > i_ + 1 && s_[q - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) {
        i_ = q + 1;
        return true;
      }
      from = q + 1;
    }
  }
  // Iterates the members of the object at the cursor: fn(key, value text) -> bool.
  template <typename Fn>
  bool Members(Fn&& fn) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    while (true) {
      std::string_view key, value;
      if (!PlainString(&key) || !Consume(':') || !Value(&value)) return false;
      if (!fn(key, value)) return false;
      if (Consume(',')) continue;
      return Consume('}');
    }
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

bool RenderInstanceText(std::string_view text, const Context& ctx, bool sys_attrs, std::string& out, int depth) {
  if (depth > kMaxSubAttributeDepth + 1) return false;
  TextScanner sc(text);
  out += '{';
  bool first = true;
  bool ok = sc.Members([&](std::string_view key, std::string_view value) {
    if (IsInstanceMember(key)) {
      if (!sys_attrs && IsSystemMember(key)) return true;
      if (!first) out += ',';
      first = false;
      AppendQuoted(out, key);
      out += ':';
      out += value;
      return true;
    }
    if (value.empty() || value[0] != '{') return true;  // as Render: only object sub-attributes
    if (!first) out += ',';
    first = false;
    AppendQuoted(out, ctx.Compact(key));
    out += ':';
    return RenderInstanceText(value, ctx, sys_attrs, out, depth + 1);
  });
  out += '}';
  return ok;
}

}  // namespace

std::optional<std::string> RenderStoredText(std::string_view stored, const Context& ctx, const RenderOptions& options,
                                            int64_t created_ms, int64_t modified_ms, std::string_view context_url) {
  if (options.key_values) return std::nullopt;
  std::string_view id, type, scope;
  std::vector<std::pair<std::string_view, std::string_view>> attributes;
  TextScanner top(stored);
  bool ok = top.Members([&](std::string_view key, std::string_view value) {
    if (key == "id") {
      id = value;
    } else if (key == "type") {
      type = value;
    } else if (key == "scope") {
      scope = value;
    } else if (options.attrs == nullptr || options.attrs->contains(std::string(key))) {
      attributes.emplace_back(key, value);
    }
    return true;
  });
  if (!ok || id.empty() || type.empty()) return std::nullopt;
  std::string out;
  out.reserve(stored.size() + 64);
  out += '{';
  if (!context_url.empty()) {
    out += "\"@context\":";
    AppendQuoted(out, context_url);
    out += ',';
  }
  out += "\"id\":";
  out += id;
  out += ",\"type\":";
  if (type[0] == '"') {
    TextScanner t(type);
    std::string_view name;
    if (!t.PlainString(&name)) return std::nullopt;
    AppendQuoted(out, ctx.Compact(name));
  } else {
    TextScanner t(type);
    if (!t.Consume('[')) return std::nullopt;
    out += '[';
    bool first = true;
    while (!t.Consume(']')) {
      if (!first && !t.Consume(',')) return std::nullopt;
      std::string_view name;
      if (!t.PlainString(&name)) return std::nullopt;
      if (!first) out += ',';
      first = false;
      AppendQuoted(out, ctx.Compact(name));
    }
    out += ']';
  }
  if (!scope.empty()) {
    out += ",\"scope\":";
    out += scope;
  }
  if (options.sys_attrs) {
    out += ",\"createdAt\":\"" + FormatRfc3339(created_ms) + "\",\"modifiedAt\":\"" + FormatRfc3339(modified_ms) + '"';
  }
  for (const auto& [key, value] : attributes) {
    out += ',';
    AppendQuoted(out, ctx.Compact(key));
    out += ':';
    if (value.empty()) return std::nullopt;
    if (value[0] == '{') {
      if (!RenderInstanceText(value, ctx, options.sys_attrs, out, 0)) return std::nullopt;
    } else if (value[0] == '[') {
      TextScanner arr(value);
      if (!arr.Consume('[')) return std::nullopt;
      out += '[';
      bool first = true;
      while (!arr.Consume(']')) {
        if (!first && !arr.Consume(',')) return std::nullopt;
        std::string_view instance;
        if (!arr.Value(&instance) || instance.empty() || instance[0] != '{') return std::nullopt;
        if (!first) out += ',';
        first = false;
        if (!RenderInstanceText(instance, ctx, options.sys_attrs, out, 0)) return std::nullopt;
      }
      out += ']';
    } else {
      return std::nullopt;
    }
  }
  out += '}';
  return out;
}

}  // namespace tl::ngsild
