#include "modules/exchange/grants.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/clock.h"
#include "core/text.h"
#include "http/json_body.h"

namespace tl::exchange {
namespace {

using nlohmann::json;

}  // namespace

std::vector<storage::Migration> Grants::Migrations() {
  return {{711, "data services and grants",
           "CREATE TABLE exchange_services (code TEXT PRIMARY KEY, provider_agency TEXT NOT NULL, title TEXT NOT NULL, "
           "fields TEXT NOT NULL);"
           "CREATE TABLE exchange_grants (id {{ID}}, consumer_agency TEXT NOT NULL, service TEXT NOT NULL "
           "REFERENCES exchange_services(code), fields TEXT NOT NULL, legal_basis TEXT NOT NULL, purpose TEXT NOT NULL, "
           "expires_at BIGINT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);"
           "CREATE INDEX exchange_grants_consumer ON exchange_grants (consumer_agency, service);"}};
}

Status Grants::Publish(const DataService& svc) const {
  return db_->Write([&](storage::Session& s) -> Status {
    return s.Exec("INSERT INTO exchange_services (code, provider_agency, title, fields) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (code) DO UPDATE SET provider_agency = excluded.provider_agency, title = excluded.title, "
                  "fields = excluded.fields",
                  {svc.code, svc.provider_agency, svc.title, text::Join(svc.fields)})
        .status();
  });
}

Result<json> Grants::Services() const {
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT code, provider_agency, title, fields FROM exchange_services ORDER BY code"));
    for (const auto& r : rs.rows) {
      items.push_back(json{{"code", r.Text(0)}, {"provider_agency", r.Text(1)}, {"title", r.Text(2)},
                           {"fields", text::Split(r.Text(3))}});
    }
    return Status::Ok();
  }));
  return json{{"items", std::move(items)}};
}

Result<json> Grants::Create(const NewGrant& g, const audit::Entry& ctx) const {
  if (g.consumer_agency.empty() || g.consumer_agency.size() > 40) return InvalidArgument("is required", "consumer_agency");
  if (g.fields.empty()) return InvalidArgument("name at least one field group", "fields");
  if (text::CodePointCount(g.legal_basis) < 5) return InvalidArgument("cite the legal basis (5+ characters)", "legal_basis");
  if (text::CodePointCount(g.purpose) < 5) return InvalidArgument("state the purpose (5+ characters)", "purpose");
  if (g.expires_at_ms <= clock_->NowMillis()) return InvalidArgument("must be in the future", "expires_on");
  int64_t id = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto svc, s.Query("SELECT fields FROM exchange_services WHERE code = ?", {g.service}));
    if (svc.empty()) return InvalidArgument("no such data service", "service");
    auto offered = text::Split(svc.rows[0].Text(0));
    for (const auto& f : g.fields) {
      if (std::find(offered.begin(), offered.end(), f) == offered.end()) {
        return InvalidArgument("the service does not offer '" + f + "'", "fields");
      }
    }
    TL_ASSIGN_OR_RETURN(auto agency, s.Query("SELECT code FROM agencies WHERE code = ?", {g.consumer_agency}));
    if (agency.empty()) return InvalidArgument("no such agency", "consumer_agency");
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("INSERT INTO exchange_grants (consumer_agency, service, fields, legal_basis, "
                                         "purpose, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                                         "RETURNING id",
                                         {g.consumer_agency, g.service, text::Join(g.fields), g.legal_basis, g.purpose,
                                          g.expires_at_ms, ctx.actor, clock_->NowMillis()}));
    id = rs.rows.at(0).Int(0);
    audit::Entry e = ctx;
    e.action = "exchange.grant";
    e.resource = "grant:" + std::to_string(id);
    e.detail = json{{"consumer", g.consumer_agency}, {"service", g.service}, {"fields", g.fields}}.dump();
    return audit_->Append(s, e);
  }));
  return json{{"id", id},           {"consumer_agency", g.consumer_agency}, {"service", g.service},
              {"fields", g.fields}, {"legal_basis", g.legal_basis},        {"purpose", g.purpose},
              {"expires_at", FormatRfc3339(g.expires_at_ms)}};
}

Result<json> Grants::List() const {
  json items = json::array();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, consumer_agency, service, fields, legal_basis, purpose, expires_at, "
                                         "created_by, revoked_at FROM exchange_grants ORDER BY id DESC LIMIT 1000"));
    int64_t now = clock_->NowMillis();
    for (const auto& r : rs.rows) {
      items.push_back(json{{"id", r.Int(0)},
                           {"consumer_agency", r.Text(1)},
                           {"service", r.Text(2)},
                           {"fields", text::Split(r.Text(3))},
                           {"legal_basis", r.Text(4)},
                           {"purpose", r.Text(5)},
                           {"expires_at", FormatRfc3339(r.Int(6))},
                           {"created_by", r.Text(7)},
                           {"revoked_at", r.IsNull(8) ? json(nullptr) : json(FormatRfc3339(r.Int(8)))},
                           {"status", !r.IsNull(8) ? "revoked" : (r.Int(6) > now ? "active" : "expired")},
                           {"active", r.IsNull(8) && r.Int(6) > now}});
    }
    return Status::Ok();
  }));
  return json{{"items", std::move(items)}};
}

Status Grants::Revoke(int64_t id, const audit::Entry& ctx) const {
  return db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("UPDATE exchange_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                       {clock_->NowMillis(), id}));
    if (n != 1) return NotFound("no such live grant");
    audit::Entry e = ctx;
    e.action = "exchange.revoke";
    e.resource = "grant:" + std::to_string(id);
    return audit_->Append(s, e);
  });
}

Result<std::set<std::string>> Grants::Check(storage::Session& s, const std::string& agency,
                                            const std::string& service) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT fields FROM exchange_grants WHERE consumer_agency = ? AND service = ? "
                                       "AND revoked_at IS NULL AND expires_at > ?",
                                       {agency, service, clock_->NowMillis()}));
  std::set<std::string> fields;
  for (const auto& r : rs.rows) {
    for (auto& f : text::Split(r.Text(0))) fields.insert(std::move(f));
  }
  if (fields.empty()) {
    return PermissionDenied("your agency (" + (agency.empty() ? std::string("none") : agency) +
                            ") holds no live grant for the data service " + service);
  }
  return fields;
}

std::vector<http::Route> GrantRoutes(Grants* grants) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back({Method::kGet, "/api/v1/exchange/services",
               Access::Roles({"desk_officer", "specialist", "leader", "agency_admin", "city_admin"}),
               [grants](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, grants->Services());
                 return http::Response::Json(200, j.dump());
               },
               {"Data services agencies publish, with the field groups each offers", "exchange", {}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kGet, "/api/v1/exchange/grants", Access::Roles({"city_admin"}),
               [grants](http::Request&) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, grants->List());
                 return http::Response::Json(200, j.dump());
               },
               {"Every grant, newest first, with whether it is live", "exchange", {}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kPost, "/api/v1/exchange/grants", Access::Roles({"city_admin"}),
               [grants](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"consumer_agency", "service", "fields",
                                                                            "legal_basis", "purpose", "expires_on"}));
                 NewGrant g;
                 TL_ASSIGN_OR_RETURN(g.consumer_agency, body.String("consumer_agency", 40));
                 TL_ASSIGN_OR_RETURN(g.service, body.String("service", 100));
                 TL_ASSIGN_OR_RETURN(g.legal_basis, body.String("legal_basis", 300));
                 TL_ASSIGN_OR_RETURN(g.purpose, body.String("purpose", 500));
                 TL_ASSIGN_OR_RETURN(auto expires, body.String("expires_on", 10));
                 TL_ASSIGN_OR_RETURN(int64_t day, ParseDate(expires, "expires_on"));
                 g.expires_at_ms = day + 17LL * 3600 * 1000;  // valid through that Hà Nội day (UTC+7)
                 TL_ASSIGN_OR_RETURN(g.fields, body.StringArray("fields", 20));
                 TL_ASSIGN_OR_RETURN(auto out, grants->Create(g, audit::EntryFor(req, "", "")));
                 return http::Response::Json(201, out.dump());
               },
               {"Grant an agency access to a data service's field groups, with legal basis, purpose and expiry",
                "exchange", {},
                R"({"type":"object","required":["consumer_agency","service","fields","legal_basis","purpose","expires_on"],)"
                R"("properties":{"consumer_agency":{"type":"string"},"service":{"type":"string"},"fields":{"type":"array","items":{"type":"string"}},)"
                R"("legal_basis":{"type":"string"},"purpose":{"type":"string"},"expires_on":{"type":"string","format":"date"}}})",
                R"({"type":"object"})", 201}});
  r.push_back({Method::kPost, "/api/v1/exchange/grants/{id}/revoke", Access::Roles({"city_admin"}),
               [grants](http::Request& req) -> Result<http::Response> {
                 char* end = nullptr;
                 long long id = std::strtoll(req.Param("id").c_str(), &end, 10);
                 if (*end != '\0' || id <= 0) return InvalidArgument("must be a number", "id");
                 TL_RETURN_IF_ERROR(grants->Revoke(id, audit::EntryFor(req, "", "")));
                 return http::Response::NoContent();
               },
               {"Revoke a grant at once", "exchange", {{"id", "path", "Grant id"}}, "", ""}});
  return r;
}

}  // namespace tl::exchange
