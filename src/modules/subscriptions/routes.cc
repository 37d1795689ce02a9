#include "modules/subscriptions/routes.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "modules/ngsild/errors.h"
#include "modules/ngsild/request.h"

namespace tl::subscriptions {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;
using ngsild::CheckScope;
using ngsild::ContainsIgnoreCase;
using ngsild::IntParam;
using ngsild::TenantOf;
using ngsild::WantsLd;

constexpr std::string_view kPath = "/ngsi-ld/v1/subscriptions";

// The body, with "@context" set from the Link header (application/json) so the stored document
// carries the context its terms were written in.
Result<json> ParseBody(const Request& req, const ngsild::ContextRegistry& contexts) {
  auto ct = req.Header("content-type");
  bool ld = ct && ContainsIgnoreCase(*ct, "application/ld+json");
  if (!ld && (!ct || !ContainsIgnoreCase(*ct, "application/json"))) {
    return Status(StatusCode::kUnsupportedMediaType, "the body must be application/json or application/ld+json",
                  "Content-Type");
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return ngsild::InvalidRequest("the body is not well-formed JSON", "body");
  if (!body.is_object()) return ngsild::InvalidRequest("the body must be a JSON object", "body");
  auto link = req.Header("link");
  if (ld) {
    if (link && ContainsIgnoreCase(*link, ngsild::kJsonLdContextRel)) {
      return ngsild::BadRequestData("an application/ld+json body carries its own @context; send no Link header with it",
                                    "Link");
    }
    if (!body.contains("@context"))
      return ngsild::BadRequestData("an application/ld+json body needs @context", "@context");
  } else {
    if (body.contains("@context")) {
      return ngsild::BadRequestData("an application/json body may not hold @context: use a Link header", "@context");
    }
    if (link) {
      std::string url;
      TL_RETURN_IF_ERROR(contexts.FromLinkHeader(*link, &url).status());
      if (!url.empty()) body["@context"] = url;
    }
  }
  return body;
}

std::optional<std::string> Time(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FormatRfc3339(*ms);
}

json Render(const StoredSubscription& s, int64_t now, bool ld) {
  json out = s.doc;
  if (!ld) out.erase("@context");
  bool active = !s.doc.contains("isActive") || s.doc["isActive"] == true;
  std::optional<int64_t> expires;
  if (auto e = s.doc.find("expiresAt"); e != s.doc.end() && e->is_string()) {
    auto at = ParseDateTime(e->get<std::string>(), "expiresAt");
    if (at.ok()) expires = *at;
  }
  out["status"] = expires && *expires <= now ? "expired" : active ? "active" : "paused";
  json& n = out["notification"];
  n["timesSent"] = s.status.times_sent;
  if (auto t = Time(s.status.last_notification)) n["lastNotification"] = *t;
  if (auto t = Time(s.status.last_success)) n["lastSuccess"] = *t;
  if (auto t = Time(s.status.last_failure)) n["lastFailure"] = *t;
  n["status"] = s.status.consecutive_failures > 0 ? "failed" : "ok";
  n["failures"] = s.status.failures;
  n["pendingNotifications"] = s.status.pending;
  out["createdAt"] = FormatRfc3339(s.created_at);
  out["modifiedAt"] = FormatRfc3339(s.modified_at);
  return out;
}

Response JsonResponse(int status, const json& body, bool ld) {
  Response r = Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
  if (ld) r.content_type = "application/ld+json";
  return r;
}

class Api {
 public:
  explicit Api(SubscriptionStore* store) : store_(store) {}

  Result<Response> Create(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(json body, ParseBody(req, store_->contexts()));
    TL_ASSIGN_OR_RETURN(std::string id, store_->Create(tenant, std::move(body)));
    Response r;
    r.status = 201;
    r.headers.emplace_back("Location", std::string(kPath) + "/" + id);
    return r;
  }

  Result<Response> List(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(int limit, IntParam(req, "limit", ngsild::kDefaultLimit, ngsild::kMaxLimit));
    TL_ASSIGN_OR_RETURN(int offset, IntParam(req, "offset", 0, 1000000000));
    bool count = req.Query("count").value_or("false") == "true";
    int64_t total = 0;
    TL_ASSIGN_OR_RETURN(auto list, store_->List(tenant, limit, offset, count ? &total : nullptr));
    bool ld = WantsLd(req);
    json out = json::array();
    int64_t now = clock_now();
    for (const auto& s : list) out.push_back(Render(s, now, ld));
    Response r = JsonResponse(200, out, ld);
    if (count) r.headers.emplace_back("NGSILD-Results-Count", std::to_string(total));
    return r;
  }

  Result<Response> Get(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(auto s, store_->Get(tenant, req.Param("subscriptionId")));
    bool ld = WantsLd(req);
    return JsonResponse(200, Render(s, clock_now(), ld), ld);
  }

  Result<Response> Patch(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(json body, ParseBody(req, store_->contexts()));
    TL_RETURN_IF_ERROR(store_->Update(tenant, req.Param("subscriptionId"), body));
    return Response::NoContent();
  }

  Result<Response> Delete(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_RETURN_IF_ERROR(store_->Delete(tenant, req.Param("subscriptionId")));
    return Response::NoContent();
  }

 private:
  int64_t clock_now() const { return store_->now(); }
  SubscriptionStore* store_;
};

http::Handler Wrap(std::function<Result<Response>(Request&)> fn) {
  return [fn = std::move(fn)](Request& req) -> Result<Response> {
    auto r = fn(req);
    if (!r.ok()) return ngsild::AsNgsiLd(r.status());
    return r;
  };
}

}  // namespace

std::vector<http::Route> Routes(SubscriptionStore* store) {
  auto api = std::make_shared<Api>(store);
  const http::Access access = http::Access::Roles({"operator", "integration", "city_admin"});
  const std::string base(kPath);
  http::ParamDoc tenant{"NGSILD-Tenant", "header", "Tenant (default: the default tenant)", false};
  http::ParamDoc id{"subscriptionId", "path", "Subscription id (a URI)", true};
  const std::string schema =
      R"({"type":"object","required":["type","notification"],"properties":{"id":{"type":"string"},)"
      R"("type":{"type":"string","enum":["Subscription"]},"entities":{"type":"array"},)"
      R"("watchedAttributes":{"type":"array","items":{"type":"string"}},"q":{"type":"string"},"geoQ":{"type":"object"},)"
      R"("notification":{"type":"object"},"expiresAt":{"type":"string"},"throttling":{"type":"integer"},)"
      R"("isActive":{"type":"boolean"}}})";
  std::vector<http::Route> r;
  r.push_back(
      {Method::kPost,
       base,
       access,
       Wrap([api](Request& q) { return api->Create(q); }),
       {"NGSI-LD: create a subscription (201, Location; 409 AlreadyExists)", "ngsi-ld", {tenant}, schema, "", 201}});
  r.push_back({Method::kGet,
               base,
               access,
               Wrap([api](Request& q) { return api->List(q); }),
               {"NGSI-LD: list subscriptions with their delivery status (limit, offset, count)",
                "ngsi-ld",
                {tenant,
                 {"limit", "query", "Page size, 0 to 1000 (default 20)", false, "integer"},
                 {"offset", "query", "Subscriptions to skip", false, "integer"},
                 {"count", "query", "true: the total in the NGSILD-Results-Count header", false, "boolean"}},
                "",
                R"({"type":"array","items":{"type":"object"}})"}});
  r.push_back(
      {Method::kGet,
       base + "/{subscriptionId}",
       access,
       Wrap([api](Request& q) { return api->Get(q); }),
       {"NGSI-LD: a subscription with its delivery status", "ngsi-ld", {tenant, id}, "", R"({"type":"object"})"}});
  r.push_back({Method::kPatch,
               base + "/{subscriptionId}",
               access,
               Wrap([api](Request& q) { return api->Patch(q); }),
               {"NGSI-LD: update a subscription's members (null removes one)",
                "ngsi-ld",
                {tenant, id},
                R"({"type":"object"})",
                "",
                204}});
  r.push_back(
      {Method::kDelete,
       base + "/{subscriptionId}",
       access,
       Wrap([api](Request& q) { return api->Delete(q); }),
       {"NGSI-LD: delete a subscription and its undelivered notifications", "ngsi-ld", {tenant, id}, "", "", 204}});
  return r;
}

}  // namespace tl::subscriptions
