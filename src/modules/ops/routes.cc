#include "modules/ops/routes.h"

#include <set>
#include <string>
#include <string_view>

#include "modules/ngsild/request.h"

namespace tl::ops {
namespace {

bool IsTypeName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<http::Response> Events(EventHub* hub, http::Request& req) {
  std::set<std::string> types;
  if (auto t = req.Query("type")) {
    size_t i = 0;
    while (i <= t->size()) {
      size_t comma = t->find(',', i);
      if (comma == std::string::npos) comma = t->size();
      std::string name = t->substr(i, comma - i);
      if (!IsTypeName(name)) {
        return InvalidArgument("expected comma-separated entity type names (letters, digits, '_', '-')", "type");
      }
      types.insert(std::move(name));
      i = comma + 1;
    }
    if (types.size() > 50) return InvalidArgument("at most 50 types", "type");
  }
  // The NGSI-LD tenant: its header, as on /ngsi-ld/v1, or the `tenant` parameter (EventSource sends no
  // headers of its own).
  TL_ASSIGN_OR_RETURN(std::string tenant, ngsild::TenantOf(req));
  if (auto q = req.Query("tenant"); q && tenant.empty()) {
    if (!ngsild::IsTenantName(*q)) return InvalidArgument(ngsild::kTenantNameRule, "tenant");
    tenant = *q;
  }
  std::optional<Cursor> resume;
  if (auto h = req.Header("last-event-id")) {
    TL_ASSIGN_OR_RETURN(resume, ParseEventId(*h, "Last-Event-ID"));
  } else if (auto q = req.Query("lastEventId")) {
    TL_ASSIGN_OR_RETURN(resume, ParseEventId(*q, "lastEventId"));
  }
  if (!hub->HasRoom()) return Unavailable("too many operations streams on this server; retry shortly");
  http::Response r = http::Response::Streaming(
      "text/event-stream; charset=utf-8",
      [hub, resume = std::move(resume), types = std::move(types),
       tenant = std::move(tenant)](std::shared_ptr<http::Stream> stream) mutable {
        auto s = stream;
        if (!hub->Subscribe(std::move(stream), std::move(resume), std::move(types), std::move(tenant)).ok()) s->Close();
      });
  r.headers.emplace_back("X-Accel-Buffering", "no");  // reverse proxies: pass each event on at once
  return r;
}

}  // namespace

std::vector<http::Route> Routes(EventHub* hub) {
  std::vector<http::Route> r;
  r.push_back({http::Method::kGet,
               "/api/v1/ops/events",
               http::Access::Roles({"operator", "city_admin"}),
               [hub](http::Request& req) { return Events(hub, req); },
               {"Operations centre: live entity changes (Alert entities included) as server-sent events "
                "(text/event-stream; event 'entity' for a created or changed entity, 'deleted' for a deleted one, a "
                "heartbeat comment every 15 s; resume with Last-Event-ID)",
                "operations",
                {{"type", "query", "Comma-separated entity types to follow (default: all)", false},
                 {"NGSILD-Tenant", "header", "NGSI-LD tenant to follow (default: the default tenant)", false},
                 {"tenant", "query", "The tenant, for clients that cannot send the header", false},
                 {"lastEventId", "query", "Resume after this event id (the Last-Event-ID header wins)", false},
                 {"Last-Event-ID", "header", "Resume after this event id ('<modifiedAt ms>:<entity id>')", false}},
                "",
                R"({"type":"string","description":"text/event-stream: 'id: <ms>:<entity id>', 'event: entity', 'data: {\"id\",\"type\",\"modifiedAt\",\"version\",\"changed\",\"attributes\",\"location\",\"observedAt\"}', or 'event: deleted', 'data: {\"id\",\"type\",\"deletedAt\"}'"})",
                200,
                "text/event-stream"}});
  return r;
}

}  // namespace tl::ops
