#include "modules/subscriptions/subscription.h"

#include <algorithm>
#include <cctype>

#include "core/clock.h"
#include "modules/ngsild/entity.h"
#include "modules/ngsild/errors.h"

namespace tl::subscriptions {
namespace {

using ngsild::BadRequestData;
using nlohmann::json;

Result<std::string> TermToIri(const json& v, const ngsild::Context& ctx, const std::string& field) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) return BadRequestData("must be a name", field);
  std::string iri = ctx.Expand(v.get<std::string>());
  if (iri.empty() || iri[0] == '@') return BadRequestData("'" + v.get<std::string>() + "' is not a name", field);
  return iri;
}

Result<std::set<std::string>> NameList(const json& v, const ngsild::Context& ctx, const std::string& field) {
  if (!v.is_array() || v.empty() || v.size() > kMaxWatchedAttributes) {
    return BadRequestData("must be a non-empty array of at most " + std::to_string(kMaxWatchedAttributes) + " names",
                          field);
  }
  std::set<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    TL_ASSIGN_OR_RETURN(std::string iri, TermToIri(v[i], ctx, field + "[" + std::to_string(i) + "]"));
    out.insert(std::move(iri));
  }
  return out;
}

int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

Result<int64_t> ParseDateTime(std::string_view s, std::string_view field) {
  auto bad = [&] {
    return BadRequestData("must be an RFC 3339 date-time, e.g. 2026-12-31T23:59:59Z", std::string(field));
  };
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return bad();
  auto day = ParseDate(s.substr(0, 10), field);
  if (!day.ok()) return bad();
  int hh = Digits(s, 11, 2), mm = Digits(s, 14, 2), ss = Digits(s, 17, 2);
  if (hh < 0 || mm < 0 || ss < 0 || s[13] != ':' || s[16] != ':' || hh > 23 || mm > 59 || ss > 60) return bad();
  int64_t ms = *day + ((hh * 60 + mm) * 60 + ss) * int64_t{1000};
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0, scale = 100;
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad();
    ms += frac;
  }
  if (pos == s.size()) return bad();
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return bad();
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = Digits(s, pos + 1, 2), om = Digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || s.size() != pos + 6 || s[pos + 3] != ':' || oh > 23 || om > 59) return bad();
    int64_t off = (oh * 60 + om) * int64_t{60000};
    ms += s[pos] == '+' ? -off : off;
  } else {
    return bad();
  }
  return ms;
}

std::string Subscription::ContextUrl() const {
  if (context && !context->url().empty()) return context->url();
  return std::string(ngsild::kCoreContextUrl);
}

Result<Subscription> Parse(const json& doc, const ngsild::ContextRegistry& contexts) {
  if (!doc.is_object()) return ngsild::InvalidRequest("a subscription is a JSON object", "body");
  Subscription sub;
  sub.doc = doc;
  if (auto it = doc.find("@context"); it != doc.end()) {
    TL_ASSIGN_OR_RETURN(sub.context, contexts.FromValue(*it));
  } else {
    sub.context = contexts.Default();
  }
  const ngsild::Context& ctx = *sub.context;
  static const std::set<std::string> kKnown = {
      "@context",          "id",   "type",         "subscriptionName", "description", "entities",
      "watchedAttributes", "q",    "geoQ",         "notification",     "expiresAt",   "throttling",
      "isActive",          "lang", "timeInterval", "scopeQ",           "csf",         "temporalQ"};
  for (const auto& [key, value] : doc.items()) {
    if (!kKnown.count(key)) return BadRequestData("unknown member '" + key + "'", key);
    if ((key == "timeInterval" || key == "csf" || key == "temporalQ" || key == "scopeQ") && !value.is_null()) {
      return ngsild::OperationNotSupported("'" + key + "' is not supported by this broker", key);
    }
  }
  auto id = doc.find("id");
  if (id == doc.end() || !id->is_string() || !ngsild::IsUri(id->get<std::string>()) ||
      id->get<std::string>().find_first_of("/?#") != std::string::npos) {
    return BadRequestData("the subscription id must be a URI without '/', '?' or '#'", "id");
  }
  sub.id = id->get<std::string>();
  if (auto t = doc.find("type"); t == doc.end() || *t != "Subscription") {
    return BadRequestData("type must be \"Subscription\"", "type");
  }
  for (const char* text_member : {"subscriptionName", "description", "lang"}) {
    if (auto it = doc.find(text_member); it != doc.end() && !it->is_string()) {
      return BadRequestData("must be a string", text_member);
    }
  }
  if (auto it = doc.find("entities"); it != doc.end()) {
    if (!it->is_array() || it->empty() || it->size() > kMaxEntitySelectors) {
      return BadRequestData(
          "must be a non-empty array of at most " + std::to_string(kMaxEntitySelectors) + " selectors", "entities");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      std::string field = "entities[" + std::to_string(i) + "]";
      if (!e.is_object()) return BadRequestData("must be an object with type, and id or idPattern", field);
      EntitySelector sel;
      for (const auto& [k, v] : e.items()) {
        if (k != "id" && k != "idPattern" && k != "type") return BadRequestData("unknown member", field + "." + k);
      }
      auto type = e.find("type");
      if (type == e.end()) return BadRequestData("an entity selector needs a type", field + ".type");
      TL_ASSIGN_OR_RETURN(sel.type, TermToIri(*type, ctx, field + ".type"));
      if (auto eid = e.find("id"); eid != e.end()) {
        if (!eid->is_string() || !ngsild::IsUri(eid->get<std::string>())) {
          return BadRequestData("must be a URI", field + ".id");
        }
        sel.id = eid->get<std::string>();
      }
      if (auto p = e.find("idPattern"); p != e.end()) {
        if (!p->is_string()) return BadRequestData("must be a regular expression", field + ".idPattern");
        auto compiled = ngsild::IdPattern::Compile(p->get<std::string>());
        if (!compiled.ok()) return BadRequestData(compiled.status().message(), field + ".idPattern");
        sel.id_pattern = std::move(*compiled);
      }
      sub.entities.push_back(std::move(sel));
    }
  }
  if (auto it = doc.find("watchedAttributes"); it != doc.end()) {
    TL_ASSIGN_OR_RETURN(sub.watched, NameList(*it, ctx, "watchedAttributes"));
  }
  if (sub.entities.empty() && sub.watched.empty()) {
    return BadRequestData("a subscription needs entities or watchedAttributes", "entities");
  }
  if (auto it = doc.find("q"); it != doc.end()) {
    if (!it->is_string()) return BadRequestData("must be a query string", "q");
    auto q = ngsild::Query::Parse(it->get<std::string>());
    if (!q.ok()) return BadRequestData(q.status().message(), "q");
    sub.q = std::move(*q);
  }
  if (auto it = doc.find("geoQ"); it != doc.end()) {
    if (!it->is_object()) return BadRequestData("must be an object with geometry, coordinates and georel", "geoQ");
    auto str = [&](const char* k) -> std::string {
      auto m = it->find(k);
      return m != it->end() && m->is_string() ? m->get<std::string>() : std::string();
    };
    auto coords = it->find("coordinates");
    if (coords == it->end()) return BadRequestData("missing", "geoQ.coordinates");
    std::string coord_text = coords->is_string() ? coords->get<std::string>() : coords->dump();
    auto geo = ngsild::ParseGeoQuery(str("georel"), str("geometry"), coord_text);
    if (!geo.ok()) return BadRequestData(geo.status().message(), "geoQ." + geo.status().field());
    sub.geo = std::move(*geo);
    if (auto gp = it->find("geoproperty"); gp != it->end()) {
      if (!gp->is_string() || gp->get<std::string>().empty())
        return BadRequestData("must be a name", "geoQ.geoproperty");
      sub.geoproperty = ctx.Compact(ctx.Expand(gp->get<std::string>()));
    }
  }
  auto n = doc.find("notification");
  if (n == doc.end() || !n->is_object())
    return BadRequestData("a subscription needs a notification object", "notification");
  for (const auto& [k, v] : n->items()) {
    static const std::set<std::string> kNotification = {"attributes",  "format",      "endpoint",
                                                        "timesSent",   "status",      "lastNotification",
                                                        "lastSuccess", "lastFailure", "sysAttrs"};
    if (!kNotification.count(k)) return BadRequestData("unknown member", "notification." + k);
  }
  if (auto a = n->find("attributes"); a != n->end()) {
    TL_ASSIGN_OR_RETURN(auto names, NameList(*a, ctx, "notification.attributes"));
    sub.attributes = std::move(names);
  }
  if (auto f = n->find("format"); f != n->end()) {
    if (*f == "keyValues" || *f == "simplified") {
      sub.key_values = true;
    } else if (*f != "normalized" && *f != "concise") {
      return BadRequestData("must be normalized or keyValues", "notification.format");
    }
  }
  auto ep = n->find("endpoint");
  if (ep == n->end() || !ep->is_object()) return BadRequestData("missing", "notification.endpoint");
  auto uri = ep->find("uri");
  if (uri == ep->end() || !uri->is_string()) return BadRequestData("missing", "notification.endpoint.uri");
  sub.endpoint = uri->get<std::string>();
  std::string lower = sub.endpoint;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!ngsild::IsUri(sub.endpoint) || sub.endpoint.size() > 2048 ||
      !(lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0) || sub.endpoint.size() <= 8) {
    return BadRequestData("must be an http:// or https:// URL", "notification.endpoint.uri");
  }
  if (auto acc = ep->find("accept"); acc != ep->end()) {
    if (*acc != "application/json" && *acc != "application/ld+json") {
      return BadRequestData("must be application/json or application/ld+json", "notification.endpoint.accept");
    }
    sub.accept = acc->get<std::string>();
  }
  for (const auto& [k, v] : ep->items()) {
    if (k != "uri" && k != "accept") return BadRequestData("unsupported member", "notification.endpoint." + k);
  }
  if (auto e = doc.find("expiresAt"); e != doc.end() && !e->is_null()) {
    if (!e->is_string()) return BadRequestData("must be an RFC 3339 date-time", "expiresAt");
    TL_ASSIGN_OR_RETURN(int64_t at, ParseDateTime(e->get<std::string>(), "expiresAt"));
    sub.expires_at_ms = at;
  }
  if (auto t = doc.find("throttling"); t != doc.end()) {
    if (!t->is_number_integer() || t->get<int64_t>() < 0 || t->get<int64_t>() > kMaxThrottlingSeconds) {
      return BadRequestData("must be whole seconds, 0 to " + std::to_string(kMaxThrottlingSeconds), "throttling");
    }
    sub.throttling_s = t->get<int64_t>();
  }
  if (auto a = doc.find("isActive"); a != doc.end()) {
    if (!a->is_boolean()) return BadRequestData("must be true or false", "isActive");
    sub.active = a->get<bool>();
  }
  if (sub.q) {
    for (const std::string& name : sub.q->attributes()) sub.filter_attributes.insert(ctx.Expand(name));
  }
  if (sub.geo) sub.filter_attributes.insert(ctx.Expand(sub.geoproperty));
  return sub;
}

std::optional<json> Evaluate(const Subscription& sub, const ngsild::EntityChange& change, int64_t now_ms) {
  if (change.kind == ngsild::ChangeKind::kDeleted || !sub.active || sub.ExpiredAt(now_ms)) return std::nullopt;
  if (!sub.entities.empty()) {
    bool any = std::any_of(sub.entities.begin(), sub.entities.end(), [&](const EntitySelector& s) {
      if (!s.type.empty() && std::find(change.types.begin(), change.types.end(), s.type) == change.types.end()) {
        return false;
      }
      if (!s.id.empty() && s.id != change.entity_id) return false;
      if (s.id_pattern && !s.id_pattern->Matches(change.entity_id)) return false;
      return true;
    });
    if (!any) return std::nullopt;
  }
  if (!sub.watched.empty()) {
    bool any = std::any_of(change.changed_attributes.begin(), change.changed_attributes.end(),
                           [&](const std::string& a) { return sub.watched.count(a) > 0; });
    if (!any) return std::nullopt;
  }
  if (sub.q || sub.geo) {
    ngsild::RenderOptions filter;
    filter.attrs = &sub.filter_attributes;
    json compact = ngsild::Render(change.entity.Whole(), *sub.context, filter, change.at_ms, change.at_ms);
    if (sub.q && !sub.q->Matches(compact)) return std::nullopt;
    if (sub.geo && !ngsild::MatchesEntity(*sub.geo, compact, sub.geoproperty)) return std::nullopt;
  }
  ngsild::RenderOptions options;
  options.key_values = sub.key_values;
  if (sub.attributes) options.attrs = &*sub.attributes;
  return ngsild::Render(change.entity.Whole(), *sub.context, options, change.at_ms, change.at_ms);
}

}  // namespace tl::subscriptions
