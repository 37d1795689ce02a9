#include "modules/mqtt_ingest/device_registry.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/text.h"

namespace tl::mqtt_ingest {

using nlohmann::json;

namespace {

constexpr std::string_view kSmartDataModelsId = "thanglong-smart-data-models.jsonld";
constexpr const char* kColumns =
    "device_id, tenant, entity_id, entity_type, attributes, owner_agency, created_at, disabled";

bool IsTenantName(std::string_view s) {
  if (s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

bool IsUnitCode(std::string_view s) {
  if (s.empty() || s.size() > 10) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

std::string Field(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Devices of one type share their attributes' text: a batch parses each distinct text once.
using AttributesMemo = std::unordered_map<std::string, decltype(Device::attributes)>;

Result<Device> DecodeRow(const storage::Row& r, AttributesMemo* memo = nullptr) {
  Device d;
  d.id = r.Text(0);
  d.tenant = r.Text(1);
  d.entity_id = r.Text(2);
  d.entity_type = r.Text(3);
  std::string text = r.Text(4);
  if (memo != nullptr) {
    if (auto it = memo->find(text); it != memo->end()) d.attributes = it->second;
  }
  if (d.attributes.empty()) {
    json attrs = json::parse(text, nullptr, false);
    if (!attrs.is_object()) return Internal("the stored attributes of device " + d.id + " are not a JSON object");
    for (const auto& [shortname, a] : attrs.items()) {
      if (!a.is_object()) continue;
      d.attributes[shortname] = DeviceAttribute{a.value("name", ""), a.value("unitCode", "")};
    }
    if (memo != nullptr && !d.attributes.empty()) memo->emplace(std::move(text), d.attributes);
  }
  d.owner_agency = r.Text(5);
  d.created_at_ms = r.Int(6);
  d.disabled = r.Int(7) != 0;
  return d;
}

std::string AttributesText(const Device& d) {
  json attrs = json::object();
  for (const auto& [shortname, a] : d.attributes) {
    json one = {{"name", a.name}};
    if (!a.unit_code.empty()) one["unitCode"] = a.unit_code;
    attrs[shortname] = std::move(one);
  }
  return attrs.dump();
}

}  // namespace

bool IsDeviceName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

DeviceRegistry::DeviceRegistry(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                               std::shared_ptr<const ngsild::ContextRegistry> contexts)
    : db_(db), clock_(clock), audit_(audit), contexts_(std::move(contexts)) {
  ctx_ = contexts_->Default();
  if (const ngsild::HeldContext* sdm = contexts_->FindById(kSmartDataModelsId)) {
    if (auto c = contexts_->FromUrl(sdm->url); c.ok()) ctx_ = *c;
  }
}

std::vector<storage::Migration> DeviceRegistry::Migrations() {
  return {{1040, "MQTT device registry",
           "CREATE TABLE mqtt_devices (device_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, entity_id TEXT NOT NULL, "
           "entity_type TEXT NOT NULL, attributes TEXT NOT NULL, owner_agency TEXT NOT NULL, "
           "created_at BIGINT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);"
           "CREATE INDEX mqtt_devices_owner ON mqtt_devices (owner_agency, device_id);"}};
}

Result<Device> DeviceRegistry::FromJson(const json& j, const std::string& p) const {
  if (!j.is_object()) return InvalidArgument("a device is a JSON object", p.empty() ? "body" : p);
  static constexpr std::string_view kAllowed[] = {"id",         "tenant",       "entity_id", "entity_type",
                                                  "attributes", "owner_agency", "disabled",  "created_at"};
  for (const auto& [k, v] : j.items()) {
    if (std::find(std::begin(kAllowed), std::end(kAllowed), k) == std::end(kAllowed)) {
      return InvalidArgument("unknown member", Field(p, k));
    }
  }
  auto text = [&](const char* name, bool required) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required) return InvalidArgument("is required", Field(p, name));
      return std::string();
    }
    if (!it->is_string()) return InvalidArgument("must be a string", Field(p, name));
    return it->get<std::string>();
  };
  Device d;
  TL_ASSIGN_OR_RETURN(d.id, text("id", true));
  if (!IsDeviceName(d.id)) {
    return InvalidArgument("must be 1 to 100 letters, digits or ._:- (no / + #)", Field(p, "id"));
  }
  TL_ASSIGN_OR_RETURN(d.tenant, text("tenant", false));
  if (!IsTenantName(d.tenant)) return InvalidArgument("letters, digits and _.:- only, at most 100", Field(p, "tenant"));
  TL_ASSIGN_OR_RETURN(d.entity_id, text("entity_id", true));
  if (d.entity_id.size() > 512 || !ngsild::IsUri(d.entity_id)) {
    return InvalidArgument("must be an absolute URI such as urn:ngsi-ld:AirQualityObserved:hn-001",
                           Field(p, "entity_id"));
  }
  TL_ASSIGN_OR_RETURN(std::string type, text("entity_type", true));
  std::string type_iri = ctx_->Expand(type);
  if (type.empty() || type.size() > 512 || type_iri.empty() || type_iri[0] == '@' || !ngsild::IsUri(type_iri)) {
    return InvalidArgument("must be an entity type (a term of the Smart Data Models context or an IRI)",
                           Field(p, "entity_type"));
  }
  d.entity_type = type_iri;
  auto attrs = j.find("attributes");
  if (attrs == j.end() || !attrs->is_object() || attrs->empty()) {
    return InvalidArgument("must map the device's short names to NGSI-LD attributes", Field(p, "attributes"));
  }
  if (attrs->size() > kMaxDeviceAttributes) {
    return InvalidArgument("at most " + std::to_string(kMaxDeviceAttributes) + " attributes", Field(p, "attributes"));
  }
  for (const auto& [shortname, a] : attrs->items()) {
    std::string f = Field(p, "attributes." + shortname);
    if (!IsDeviceName(shortname) || shortname == "t") {
      return InvalidArgument("short names are 1 to 100 letters, digits or ._:- and not \"t\" (the time)", f);
    }
    std::string name, unit;
    if (a.is_string()) {
      name = a.get<std::string>();
    } else if (a.is_object()) {
      for (const auto& [k, v] : a.items()) {
        if (k != "name" && k != "unitCode") return InvalidArgument("unknown member", f + "." + k);
      }
      if (!a.contains("name") || !a["name"].is_string()) return InvalidArgument("is required (a string)", f + ".name");
      name = a["name"].get<std::string>();
      if (a.contains("unitCode")) {
        if (!a["unitCode"].is_string() || !IsUnitCode(a["unitCode"].get<std::string>())) {
          return InvalidArgument("must be a UN/CEFACT unit code such as CEL or GQ", f + ".unitCode");
        }
        unit = a["unitCode"].get<std::string>();
      }
    } else {
      return InvalidArgument("must be an attribute name or {\"name\", \"unitCode\"}", f);
    }
    std::string iri = ctx_->Expand(name);
    if (name.empty() || name.size() > 512 || name == "id" || name == "type" || iri.empty() || iri[0] == '@' ||
        !ngsild::IsUri(iri)) {
      return InvalidArgument("must be an NGSI-LD attribute name", a.is_object() ? f + ".name" : f);
    }
    d.attributes[shortname] = DeviceAttribute{iri, unit};
  }
  TL_ASSIGN_OR_RETURN(d.owner_agency, text("owner_agency", false));
  if (d.owner_agency.size() > 40) return InvalidArgument("at most 40 characters", Field(p, "owner_agency"));
  if (auto dis = j.find("disabled"); dis != j.end() && !dis->is_null()) {
    if (!dis->is_boolean()) return InvalidArgument("must be true or false", Field(p, "disabled"));
    d.disabled = dis->get<bool>();
  }
  return d;
}

json DeviceRegistry::ToJson(const Device& d) const {
  json attrs = json::object();
  for (const auto& [shortname, a] : d.attributes) {
    json one = {{"name", ctx_->Compact(a.name)}};
    if (!a.unit_code.empty()) one["unitCode"] = a.unit_code;
    attrs[shortname] = std::move(one);
  }
  return {{"id", d.id},
          {"tenant", d.tenant},
          {"entity_id", d.entity_id},
          {"entity_type", ctx_->Compact(d.entity_type)},
          {"attributes", std::move(attrs)},
          {"owner_agency", d.owner_agency},
          {"created_at", FormatRfc3339(d.created_at_ms)},
          {"disabled", d.disabled},
          {"topic", "devices/" + d.id + "/measurements"}};
}

Status DeviceRegistry::CheckOwner(const std::string& agency, const http::Principal* caller) const {
  if (caller == nullptr || caller->city_wide) return Status::Ok();
  if (agency.empty() || !caller->CoversAgency(agency)) {
    return PermissionDenied("the device's owner agency is outside your jurisdiction");
  }
  return Status::Ok();
}

Status DeviceRegistry::Upsert(storage::Session& s, Device& d, bool replace, bool* created) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT owner_agency, created_at FROM mqtt_devices WHERE device_id = ?", {d.id}));
  if (!rs.empty()) {
    if (!replace) return AlreadyExists("a device with this id is registered", "id");
    d.created_at_ms = rs.rows[0].Int(1);
    *created = false;
    return s
        .Exec("UPDATE mqtt_devices SET tenant = ?, entity_id = ?, entity_type = ?, attributes = ?, owner_agency = ?, "
              "disabled = ? WHERE device_id = ?",
              {d.tenant, d.entity_id, d.entity_type, AttributesText(d), d.owner_agency, int64_t{d.disabled ? 1 : 0},
               d.id})
        .status();
  }
  d.created_at_ms = clock_->NowMillis();
  *created = true;
  Status st = s.Exec("INSERT INTO mqtt_devices (device_id, tenant, entity_id, entity_type, attributes, owner_agency, "
                     "created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     {d.id, d.tenant, d.entity_id, d.entity_type, AttributesText(d), d.owner_agency, d.created_at_ms,
                      int64_t{d.disabled ? 1 : 0}})
                  .status();
  if (storage::IsUniqueViolation(st)) return AlreadyExists("a device with this id is registered", "id");
  return st;
}

Result<Device> DeviceRegistry::Register(Device d, const http::Principal* caller, const audit::Entry& ctx) const {
  if (d.owner_agency.empty() && caller && caller->agency) d.owner_agency = *caller->agency;
  TL_RETURN_IF_ERROR(CheckOwner(d.owner_agency, caller));
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    bool created = false;
    TL_RETURN_IF_ERROR(Upsert(s, d, false, &created));
    audit::Entry e = ctx;
    e.action = "device.register";
    e.resource = "device:" + d.id;
    e.detail = json{{"entity_id", d.entity_id}, {"owner_agency", d.owner_agency}}.dump();
    return audit_->Append(s, e);
  }));
  return d;
}

Result<std::pair<int64_t, int64_t>> DeviceRegistry::RegisterBatch(std::vector<Device> devices,
                                                                  const http::Principal* caller,
                                                                  const audit::Entry& ctx) const {
  std::set<std::string> seen;
  for (size_t i = 0; i < devices.size(); ++i) {
    Device& d = devices[i];
    if (d.owner_agency.empty() && caller && caller->agency) d.owner_agency = *caller->agency;
    TL_RETURN_IF_ERROR(CheckOwner(d.owner_agency, caller));
    if (!seen.insert(d.id).second) {
      return InvalidArgument("the id appears twice in the batch", "devices[" + std::to_string(i) + "].id");
    }
  }
  std::pair<int64_t, int64_t> counts{0, 0};
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    counts = {0, 0};
    for (auto& d : devices) {
      bool created = false;
      TL_RETURN_IF_ERROR(Upsert(s, d, true, &created));
      (created ? counts.first : counts.second)++;
    }
    audit::Entry e = ctx;
    e.action = "device.register_batch";
    e.resource = "devices";
    e.detail = json{{"created", counts.first}, {"replaced", counts.second}}.dump();
    return audit_->Append(s, e);
  }));
  return counts;
}

Result<Device> DeviceRegistry::Get(const std::string& id, const http::Principal* caller) const {
  Device out;
  bool found = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kColumns + " FROM mqtt_devices WHERE device_id = ?",
                                         {id}));
    if (rs.empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(out, DecodeRow(rs.rows[0]));
    found = true;
    return Status::Ok();
  }));
  if (!found) return NotFound("no device " + id);
  if (!CheckOwner(out.owner_agency, caller).ok()) return NotFound("no device " + id);
  return out;
}

Status DeviceRegistry::Delete(const std::string& id, const http::Principal* caller, const audit::Entry& ctx) const {
  return db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT owner_agency FROM mqtt_devices WHERE device_id = ?", {id}));
    if (rs.empty() || !CheckOwner(rs.rows[0].Text(0), caller).ok()) return NotFound("no device " + id);
    TL_RETURN_IF_ERROR(s.Exec("DELETE FROM mqtt_devices WHERE device_id = ?", {id}).status());
    audit::Entry e = ctx;
    e.action = "device.delete";
    e.resource = "device:" + id;
    return audit_->Append(s, e);
  });
}

Result<std::vector<Device>> DeviceRegistry::List(const std::string& after, int limit,
                                                 const http::Principal* caller) const {
  std::vector<Device> out;
  std::string sql = std::string("SELECT ") + kColumns + " FROM mqtt_devices WHERE device_id > ?";
  std::vector<storage::Value> params = {after};
  if (caller && !caller->city_wide) {
    if (caller->agencies_in_jurisdiction.empty()) return out;
    sql += " AND owner_agency IN (";
    for (size_t i = 0; i < caller->agencies_in_jurisdiction.size(); ++i) {
      sql += i ? ", ?" : "?";
      params.emplace_back(caller->agencies_in_jurisdiction[i]);
    }
    sql += ")";
  }
  sql += " ORDER BY device_id LIMIT ?";
  params.emplace_back(int64_t{limit});
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    out.clear();
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& r : rs.rows) {
      TL_ASSIGN_OR_RETURN(auto d, DecodeRow(r));
      out.push_back(std::move(d));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::unordered_map<std::string, Device>> DeviceRegistry::LoadMany(const std::vector<std::string>& ids) const {
  std::unordered_map<std::string, Device> out;
  if (ids.empty()) return out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    out.clear();
    AttributesMemo memo;
    for (size_t start = 0; start < ids.size(); start += 500) {
      size_t end = std::min(ids.size(), start + 500);
      std::string sql = std::string("SELECT ") + kColumns + " FROM mqtt_devices WHERE device_id IN (";
      std::vector<storage::Value> params;
      for (size_t i = start; i < end; ++i) {
        sql += i > start ? ", ?" : "?";
        params.emplace_back(ids[i]);
      }
      sql += ")";
      TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
      for (const auto& r : rs.rows) {
        TL_ASSIGN_OR_RETURN(auto d, DecodeRow(r, &memo));
        out.emplace(d.id, std::move(d));
      }
    }
    return Status::Ok();
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Routes

namespace {

Result<json> ParseJsonBody(const http::Request& req) {
  auto ct = req.Header("content-type");
  if (!ct || ct->find("json") == std::string_view::npos) {
    return Status(StatusCode::kUnsupportedMediaType, "send application/json", "Content-Type");
  }
  if (!text::IsValidUtf8(req.body)) return InvalidArgument("the body is not valid UTF-8", "body");
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("the body is not valid JSON", "body");
  return j;
}

const http::Principal* CallerOf(const http::Request& req) {
  return req.principal ? &*req.principal : nullptr;
}

const char* kDeviceSchema =
    R"({"type":"object","required":["id","entity_id","entity_type","attributes"],"properties":{)"
    R"("id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,100}$"},"tenant":{"type":"string"},)"
    R"("entity_id":{"type":"string","format":"uri"},"entity_type":{"type":"string"},)"
    R"("attributes":{"type":"object","additionalProperties":{"oneOf":[{"type":"string"},)"
    R"({"type":"object","required":["name"],"properties":{"name":{"type":"string"},"unitCode":{"type":"string"}}}]}},)"
    R"("owner_agency":{"type":"string"},"disabled":{"type":"boolean"}}})";

}  // namespace

std::vector<http::Route> Routes(DeviceRegistry* registry) {
  using http::Access;
  using http::Method;
  const Access access = Access::Roles({"city_admin", "operator"});
  std::vector<http::Route> r;
  r.push_back({Method::kGet, "/api/v1/devices", access,
               [registry](http::Request& req) -> Result<http::Response> {
                 int limit = 100;
                 if (auto l = req.Query("limit")) {
                   char* end = nullptr;
                   long n = std::strtol(l->c_str(), &end, 10);
                   if (l->empty() || *end != '\0' || n < 1 || n > kMaxDeviceListLimit) {
                     return InvalidArgument("must be a whole number from 1 to 1000", "limit");
                   }
                   limit = static_cast<int>(n);
                 }
                 std::string after = req.Query("after").value_or("");
                 TL_ASSIGN_OR_RETURN(auto devices, registry->List(after, limit, CallerOf(req)));
                 json items = json::array();
                 for (const auto& d : devices) items.push_back(registry->ToJson(d));
                 json out = {{"items", std::move(items)}};
                 if (static_cast<int>(devices.size()) == limit) out["next"] = devices.back().id;
                 return http::Response::Json(200, out.dump());
               },
               {"Registered MQTT devices in id order (operators: their jurisdiction's)",
                "devices",
                {{"limit", "query", "At most this many (1-1000, default 100)", false, "integer"},
                 {"after", "query", "Continue after this device id (the previous page's `next`)"}},
                "",
                R"({"type":"object","properties":{"items":{"type":"array"},"next":{"type":"string"}}})"}});
  r.push_back({Method::kPost, "/api/v1/devices", access,
               [registry](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(json body, ParseJsonBody(req));
                 TL_ASSIGN_OR_RETURN(Device d, registry->FromJson(body));
                 TL_ASSIGN_OR_RETURN(Device stored,
                                     registry->Register(std::move(d), CallerOf(req), audit::EntryFor(req, "", "")));
                 http::Response resp = http::Response::Json(201, registry->ToJson(stored).dump());
                 resp.headers.emplace_back("Location", "/api/v1/devices/" + stored.id);
                 return resp;
               },
               {"Register a device: its compact measurements (devices/{id}/measurements) update this entity",
                "devices", {}, kDeviceSchema, R"({"type":"object"})", 201}});
  r.push_back({Method::kPost, "/api/v1/devices:batch", access,
               [registry](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(json body, ParseJsonBody(req));
                 if (!body.is_object()) return InvalidArgument("must be an object {\"devices\": [...]}", "body");
                 for (const auto& [k, v] : body.items()) {
                   if (k != "devices") return InvalidArgument("unknown member", k);
                 }
                 auto list = body.find("devices");
                 if (list == body.end() || !list->is_array() || list->empty()) {
                   return InvalidArgument("must be a non-empty array of devices", "devices");
                 }
                 if (list->size() > kMaxDevicesPerBatch) {
                   return InvalidArgument("at most " + std::to_string(kMaxDevicesPerBatch) + " devices per batch",
                                          "devices");
                 }
                 std::vector<Device> devices;
                 devices.reserve(list->size());
                 for (size_t i = 0; i < list->size(); ++i) {
                   TL_ASSIGN_OR_RETURN(Device d, registry->FromJson((*list)[i], "devices[" + std::to_string(i) + "]"));
                   devices.push_back(std::move(d));
                 }
                 TL_ASSIGN_OR_RETURN(auto counts, registry->RegisterBatch(std::move(devices), CallerOf(req),
                                                                          audit::EntryFor(req, "", "")));
                 return http::Response::Json(200, json{{"created", counts.first}, {"replaced", counts.second}}.dump());
               },
               {"Register up to 10,000 devices at once; existing ids are replaced (all or nothing)",
                "devices", {},
                std::string(R"({"type":"object","required":["devices"],"properties":{"devices":{"type":"array","items":)") +
                    kDeviceSchema + "}}}",
                R"({"type":"object","properties":{"created":{"type":"integer"},"replaced":{"type":"integer"}}})"},
               32u << 20});
  r.push_back({Method::kGet, "/api/v1/devices/{id}", access,
               [registry](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(Device d, registry->Get(req.Param("id"), CallerOf(req)));
                 return http::Response::Json(200, registry->ToJson(d).dump());
               },
               {"One registered device", "devices", {{"id", "path", "Device id", true}}, "", R"({"type":"object"})"}});
  r.push_back({Method::kDelete, "/api/v1/devices/{id}", access,
               [registry](http::Request& req) -> Result<http::Response> {
                 TL_RETURN_IF_ERROR(registry->Delete(req.Param("id"), CallerOf(req), audit::EntryFor(req, "", "")));
                 return http::Response::NoContent();
               },
               {"Remove a device: its later measurements are counted as from an unknown device", "devices",
                {{"id", "path", "Device id", true}}, "", ""}});
  return r;
}

}  // namespace tl::mqtt_ingest
