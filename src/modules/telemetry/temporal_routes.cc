#include "modules/telemetry/temporal_routes.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "core/text.h"
#include "modules/calendar/calendar.h"
#include "modules/ngsild/entity.h"
#include "modules/ngsild/errors.h"
#include "modules/ngsild/request.h"
#include "modules/ngsild/routes.h"

namespace tl::telemetry {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::string_view kBase = "/ngsi-ld/v1/temporal";

enum class Representation { kNormalized, kTemporalValues, kAggregated };

// The temporal part of a request: interval, lastN, representation and aggregation.
struct TemporalQuery {
  int64_t from_ms = kMinTimeMs;  // inclusive
  int64_t to_ms = kMaxTimeMs;    // exclusive
  bool open_end = true;          // no end given (after, or no timerel)
  std::optional<uint32_t> last_n;
  Representation representation = Representation::kNormalized;
  std::vector<AggregationMethod> methods;
  AggregationPeriod period;  // whole interval unless aggrPeriodDuration
};

Result<int64_t> TimeParam(const std::string& text, const char* name) {
  auto t = calendar::ParseRfc3339(text, name);
  if (!t.ok()) return ngsild::BadRequestData("must be an RFC 3339 date-time such as 2026-11-18T07:00:00Z", name);
  if (*t < kMinTimeMs || *t >= kMaxTimeMs) return ngsild::BadRequestData("must be within the years 1 to 9999", name);
  return *t;
}

Result<TemporalQuery> TemporalQueryOf(const Request& req) {
  TemporalQuery t;
  bool values = false, aggregated = false;
  for (const char* name : {"options", "format"}) {
    auto v = req.Query(name);
    if (!v) continue;
    for (const auto& opt : text::Split(*v)) {
      if (opt == "temporalValues") {
        values = true;
      } else if (opt == "aggregatedValues") {
        aggregated = true;
      } else if (!(opt == "normalized" || opt == "sysAttrs" || opt.empty())) {
        return ngsild::BadRequestData("unknown option '" + opt + "' (temporalValues or aggregatedValues)", name);
      }
    }
  }
  if (values && aggregated) {
    return ngsild::BadRequestData("temporalValues and aggregatedValues exclude each other", "options");
  }
  t.representation = values       ? Representation::kTemporalValues
                     : aggregated ? Representation::kAggregated
                                  : Representation::kNormalized;

  auto timerel = req.Query("timerel");
  auto time_at = req.Query("timeAt");
  auto end_time_at = req.Query("endTimeAt");
  if (!timerel) {
    if (time_at || end_time_at)
      return ngsild::BadRequestData("timeAt needs timerel (before, after or between)", "timerel");
  } else {
    if (*timerel != "before" && *timerel != "after" && *timerel != "between") {
      return ngsild::BadRequestData("must be before, after or between", "timerel");
    }
    if (!time_at) return ngsild::BadRequestData("timerel needs timeAt", "timeAt");
    TL_ASSIGN_OR_RETURN(int64_t at, TimeParam(*time_at, "timeAt"));
    if (*timerel == "before") {
      t.to_ms = at;
      t.open_end = false;
    } else if (*timerel == "after") {
      t.from_ms = at;
    } else {
      if (!end_time_at) return ngsild::BadRequestData("timerel=between needs endTimeAt", "endTimeAt");
      TL_ASSIGN_OR_RETURN(int64_t end, TimeParam(*end_time_at, "endTimeAt"));
      if (end <= at) return ngsild::BadRequestData("must be later than timeAt", "endTimeAt");
      t.from_ms = at;
      t.to_ms = end;
      t.open_end = false;
    }
    if (*timerel != "between" && end_time_at) {
      return ngsild::BadRequestData("endTimeAt goes with timerel=between only", "endTimeAt");
    }
  }
  if (auto p = req.Query("timeproperty"); p && *p != "observedAt") {
    return ngsild::BadRequestData("only observedAt is kept: the time of each measurement", "timeproperty");
  }
  if (req.Query("lastN")) {
    TL_ASSIGN_OR_RETURN(int n, ngsild::IntParam(req, "lastN", 0, 1'000'000));
    if (n == 0) return ngsild::BadRequestData("must be a positive integer", "lastN");
    t.last_n = static_cast<uint32_t>(n);
  }
  if (t.representation == Representation::kAggregated) {
    auto methods = req.Query("aggrMethods");
    if (!methods || methods->empty()) {
      return ngsild::BadRequestData("aggregatedValues needs aggrMethods (e.g. avg,max)", "aggrMethods");
    }
    TL_ASSIGN_OR_RETURN(t.methods, ParseAggregationMethods(*methods));
    for (AggregationMethod m : t.methods) {
      if (m == AggregationMethod::kDistinctCount) {
        return ngsild::OperationNotSupported("distinctCount is not supported", "aggrMethods");
      }
    }
    if (auto period = req.Query("aggrPeriodDuration")) {
      TL_ASSIGN_OR_RETURN(t.period, ParseAggregationPeriod(*period));
    }
  }
  return t;
}

// Integral values print as integers (120, not 120.0).
json NumberJson(double v) {
  if (std::nearbyint(v) == v && std::fabs(v) < 9007199254740992.0) return static_cast<int64_t>(v);
  return v;
}

// RFC 3339 in UTC, the fraction only when not zero ("2020-08-01T12:03:00Z").
std::string TimeText(int64_t ms) {
  std::string s = FormatRfc3339(ms);
  if (ms % 1000 == 0 && s.size() > 5 && s.compare(s.size() - 5, 5, ".000Z") == 0) s.replace(s.size() - 5, 5, "Z");
  return s;
}

class TemporalApi {
 public:
  TemporalApi(ngsild::EntityStore* entities, TelemetryStore* history,
              std::shared_ptr<const ngsild::ContextRegistry> contexts, const Clock* clock)
      : entities_(entities), history_(history), contexts_(std::move(contexts)), clock_(clock) {}

  Result<Response> Query(Request& req) {
    TL_RETURN_IF_ERROR(ngsild::CheckScope(req, false));
    TL_ASSIGN_OR_RETURN(std::string tenant, ngsild::TenantOf(req));
    std::string link_url;
    TL_ASSIGN_OR_RETURN(auto ctx, ngsild::LinkContext(req, *contexts_, &link_url));
    TL_ASSIGN_OR_RETURN(TemporalQuery t, TemporalQueryOf(req));
    TL_ASSIGN_OR_RETURN(ngsild::EntityQuery q, ngsild::EntityQueryOf(req, ctx));
    TL_ASSIGN_OR_RETURN(ngsild::QueryResult found, entities_->QueryEntities(tenant, q));
    TL_ASSIGN_OR_RETURN(std::vector<json> out, Represent(tenant, found.entities, q.attrs, t, *ctx));
    Response r = Answer(std::move(out), true, req, ngsild::ResponseContextUrl(*ctx, link_url));
    if (found.total) r.headers.emplace_back("NGSILD-Results-Count", std::to_string(*found.total));
    return r;
  }

  Result<Response> Retrieve(Request& req) {
    TL_RETURN_IF_ERROR(ngsild::CheckScope(req, false));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(ngsild::CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, ngsild::TenantOf(req));
    std::string link_url;
    TL_ASSIGN_OR_RETURN(auto ctx, ngsild::LinkContext(req, *contexts_, &link_url));
    TL_ASSIGN_OR_RETURN(TemporalQuery t, TemporalQueryOf(req));
    TL_ASSIGN_OR_RETURN(auto attrs, ngsild::AttrsOf(req, *ctx));
    TL_ASSIGN_OR_RETURN(ngsild::StoredEntity e, entities_->Retrieve(tenant, id));
    std::vector<ngsild::StoredEntity> one;
    one.push_back(std::move(e));
    TL_ASSIGN_OR_RETURN(std::vector<json> out, Represent(tenant, one, attrs, t, *ctx));
    return Answer(std::move(out), false, req, ngsild::ResponseContextUrl(*ctx, link_url));
  }

  // POST /temporal/entities/{id}/attrs: past instances of numeric Properties, added to the history.
  Result<Response> AddInstances(Request& req) {
    TL_RETURN_IF_ERROR(ngsild::CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(ngsild::CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, ngsild::TenantOf(req));
    TL_ASSIGN_OR_RETURN(ngsild::Body body, ngsild::ParseRequestBody(req, *contexts_));
    if (!body.value.is_object()) return ngsild::InvalidRequest("the body must be a JSON object of attributes", "body");
    TL_ASSIGN_OR_RETURN(auto ctx, ngsild::ContextOf(body, body.value, *contexts_));
    std::vector<std::string> names;  // expanded, one per attribute (the measurements point into it)
    std::vector<std::pair<size_t, Sample>> readings;
    for (const auto& [name, value] : body.value.items()) {
      if (name == "@context" || name == "id" || name == "type") continue;
      std::string iri = ctx->Expand(name);
      if (iri.empty() || iri[0] == '@') return ngsild::BadRequestData("not an attribute name", name);
      names.push_back(std::move(iri));
      const nlohmann::json instances = value.is_array() ? value : json::array({value});
      if (instances.empty() || instances.size() > kMaxAddedInstances) {
        return ngsild::BadRequestData("give 1 to " + std::to_string(kMaxAddedInstances) + " instances", name);
      }
      for (size_t i = 0; i < instances.size(); ++i) {
        const json& instance = instances[i];
        const std::string field = name + "[" + std::to_string(i) + "]";
        if (!instance.is_object() || instance.value("type", "") != "Property") {
          return ngsild::BadRequestData("history keeps Property instances only", field + ".type");
        }
        auto v = instance.find("value");
        if (v == instance.end() || !v->is_number()) {
          return ngsild::BadRequestData("history keeps numeric values only", field + ".value");
        }
        auto observed = instance.find("observedAt");
        if (observed == instance.end() || !observed->is_string()) {
          return ngsild::BadRequestData("each past instance needs its observedAt", field + ".observedAt");
        }
        TL_ASSIGN_OR_RETURN(int64_t t, TimeParam(observed->get<std::string>(), (field + ".observedAt").c_str()));
        readings.push_back({names.size() - 1, {t, v->get<double>()}});
      }
    }
    if (readings.empty()) return ngsild::BadRequestData("the body names no attribute", "body");
    TL_RETURN_IF_ERROR(entities_->Retrieve(tenant, id).status());  // ResourceNotFound for an unknown entity
    std::vector<Measurement> batch;
    batch.reserve(readings.size());
    for (const auto& [n, s] : readings) batch.push_back({tenant, id, names[n], s.t_ms, s.v});
    TL_RETURN_IF_ERROR(history_->AppendBatch(batch));
    return Response::NoContent();
  }

 private:
  // The temporal representation of `entities`: id, type and the attributes with history.
  Result<std::vector<json>> Represent(const std::string& tenant, const std::vector<ngsild::StoredEntity>& entities,
                                      const std::optional<std::set<std::string>>& attrs, const TemporalQuery& t,
                                      const ngsild::Context& ctx) {
    std::vector<json> out;
    std::vector<SeriesKey> keys;
    std::vector<size_t> key_entity;  // index into out
    const std::set<std::string> none;
    ngsild::RenderOptions ro;
    ro.attrs = &none;  // id, type (and scope) only
    for (const auto& e : entities) {
      out.push_back(ngsild::Render(e.doc, ctx, ro, e.created_at_ms, e.modified_at_ms));
      const std::string id = e.doc.value("id", "");
      TL_ASSIGN_OR_RETURN(std::vector<std::string> names, history_->ListAttributes(tenant, id));
      for (auto& name : names) {
        if (attrs && !attrs->count(name)) continue;
        keys.push_back({tenant, id, std::move(name)});
        key_entity.push_back(out.size() - 1);
      }
    }
    if (t.representation == Representation::kAggregated) {
      TL_RETURN_IF_ERROR(Aggregated(keys, key_entity, t, ctx, out));
      return out;
    }
    if (t.from_ms >= t.to_ms) return out;
    for (size_t i = 0; i < keys.size(); ++i) {
      TL_ASSIGN_OR_RETURN(std::vector<Sample> samples,
                          history_->ReadRaw(keys[i], t.from_ms, t.to_ms, t.last_n.value_or(kMaxTemporalInstances)));
      if (samples.empty()) continue;
      json attribute;
      if (t.representation == Representation::kTemporalValues) {
        json values = json::array();
        for (const Sample& s : samples) values.push_back(json::array({NumberJson(s.v), TimeText(s.t_ms)}));
        attribute = {{"type", "Property"}, {"values", std::move(values)}};
      } else {
        attribute = json::array();
        for (const Sample& s : samples) {
          attribute.push_back({{"type", "Property"}, {"value", NumberJson(s.v)}, {"observedAt", TimeText(s.t_ms)}});
        }
      }
      out[key_entity[i]][ctx.Compact(keys[i].attribute)] = std::move(attribute);
    }
    return out;
  }

  Status Aggregated(const std::vector<SeriesKey>& keys, const std::vector<size_t>& key_entity, const TemporalQuery& t,
                    const ngsild::Context& ctx, std::vector<json>& out) {
    int64_t end = t.to_ms;
    if (t.open_end) {
      // Up to the end of the period holding now (whole periods, as they are shown), or now itself.
      const int64_t now = std::clamp<int64_t>(clock_->NowMillis() + 1, kMinTimeMs + 1, kMaxTimeMs);
      end = now;
      if (t.period.months == 0 && t.period.millis > 0 && now > t.from_ms) {
        const int64_t periods = (now - t.from_ms + t.period.millis - 1) / t.period.millis;
        end = kMaxTimeMs - t.from_ms > periods * t.period.millis ? t.from_ms + periods * t.period.millis : kMaxTimeMs;
      }
    }
    if (keys.empty() || t.from_ms >= end) return Status::Ok();
    AggregationQuery q;
    q.start_ms = t.from_ms;
    q.end_ms = end;
    q.period = t.period;
    TL_ASSIGN_OR_RETURN(AggregationResult result, history_->AggregateSeries(keys, q));
    for (size_t i = 0; i < keys.size(); ++i) {
      std::vector<RollupRecord>& periods = result.series[i];
      if (periods.empty()) continue;
      if (t.last_n && periods.size() > *t.last_n) periods.erase(periods.begin(), periods.end() - *t.last_n);
      json attribute = {{"type", "Property"}};
      for (AggregationMethod m : t.methods) {
        json list = json::array();
        for (const RollupRecord& r : periods) {
          auto v = r.agg.Value(m);
          if (!v) continue;
          list.push_back(json::array({NumberJson(*v), TimeText(r.start_ms), TimeText(r.end_ms)}));
        }
        attribute[AggregationMethodName(m)] = std::move(list);
      }
      out[key_entity[i]][ctx.Compact(keys[i].attribute)] = std::move(attribute);
    }
    return Status::Ok();
  }

  static Response Answer(std::vector<json> entities, bool array, const Request& req, const std::string& url) {
    const bool ld = ngsild::WantsLd(req);
    Response r;
    r.status = 200;
    std::string body = array ? "[" : "";
    for (size_t i = 0; i < entities.size(); ++i) {
      if (ld) entities[i]["@context"] = url;
      if (i) body += ',';
      body += ngsild::DumpEntity(entities[i]);
    }
    if (array) body += "]";
    r.body = std::move(body);
    if (ld) {
      r.content_type = "application/ld+json";
    } else {
      r.content_type = "application/json";
      r.headers.emplace_back("Link", ngsild::LinkHeader(url));
    }
    return r;
  }

  ngsild::EntityStore* entities_;
  TelemetryStore* history_;
  std::shared_ptr<const ngsild::ContextRegistry> contexts_;
  const Clock* clock_;
};

// Every answer of the API speaks NGSI-LD's error vocabulary.
http::Handler Wrap(std::function<Result<Response>(Request&)> fn) {
  return [fn = std::move(fn)](Request& req) -> Result<Response> {
    auto r = fn(req);
    if (!r.ok()) return ngsild::AsNgsiLd(r.status());
    return r;
  };
}

}  // namespace

std::vector<http::Route> TemporalRoutes(ngsild::EntityStore* entities, TelemetryStore* history,
                                        std::shared_ptr<const ngsild::ContextRegistry> contexts, const Clock* clock) {
  auto api = std::make_shared<TemporalApi>(entities, history, std::move(contexts), clock);
  const http::Access access = http::Access::Roles({"operator", "integration", "city_admin"});
  const std::string base(kBase);
  const std::vector<http::ParamDoc> temporal = {
      {"NGSILD-Tenant", "header", "Tenant (default: the default tenant)", false},
      {"timerel", "query", "before, after or between (with timeAt, and endTimeAt for between); none: all history"},
      {"timeAt", "query", "RFC 3339 date-time, e.g. 2026-11-18T07:00:00Z"},
      {"endTimeAt", "query", "RFC 3339 date-time, with timerel=between"},
      {"timeproperty", "query", "observedAt (the only one kept)"},
      {"lastN", "query", "The last N instances (or aggregation periods) of each attribute", false, "integer"},
      {"attrs", "query", "Comma-separated attribute names to return"},
      {"options", "query", "temporalValues (simplified) or aggregatedValues"},
      {"aggrMethods", "query", "With aggregatedValues: totalCount, sum, avg, min, max, stddev, sumsq"},
      {"aggrPeriodDuration", "query", "With aggregatedValues: ISO 8601 duration, e.g. PT1M, PT1H, P1D (default PT0S)"},
  };
  auto with = [&](std::vector<http::ParamDoc> more) {
    std::vector<http::ParamDoc> all = temporal;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  const std::string attribute_schema =
      R"({"oneOf":[{"type":"array","items":{"type":"object"}},{"type":"object","properties":{"type":{"type":"string"},)"
      R"("values":{"type":"array"},"avg":{"type":"array"},"min":{"type":"array"},"max":{"type":"array"},)"
      R"("sum":{"type":"array"},"totalCount":{"type":"array"}}}]})";
  const std::string entity_schema =
      R"({"type":"object","required":["id","type"],"properties":{"id":{"type":"string"},"type":{}},"additionalProperties":)" +
      attribute_schema + "}";
  std::vector<http::Route> r;
  r.push_back({Method::kGet,
               base + "/entities",
               access,
               Wrap([api](Request& q) { return api->Query(q); }),
               {"NGSI-LD temporal: the history of the entities selected as in GET /entities (id, idPattern, type, "
                "attrs, q, geo-query; limit, offset, count), in the interval of timerel/timeAt/endTimeAt",
                "ngsi-ld",
                with({{"id", "query", "Comma-separated entity ids"},
                      {"idPattern", "query", "Regular expression over entity ids"},
                      {"type", "query", "Entity types: A,B (either) or A;B (both)"},
                      {"q", "query", "NGSI-LD query language over the entities' current values"},
                      {"limit", "query", "Entities per page, 0 to 1000 (default 20)", false, "integer"},
                      {"offset", "query", "Entities to skip", false, "integer"},
                      {"count", "query", "true: the total in the NGSILD-Results-Count header", false, "boolean"}}),
                "", R"({"type":"array","items":)" + entity_schema + "}"}});
  r.push_back({Method::kGet,
               base + "/entities/{entityId}",
               access,
               Wrap([api](Request& q) { return api->Retrieve(q); }),
               {"NGSI-LD temporal: the history of one entity (ResourceNotFound when it does not exist)", "ngsi-ld",
                with({{"entityId", "path", "Entity id (a URI)", true}}), "", entity_schema}});
  r.push_back(
      {Method::kPost,
       base + "/entities/{entityId}/attrs",
       access,
       Wrap([api](Request& q) { return api->AddInstances(q); }),
       {"NGSI-LD temporal: add past instances of numeric Properties (each with observedAt) to an existing "
        "entity's history, for back-filling; the entity itself is not changed",
        "ngsi-ld",
        {{"NGSILD-Tenant", "header", "Tenant (default: the default tenant)", false},
         {"entityId", "path", "Entity id (a URI)", true}},
        R"({"type":"object","additionalProperties":{"oneOf":[{"type":"object"},{"type":"array","items":{"type":"object"}}]}})",
        "",
        204}});
  return r;
}

}  // namespace tl::telemetry
