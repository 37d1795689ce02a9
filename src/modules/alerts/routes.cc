#include "modules/alerts/routes.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "http/json_body.h"

namespace tl::alerts {
namespace {

using nlohmann::json;

const std::vector<std::string> kReaders = {"operator", "city_admin"};

// A positive decimal integer, or nullopt.
std::optional<int64_t> PositiveInt(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

Result<int64_t> AlertId(const http::Request& req) {
  auto id = PositiveInt(req.Param("id"));
  if (!id) return NotFound("no alert " + req.Param("id"));
  return *id;
}

Result<AlertFilter> ParseFilter(const http::Request& req) {
  AlertFilter f;
  if (auto s = req.Query("status")) {
    TL_RETURN_IF_ERROR(http::OneOf(*s, {"open", "acknowledged", "assigned", "resolved"}, "status"));
    f.status = *s;
  }
  if (auto s = req.Query("severity")) {
    TL_RETURN_IF_ERROR(http::OneOf(*s, {"informational", "low", "medium", "high", "critical"}, "severity"));
    f.severity = *s;
  }
  if (auto s = req.Query("entity_type")) {
    if (s->empty() || s->size() > 200) return InvalidArgument("an entity type, e.g. AirQualityObserved", "entity_type");
    f.entity_type = *s;
  }
  if (auto s = req.Query("limit")) {
    auto n = PositiveInt(*s);
    if (!n || *n > kMaxListLimit) {
      return InvalidArgument("an integer from 1 to " + std::to_string(kMaxListLimit), "limit");
    }
    f.limit = static_cast<int>(*n);
  }
  if (auto s = req.Query("cursor")) {
    auto n = PositiveInt(*s);
    if (!n) return InvalidArgument("the next_cursor of a previous page", "cursor");
    f.before_id = *n;
  }
  return f;
}

Result<Rule> ParseRuleBody(const http::Request& req) {
  TL_ASSIGN_OR_RETURN(
      auto body, http::JsonBody::Parse(req, {"id", "name_vi", "name_en", "entity_type", "attribute", "kind", "operator",
                                             "value", "value_attribute", "duration_minutes", "severity",
                                             "escalate_after_minutes", "category", "sub_category", "unit", "enabled"}));
  json j = json::object();
  for (const char* name :
       {"id", "name_vi", "name_en", "entity_type", "attribute", "kind", "operator", "value", "value_attribute",
        "duration_minutes", "severity", "escalate_after_minutes", "category", "sub_category", "unit", "enabled"}) {
    if (const json* v = body.Raw(name)) j[name] = *v;
  }
  if (req.path_params.count("id")) {
    const std::string& id = req.Param("id");
    if (j.contains("id") && j["id"] != id) return InvalidArgument("the id cannot be changed", "id");
    j["id"] = id;
  }
  return ParseRule(j);
}

const char* kAlertSchema =
    R"({"type":"object","properties":{"id":{"type":"string"},"rule_id":{"type":"string"},"rule_name":{"type":"string"},"entity_id":{"type":"string"},"entity_type":{"type":"string"},"attribute":{"type":"string"},"severity":{"enum":["informational","low","medium","high","critical"]},"status":{"enum":["open","acknowledged","assigned","resolved"]},"title":{"type":"string"},"description":{"type":"string"},"value":{"type":["number","null"]},"threshold":{"type":["number","null"]},"location":{"type":["object","null"]},"raised_at":{"type":"string","format":"date-time"},"updated_at":{"type":"string","format":"date-time"},"acknowledged_by":{"type":["string","null"]},"acknowledged_at":{"type":["string","null"],"format":"date-time"},"assignee":{"type":["string","null"]},"escalated":{"type":"boolean"},"condition_cleared":{"type":"boolean"},"version":{"type":"integer"},"comments":{"type":"array","items":{"type":"object","properties":{"by":{"type":"string"},"at":{"type":"string"},"text":{"type":"string"}}}},"history":{"type":"array","items":{"type":"object","properties":{"action":{"type":"string"},"by":{"type":"string"},"at":{"type":"string"},"note":{"type":"string"}}}}}})";

const char* kRuleSchema =
    R"({"type":"object","required":["id","name_vi","name_en","entity_type","attribute","kind","severity"],"properties":{"id":{"type":"string","pattern":"^[a-z0-9-]{1,64}$"},"name_vi":{"type":"string"},"name_en":{"type":"string"},"entity_type":{"type":"string"},"attribute":{"type":"string"},"kind":{"enum":["threshold","sustained","rate_of_change","missing_data"]},"operator":{"enum":[">",">=","<","<=","==","!="]},"value":{"type":"number"},"value_attribute":{"type":"string"},"duration_minutes":{"type":"integer"},"severity":{"enum":["informational","low","medium","high","critical"]},"escalate_after_minutes":{"type":"integer"},"category":{"type":"string"},"sub_category":{"type":"string"},"unit":{"type":"string"},"enabled":{"type":"boolean"}}})";

}  // namespace

std::vector<http::Route> Routes(AlertService* service) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  const std::string page_schema = std::string(R"({"type":"object","properties":{"items":{"type":"array","items":)") +
                                  kAlertSchema + R"(},"next_cursor":{"type":["string","null"]}}})";
  r.push_back({Method::kGet,
               "/api/v1/alerts",
               Access::Roles(kReaders),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto filter, ParseFilter(req));
                 TL_ASSIGN_OR_RETURN(auto page, service->List(filter));
                 json items = json::array();
                 for (const auto& a : page.items) items.push_back(AlertJson(a));
                 json body = {
                     {"items", items},
                     {"next_cursor", page.next_cursor ? json(std::to_string(*page.next_cursor)) : json(nullptr)}};
                 return http::Response::Json(200, body.dump());
               },
               {"Alerts of the operations center, newest first (operators, city admins)",
                "alerts",
                {{"status", "query", "open (not resolved), acknowledged, assigned or resolved"},
                 {"severity", "query", "informational, low, medium, high or critical"},
                 {"entity_type", "query", "Entity type, compact (e.g. AirQualityObserved)"},
                 {"limit", "query", "1 to 200, default 50", false, "integer"},
                 {"cursor", "query", "next_cursor of the previous page"}},
                "",
                page_schema}});
  const http::ParamDoc id_param{"id", "path", "Alert id", true};
  r.push_back({Method::kGet,
               "/api/v1/alerts/{id}",
               Access::Roles(kReaders),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int64_t id, AlertId(req));
                 TL_ASSIGN_OR_RETURN(auto alert, service->Get(id));
                 return http::Response::Json(200, AlertJson(alert).dump());
               },
               {"One alert with its comments and history", "alerts", {id_param}, "", kAlertSchema}});
  r.push_back(
      {Method::kPost,
       "/api/v1/alerts/{id}/actions/{action}",
       Access::Roles(kReaders),
       [service](http::Request& req) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(int64_t id, AlertId(req));
         auto action = ParseAction(req.Param("action"));
         if (!action) return NotFound("no action " + req.Param("action") + " (acknowledge, assign, comment, resolve)");
         TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"version", "note", "assignee", "text"}));
         ActionRequest a;
         TL_ASSIGN_OR_RETURN(auto version, body.OptionalInt("version"));
         if (!version) return InvalidArgument("version is required (the alert's version you acted on)", "version");
         a.version = *version;
         TL_ASSIGN_OR_RETURN(auto note, body.OptionalString("note", 1000));
         a.note = note.value_or("");
         if (*action == Action::kAssign) {
           TL_ASSIGN_OR_RETURN(a.assignee, body.String("assignee", 100));
         } else if (body.Has("assignee")) {
           return InvalidArgument("only assign takes an assignee", "assignee");
         }
         if (*action == Action::kComment) {
           TL_ASSIGN_OR_RETURN(a.text, body.String("text", 2000));
         } else if (body.Has("text")) {
           return InvalidArgument("only comment takes a text", "text");
         }
         TL_ASSIGN_OR_RETURN(auto alert, service->Act(audit::EntryFor(req, "", ""), id, *action, a));
         return http::Response::Json(200, AlertJson(alert).dump());
       },
       {"Acknowledge, assign, comment on or resolve an alert (operators, city admins; audited). Stale version or "
        "a transition the status does not allow: 409",
        "alerts",
        {id_param, {"action", "path", "acknowledge, assign, comment or resolve", true}},
        R"({"type":"object","required":["version"],"properties":{"version":{"type":"integer"},"note":{"type":"string","maxLength":1000},"assignee":{"type":"string","maxLength":100},"text":{"type":"string","maxLength":2000}}})",
        kAlertSchema}});

  const http::ParamDoc rule_param{"id", "path", "Rule id", true};
  r.push_back(
      {Method::kGet,
       "/api/v1/alert-rules",
       Access::Roles(kReaders),
       [service](http::Request&) -> Result<http::Response> {
         TL_ASSIGN_OR_RETURN(auto rules, service->ListRules());
         json items = json::array();
         for (const auto& rule : rules) items.push_back(RuleJson(rule));
         return http::Response::Json(200, json{{"items", items}}.dump());
       },
       {"The alert rules (operators, city admins)",
        "alerts",
        {},
        "",
        std::string(R"({"type":"object","properties":{"items":{"type":"array","items":)") + kRuleSchema + "}}}"}});
  r.push_back({Method::kGet,
               "/api/v1/alert-rules/{id}",
               Access::Roles(kReaders),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto rule, service->GetRule(req.Param("id")));
                 return http::Response::Json(200, RuleJson(rule).dump());
               },
               {"One alert rule", "alerts", {rule_param}, "", kRuleSchema}});
  r.push_back({Method::kPost,
               "/api/v1/alert-rules",
               Access::Roles({"city_admin"}),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto rule, ParseRuleBody(req));
                 TL_RETURN_IF_ERROR(service->CreateRule(audit::EntryFor(req, "", ""), rule));
                 return http::Response::Json(201, RuleJson(rule).dump());
               },
               {"Add an alert rule (city admins; audited)", "alerts", {}, kRuleSchema, kRuleSchema, 201}});
  r.push_back({Method::kPut,
               "/api/v1/alert-rules/{id}",
               Access::Roles({"city_admin"}),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto rule, ParseRuleBody(req));
                 TL_RETURN_IF_ERROR(service->ReplaceRule(audit::EntryFor(req, "", ""), rule));
                 return http::Response::Json(200, RuleJson(rule).dump());
               },
               {"Replace an alert rule (city admins; audited)", "alerts", {rule_param}, kRuleSchema, kRuleSchema}});
  r.push_back({Method::kDelete,
               "/api/v1/alert-rules/{id}",
               Access::Roles({"city_admin"}),
               [service](http::Request& req) -> Result<http::Response> {
                 TL_RETURN_IF_ERROR(service->DeleteRule(audit::EntryFor(req, "", ""), req.Param("id")));
                 return http::Response::NoContent();
               },
               {"Remove an alert rule; its alerts stay (city admins; audited)", "alerts", {rule_param}, "", "", 204}});
  return r;
}

}  // namespace tl::alerts
