#include "http/openapi.h"

#include <nlohmann/json.hpp>

namespace tl::http {

std::string BuildOpenApi(const std::vector<Route>& routes, const std::string& version) {
  using nlohmann::json;
  json doc;
  doc["openapi"] = "3.1.0";
  doc["info"] = {{"title", "ThangLong API"},
                 {"version", version},
                 {"description",
                  "Hà Nội's open smart-city and e-government platform. Errors are RFC 9457 problem+json "
                  "documents with a stable `type` and, for invalid input, the offending `field`."}};
  doc["components"]["securitySchemes"]["bearer"] = {{"type", "http"}, {"scheme", "bearer"}};
  doc["components"]["schemas"]["Problem"] = {
      {"type", "object"},
      {"properties",
       {{"type", {{"type", "string"}}},
        {"title", {{"type", "string"}}},
        {"status", {{"type", "integer"}}},
        {"detail", {{"type", "string"}}},
        {"field", {{"type", "string"}}},
        {"instance", {{"type", "string"}}},
        {"request_id", {{"type", "string"}}}}},
      {"required", {"type", "title", "status"}}};
  json paths = json::object();
  for (const auto& r : routes) {
    json op;
    op["summary"] = r.doc.summary.empty() ? r.pattern : r.doc.summary;
    op["tags"] = {r.doc.tag.empty() ? "platform" : r.doc.tag};
    std::string opid = std::string(MethodName(r.method)) + r.pattern;
    for (auto& c : opid) {
      if (!isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    op["operationId"] = opid;
    json params = json::array();
    for (const auto& p : r.doc.params) {
      params.push_back({{"name", p.name},
                        {"in", p.in},
                        {"required", p.in == "path" ? true : p.required},
                        {"description", p.description},
                        {"schema", {{"type", p.type}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.doc.request_schema.empty()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", json::parse(r.doc.request_schema)}}}}}};
    }
    json ok = {{"description", "Success"}};
    if (!r.doc.response_schema.empty()) {
      ok["content"] = {{r.doc.response_media_type, {{"schema", json::parse(r.doc.response_schema)}}}};
    }
    op["responses"][std::to_string(r.doc.success_status)] = ok;
    op["responses"]["default"] = {
        {"description", "Error (problem+json)"},
        {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
    if (r.access.kind != Access::Kind::kPublic) {
      op["security"] = json::array({{{"bearer", json::array()}}});
      if (r.access.kind == Access::Kind::kRoles) op["x-roles"] = r.access.roles;
    }
    if (r.access.personal_data) op["x-audited-read"] = true;
    std::string method = MethodName(r.method);
    for (auto& c : method) c = static_cast<char>(tolower(c));
    paths[r.pattern][method] = op;
  }
  doc["paths"] = paths;
  return doc.dump(2);
}

}  // namespace tl::http
