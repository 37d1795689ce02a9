#include "modules/ngsild/routes.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "modules/ngsild/errors.h"
#include "modules/ngsild/request.h"

namespace tl::ngsild {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::string_view kBase = "/ngsi-ld/v1";
constexpr size_t kMaxBatchBody = 16 << 20;

// ---------------------------------------------------------------------------------------------------
// Request parsing

// ---------------------------------------------------------------------------------------------------
// Responses

enum class Format { kJson, kLdJson };

Format AcceptOf(const Request& req) {
  auto accept = req.Header("accept");
  if (accept && ContainsIgnoreCase(*accept, "application/ld+json")) return Format::kLdJson;
  return Format::kJson;
}

// A body of entities (one object, or an array) in the requested format.
Response Entities(int status, std::vector<json> entities, bool array, Format f, const std::string& url) {
  Response r;
  r.status = status;
  std::string body = array ? "[" : "";
  for (size_t i = 0; i < entities.size(); ++i) {
    if (f == Format::kLdJson) entities[i]["@context"] = url;
    if (i) body += ',';
    body += DumpEntity(entities[i]);
  }
  if (array) body += "]";
  r.body = std::move(body);
  if (f == Format::kLdJson) {
    r.content_type = "application/ld+json";
  } else {
    r.content_type = "application/json";
    r.headers.emplace_back("Link", LinkHeader(url));
  }
  return r;
}

// One entity already rendered to text (RenderStoredText).
Response EntityText(std::string body, Format f, const std::string& url) {
  Response r;
  r.status = 200;
  r.body = std::move(body);
  if (f == Format::kLdJson) {
    r.content_type = "application/ld+json";
  } else {
    r.content_type = "application/json";
    r.headers.emplace_back("Link", LinkHeader(url));
  }
  return r;
}

Response JsonResponse(int status, const json& body) {
  Response r = Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
  return r;
}

// 204 when everything was updated, else 207 with NGSI-LD's UpdateResult.
Response UpdateResponse(const UpdateOutcome& o, const Context& ctx) {
  if (o.not_updated.empty()) return Response::NoContent();
  json updated = json::array();
  for (const auto& a : o.updated) updated.push_back(ctx.Compact(a));
  json not_updated = json::array();
  for (const auto& [a, reason] : o.not_updated) {
    not_updated.push_back({{"attributeName", ctx.Compact(a)}, {"reason", reason}});
  }
  return JsonResponse(207, json{{"updated", updated}, {"notUpdated", not_updated}});
}

json BatchResultJson(const BatchResult& r) {
  json errors = json::array();
  for (const auto& e : r.errors) errors.push_back({{"entityId", e.entity_id}, {"error", ProblemJson(e.error)}});
  return json{{"success", r.success}, {"errors", errors}};
}

// ---------------------------------------------------------------------------------------------------
// Query options

struct Options {
  bool key_values = false;
  bool sys_attrs = false;
  bool no_overwrite = false;
  bool update = false;  // upsert options=update
};

Result<Options> OptionsOf(const Request& req) {
  Options o;
  for (const auto& name : {"options", "format"}) {
    auto v = req.Query(name);
    if (!v) continue;
    for (const auto& opt : text::Split(*v)) {
      if (opt == "keyValues" || opt == "simplified") {
        o.key_values = true;
      } else if (opt == "sysAttrs") {
        o.sys_attrs = true;
      } else if (opt == "noOverwrite") {
        o.no_overwrite = true;
      } else if (opt == "update") {
        o.update = true;
      } else if (opt == "normalized" || opt == "replace" || opt.empty()) {
      } else {
        return BadRequestData("unknown option '" + opt + "'", name);
      }
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------

class Api {
 public:
  Api(EntityStore* store, std::shared_ptr<const ContextRegistry> contexts)
      : store_(store), contexts_(std::move(contexts)) {}

  Result<Response> Create(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(Body body, ParseRequestBody(req, *contexts_));
    if (!body.value.is_object()) return InvalidRequest("the body must be one entity (a JSON object)", "body");
    TL_ASSIGN_OR_RETURN(auto ctx, ContextOf(body, body.value, *contexts_));
    TL_ASSIGN_OR_RETURN(json doc, ExpandPayload(body.value, *ctx, PayloadKind::kEntity));
    std::string id = doc["id"].get<std::string>();
    TL_RETURN_IF_ERROR(CheckEntityId(id, "id"));
    TL_RETURN_IF_ERROR(store_->Create(tenant, std::move(doc)));
    Response r;
    r.status = 201;
    r.content_type.clear();
    r.headers.emplace_back("Location", std::string(kBase) + "/entities/" + id);
    return r;
  }

  Result<Response> Retrieve(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    std::string link_url;
    TL_ASSIGN_OR_RETURN(auto ctx, LinkContext(req, *contexts_, &link_url));
    TL_ASSIGN_OR_RETURN(Options o, OptionsOf(req));
    TL_ASSIGN_OR_RETURN(auto attrs, AttrsOf(req, *ctx));
    TL_ASSIGN_OR_RETURN(StoredText e, store_->RetrieveText(tenant, id));
    RenderOptions ro;
    ro.key_values = o.key_values;
    ro.sys_attrs = o.sys_attrs;
    if (attrs) ro.attrs = &*attrs;
    Format f = AcceptOf(req);
    std::string url = ResponseContextUrl(*ctx, link_url);
    // The stored text straight to the response; the DOM only for keyValues.
    if (auto text = RenderStoredText(e.doc, *ctx, ro, e.created_at_ms, e.modified_at_ms,
                                     f == Format::kLdJson ? url : std::string())) {
      return EntityText(std::move(*text), f, url);
    }
    json doc = json::parse(e.doc, nullptr, false);
    if (!doc.is_object()) return Internal("a stored NGSI-LD entity is not a JSON object");
    std::vector<json> out;
    out.push_back(Render(doc, *ctx, ro, e.created_at_ms, e.modified_at_ms));
    return Entities(200, std::move(out), false, f, url);
  }

  Result<Response> QueryEntities(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    std::string link_url;
    TL_ASSIGN_OR_RETURN(auto ctx, LinkContext(req, *contexts_, &link_url));
    TL_ASSIGN_OR_RETURN(Options o, OptionsOf(req));
    TL_ASSIGN_OR_RETURN(EntityQuery q, EntityQueryOf(req, ctx));
    TL_ASSIGN_OR_RETURN(QueryResult result, store_->QueryEntities(tenant, q));
    RenderOptions ro;
    ro.key_values = o.key_values;
    ro.sys_attrs = o.sys_attrs;
    if (q.attrs) ro.attrs = &*q.attrs;
    std::vector<json> out;
    out.reserve(result.entities.size());
    for (const auto& e : result.entities) out.push_back(Render(e.doc, *ctx, ro, e.created_at_ms, e.modified_at_ms));
    Response r = Entities(200, std::move(out), true, AcceptOf(req), ResponseContextUrl(*ctx, link_url));
    if (result.total) r.headers.emplace_back("NGSILD-Results-Count", std::to_string(*result.total));
    return r;
  }

  Result<Response> Replace(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(Body body, ParseRequestBody(req, *contexts_));
    if (!body.value.is_object()) return InvalidRequest("the body must be one entity (a JSON object)", "body");
    json payload = body.value;
    if (auto given = payload.find("id"); given != payload.end() && *given != id) {
      return BadRequestData("the body's id differs from the path's", "id");
    }
    payload["id"] = id;
    TL_ASSIGN_OR_RETURN(auto ctx, ContextOf(body, payload, *contexts_));
    TL_ASSIGN_OR_RETURN(json doc, ExpandPayload(payload, *ctx, PayloadKind::kEntity));
    TL_RETURN_IF_ERROR(store_->Replace(tenant, id, std::move(doc)));
    return Response::NoContent();
  }

  Result<Response> Delete(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_RETURN_IF_ERROR(store_->Delete(tenant, id));
    return Response::NoContent();
  }

  // POST (append) and PATCH (update) of /entities/{entityId}/attrs.
  Result<Response> Attrs(Request& req, bool append) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(Options o, OptionsOf(req));
    TL_ASSIGN_OR_RETURN(Body body, ParseRequestBody(req, *contexts_));
    if (!body.value.is_object()) return InvalidRequest("the body must be a JSON object of attributes", "body");
    TL_ASSIGN_OR_RETURN(auto ctx, ContextOf(body, body.value, *contexts_));
    TL_ASSIGN_OR_RETURN(json fragment, ExpandPayload(body.value, *ctx, PayloadKind::kFragment, id));
    if (AttributeNames(fragment).empty() && !fragment.contains("type")) {
      return BadRequestData("the body names no attribute", "body");
    }
    UpdateOutcome outcome;
    if (append) {
      TL_ASSIGN_OR_RETURN(outcome, store_->Append(tenant, id, fragment, o.no_overwrite));
    } else {
      TL_ASSIGN_OR_RETURN(outcome, store_->Update(tenant, id, fragment));
    }
    return UpdateResponse(outcome, *ctx);
  }

  Result<Response> PatchAttribute(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(Body body, ParseRequestBody(req, *contexts_));
    if (!body.value.is_object()) return InvalidRequest("the body must be a JSON object (the attribute)", "body");
    TL_ASSIGN_OR_RETURN(auto ctx, ContextOf(body, body.value, *contexts_));
    TL_ASSIGN_OR_RETURN(std::string attr, AttributeIri(req, *ctx));
    TL_ASSIGN_OR_RETURN(json fragment, ExpandPartialInstance(body.value, *ctx, req.Param("attrId")));
    TL_RETURN_IF_ERROR(store_->UpdateAttribute(tenant, id, attr, fragment));
    return Response::NoContent();
  }

  Result<Response> DeleteAttribute(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    const std::string& id = req.Param("entityId");
    TL_RETURN_IF_ERROR(CheckEntityId(id, "entityId"));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(auto ctx, LinkContext(req, *contexts_));
    TL_ASSIGN_OR_RETURN(std::string attr, AttributeIri(req, *ctx));
    std::optional<std::string> dataset;
    if (auto d = req.Query("datasetId"); d && !d->empty()) {
      if (!IsUri(*d)) return BadRequestData("must be a URI", "datasetId");
      dataset = *d;
    }
    TL_ASSIGN_OR_RETURN(bool all, BoolParam(req, "deleteAll"));
    TL_RETURN_IF_ERROR(store_->DeleteAttribute(tenant, id, attr, dataset, all));
    return Response::NoContent();
  }

  enum class BatchOp { kCreate, kUpsert, kUpdate, kDelete };

  Result<Response> Batch(Request& req, BatchOp op) {
    TL_RETURN_IF_ERROR(CheckScope(req, true));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    TL_ASSIGN_OR_RETURN(Options o, OptionsOf(req));
    TL_ASSIGN_OR_RETURN(Body body, ParseRequestBody(req, *contexts_));
    if (!body.value.is_array()) return BadRequestData("a batch is a JSON array", "body");
    if (body.value.empty()) return BadRequestData("the batch is empty", "body");
    if (body.value.size() > kMaxBatch) {
      return BadRequestData("at most " + std::to_string(kMaxBatch) + " entities per batch", "body");
    }
    BatchResult result;
    if (op == BatchOp::kDelete) {
      std::vector<std::string> ids;
      for (const auto& item : body.value) {
        if (!item.is_string()) return BadRequestData("a batch delete is an array of entity ids", "body");
        ids.push_back(item.get<std::string>());
      }
      std::vector<BatchError> refused;
      std::vector<std::string> valid;
      for (const auto& id : ids) {
        Status st = CheckEntityId(id, "id");
        if (st.ok()) {
          valid.push_back(id);
        } else {
          refused.push_back({id, st});
        }
      }
      TL_ASSIGN_OR_RETURN(result, store_->BatchDelete(tenant, valid));
      result.errors.insert(result.errors.end(), refused.begin(), refused.end());
      if (result.errors.empty()) return Response::NoContent();
      return JsonResponse(207, BatchResultJson(result));
    }
    std::vector<BatchItem> items;
    items.reserve(body.value.size());
    ContextCache cache;  // elements of a batch usually share one @context: build it once
    for (size_t i = 0; i < body.value.size(); ++i) items.push_back(Item(body, body.value[i], op, cache));
    switch (op) {
      case BatchOp::kCreate: {
        TL_ASSIGN_OR_RETURN(result, store_->BatchCreate(tenant, std::move(items)));
        if (result.errors.empty()) return JsonResponse(201, json(result.success));
        break;
      }
      case BatchOp::kUpsert: {
        TL_ASSIGN_OR_RETURN(result, store_->BatchUpsert(tenant, std::move(items),
                                                        o.update ? UpsertMode::kUpdate : UpsertMode::kReplace));
        if (result.errors.empty()) {
          return result.created.empty() ? Response::NoContent() : JsonResponse(201, json(result.created));
        }
        break;
      }
      case BatchOp::kUpdate: {
        TL_ASSIGN_OR_RETURN(result, store_->BatchUpdate(tenant, std::move(items), o.no_overwrite));
        if (result.errors.empty()) return Response::NoContent();
        break;
      }
      case BatchOp::kDelete:
        break;
    }
    return JsonResponse(207, BatchResultJson(result));
  }

  Result<Response> Types(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    TL_ASSIGN_OR_RETURN(std::string tenant, TenantOf(req));
    std::string link_url;
    TL_ASSIGN_OR_RETURN(auto ctx, LinkContext(req, *contexts_, &link_url));
    if (auto details = req.Query("details"); details && *details == "true") {
      return OperationNotSupported("details=true is not supported; list the types without it", "details");
    }
    TL_ASSIGN_OR_RETURN(auto types, store_->Types(tenant));
    json list = json::array();
    for (const auto& t : types) list.push_back(ctx->Compact(t));
    json body = {{"id", "urn:ngsi-ld:EntityTypeList:" + tenant}, {"type", "EntityTypeList"}, {"typeList", list}};
    Format f = AcceptOf(req);
    std::string url = ResponseContextUrl(*ctx, link_url);
    Response r = JsonResponse(200, body);
    if (f == Format::kLdJson) {
      body["@context"] = url;
      r.body = DumpEntity(body);
      r.content_type = "application/ld+json";
    } else {
      r.headers.emplace_back("Link", LinkHeader(url));
    }
    return r;
  }

  Result<Response> ListContexts(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    json list = json::array();
    for (const auto& h : contexts_->held()) {
      list.push_back({{"id", h.id},
                      {"url", h.url},
                      {"localUrl", std::string(kContextsPath) + "/" + h.id},
                      {"description", h.description}});
    }
    return JsonResponse(200, list);
  }

  Result<Response> ServeContext(Request& req) {
    TL_RETURN_IF_ERROR(CheckScope(req, false));
    const HeldContext* h = contexts_->FindById(req.Param("contextId"));
    if (h == nullptr) return ResourceNotFound("no @context " + req.Param("contextId") + " is held here");
    Response r;
    r.status = 200;
    r.content_type = "application/ld+json";
    r.body = h->document;
    return r;
  }

 private:
  Result<std::string> AttributeIri(const Request& req, const Context& ctx) {
    const std::string& name = req.Param("attrId");
    std::string iri = ctx.Expand(name);
    if (name.empty() || iri.empty() || iri[0] == '@' || name == "id" || name == "type") {
      return BadRequestData("not an attribute name", "attrId");
    }
    return iri;
  }

  // One element of a create/upsert/update batch, expanded, or the reason it is refused.
  using ContextCache = std::map<std::string, std::shared_ptr<const Context>>;

  BatchItem Item(const Body& body, const json& element, BatchOp op, ContextCache& cache) {
    BatchItem item;
    if (element.is_object()) {
      if (auto id = element.find("id"); id != element.end() && id->is_string()) item.id = id->get<std::string>();
    }
    auto fail = [&](Status st) {
      item.status = AsNgsiLd(std::move(st));
      return item;
    };
    if (!element.is_object()) return fail(BadRequestData("a batch element must be an entity (a JSON object)", "body"));
    if (item.id.empty()) return fail(BadRequestData("an entity needs an id", "id"));
    Status id_ok = CheckEntityId(item.id, "id");
    if (!id_ok.ok()) return fail(id_ok);
    Result<std::shared_ptr<const Context>> ctx = body.link_ctx;
    if (auto inline_ctx = element.find("@context"); body.ld && inline_ctx != element.end()) {
      std::string key = inline_ctx->dump();
      if (auto hit = cache.find(key); hit != cache.end()) {
        ctx = hit->second;
      } else {
        ctx = contexts_->FromValue(*inline_ctx);
        if (ctx.ok() && cache.size() < 16) cache.emplace(std::move(key), *ctx);
      }
    } else {
      ctx = ContextOf(body, element, *contexts_);
    }
    if (!ctx.ok()) return fail(ctx.status());
    auto doc =
        ExpandPayload(element, **ctx, op == BatchOp::kUpdate ? PayloadKind::kFragment : PayloadKind::kEntity, item.id);
    if (!doc.ok()) return fail(doc.status());
    item.doc = std::move(*doc);
    return item;
  }

  EntityStore* store_;
  std::shared_ptr<const ContextRegistry> contexts_;
};

// Every answer of the API speaks NGSI-LD's error vocabulary.
http::Handler Wrap(std::function<Result<Response>(Request&)> fn) {
  return [fn = std::move(fn)](Request& req) -> Result<Response> {
    auto r = fn(req);
    if (!r.ok()) return AsNgsiLd(r.status());
    return r;
  };
}

http::ParamDoc TenantParam() {
  return {"NGSILD-Tenant", "header", "Tenant (default: the default tenant)", false};
}

}  // namespace

Result<EntityQuery> EntityQueryOf(const Request& req, std::shared_ptr<const Context> ctx) {
  EntityQuery q;
  q.context = ctx;
  if (auto ids = req.Query("id")) {
    for (const auto& id : text::Split(*ids)) {
      TL_RETURN_IF_ERROR(CheckEntityId(id, "id"));
      q.ids.push_back(id);
    }
  }
  if (auto p = req.Query("idPattern")) {
    TL_ASSIGN_OR_RETURN(auto compiled, IdPattern::Compile(*p));
    q.id_pattern = std::move(compiled);
  }
  if (auto t = req.Query("type")) {
    TL_ASSIGN_OR_RETURN(auto sel, TypeSelection::Parse(*t, *ctx));
    q.types = std::move(sel);
  }
  TL_ASSIGN_OR_RETURN(q.attrs, AttrsOf(req, *ctx));
  if (auto text = req.Query("q")) {
    auto parsed = ngsild::Query::Parse(*text);
    if (!parsed.ok()) return AsNgsiLd(parsed.status());
    q.q = std::move(*parsed);
  }
  auto georel = req.Query("georel");
  auto geometry = req.Query("geometry");
  auto coordinates = req.Query("coordinates");
  if (georel || geometry || coordinates) {
    if (!georel || !geometry || !coordinates) {
      return BadRequestData("a geo-query needs georel, geometry and coordinates together", !georel ? "georel"
                                                                                           : !geometry
                                                                                               ? "geometry"
                                                                                               : "coordinates");
    }
    auto geo = ParseGeoQuery(*georel, *geometry, *coordinates);
    if (!geo.ok()) return AsNgsiLd(geo.status());
    q.geo = std::move(*geo);
    if (auto gp = req.Query("geoproperty")) {
      std::string iri = ctx->Expand(*gp);
      if (gp->empty() || iri.empty() || iri[0] == '@') return BadRequestData("not an attribute name", "geoproperty");
      q.geoproperty = iri;
    }
  }
  if (q.ids.empty() && !q.id_pattern && !q.types && !q.attrs && !q.q && !q.geo) {
    return BadRequestData("name what to query: at least one of id, idPattern, type, attrs, q or a geo-query", "type");
  }
  TL_ASSIGN_OR_RETURN(q.limit, IntParam(req, "limit", kDefaultLimit, kMaxLimit));
  TL_ASSIGN_OR_RETURN(q.offset, IntParam(req, "offset", 0, 1000000000));
  TL_ASSIGN_OR_RETURN(q.count, BoolParam(req, "count"));
  return q;
}

std::vector<http::Route> Routes(EntityStore* store, std::shared_ptr<const ContextRegistry> contexts) {
  auto api = std::make_shared<Api>(store, std::move(contexts));
  const http::Access access = http::Access::Roles({"operator", "integration", "city_admin"});
  const std::string base(kBase);
  const std::string entity_schema =
      R"({"type":"object","required":["id","type"],"properties":{"id":{"type":"string","format":"uri"},)"
      R"("type":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},"@context":{}},)"
      R"("additionalProperties":{"oneOf":[{"type":"object","required":["type"]},{"type":"array","items":{"type":"object"}}]}})";
  const std::string fragment_schema =
      R"({"type":"object","additionalProperties":{"oneOf":[{"type":"object","required":["type"]},{"type":"array"}]}})";
  const std::string entities_schema = R"({"type":"array","items":{"type":"object"}})";
  const std::string batch_result_schema =
      R"({"type":"object","properties":{"success":{"type":"array","items":{"type":"string"}},)"
      R"("errors":{"type":"array","items":{"type":"object","properties":{"entityId":{"type":"string"},"error":{"type":"object"}}}}}})";
  const std::string id_param_doc = "Entity id (a URI)";
  auto entity_id = http::ParamDoc{"entityId", "path", id_param_doc, true};
  auto attr_id = http::ParamDoc{"attrId", "path", "Attribute name (a term of the request's @context, or an IRI)", true};
  auto options = http::ParamDoc{"options", "query", "keyValues (simplified) and/or sysAttrs (createdAt, modifiedAt)"};
  auto attrs = http::ParamDoc{"attrs", "query", "Comma-separated attribute names to return"};
  std::vector<http::Route> r;

  r.push_back({Method::kPost,
               base + "/entities",
               access,
               Wrap([api](Request& q) { return api->Create(q); }),
               {"NGSI-LD: create an entity (201, Location; 409 AlreadyExists)",
                "ngsi-ld",
                {TenantParam()},
                entity_schema,
                "",
                201}});
  r.push_back({Method::kGet,
               base + "/entities",
               access,
               Wrap([api](Request& q) { return api->QueryEntities(q); }),
               {"NGSI-LD: query entities by id, idPattern, type (A,B or A;B), attrs, q and geo-query; limit (at most "
                "1000), offset, count=true (NGSILD-Results-Count)",
                "ngsi-ld",
                {TenantParam(),
                 {"id", "query", "Comma-separated entity ids"},
                 {"idPattern", "query", "Regular expression over entity ids"},
                 {"type", "query", "Entity types: A,B (either) or A;B (both), parentheses"},
                 attrs,
                 {"q", "query", "NGSI-LD query language, e.g. pm25>150;status==\"active\""},
                 {"georel", "query",
                  "near;maxDistance==M, near;minDistance==M, within, contains, intersects, "
                  "disjoint, equals, overlaps"},
                 {"geometry", "query", "Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon"},
                 {"coordinates", "query", "GeoJSON coordinates of the geometry, e.g. [105.85,21.03]"},
                 {"geoproperty", "query", "The GeoProperty the geo-query applies to (default location)"},
                 {"limit", "query", "Page size, 0 to 1000 (default 20)", false, "integer"},
                 {"offset", "query", "Entities to skip", false, "integer"},
                 {"count", "query", "true: the total in the NGSILD-Results-Count header", false, "boolean"},
                 options},
                "",
                entities_schema}});
  http::Route get{Method::kGet,
                  base + "/entities/{entityId}",
                  access,
                  Wrap([api](Request& q) { return api->Retrieve(q); }),
                  {"NGSI-LD: retrieve an entity",
                   "ngsi-ld",
                   {TenantParam(), entity_id, attrs, options},
                   "",
                   R"({"type":"object"})"}};
  get.quick = true;
  r.push_back(std::move(get));
  r.push_back({Method::kPut,
               base + "/entities/{entityId}",
               access,
               Wrap([api](Request& q) { return api->Replace(q); }),
               {"NGSI-LD: replace an entity (its createdAt is kept)",
                "ngsi-ld",
                {TenantParam(), entity_id},
                entity_schema,
                "",
                204}});
  r.push_back({Method::kDelete,
               base + "/entities/{entityId}",
               access,
               Wrap([api](Request& q) { return api->Delete(q); }),
               {"NGSI-LD: delete an entity", "ngsi-ld", {TenantParam(), entity_id}, "", "", 204}});
  r.push_back({Method::kPost,
               base + "/entities/{entityId}/attrs",
               access,
               Wrap([api](Request& q) { return api->Attrs(q, true); }),
               {"NGSI-LD: append attributes (options=noOverwrite keeps existing ones); 207 lists those not updated",
                "ngsi-ld",
                {TenantParam(), entity_id, {"options", "query", "noOverwrite"}},
                fragment_schema,
                "",
                204}});
  r.push_back({Method::kPatch,
               base + "/entities/{entityId}/attrs",
               access,
               Wrap([api](Request& q) { return api->Attrs(q, false); }),
               {"NGSI-LD: update existing attributes; 207 lists those not updated",
                "ngsi-ld",
                {TenantParam(), entity_id},
                fragment_schema,
                "",
                204}});
  r.push_back({Method::kPatch,
               base + "/entities/{entityId}/attrs/{attrId}",
               access,
               Wrap([api](Request& q) { return api->PatchAttribute(q); }),
               {"NGSI-LD: partial attribute update (members of the instance with the body's datasetId)",
                "ngsi-ld",
                {TenantParam(), entity_id, attr_id},
                R"({"type":"object"})",
                "",
                204}});
  r.push_back({Method::kDelete,
               base + "/entities/{entityId}/attrs/{attrId}",
               access,
               Wrap([api](Request& q) { return api->DeleteAttribute(q); }),
               {"NGSI-LD: delete an attribute (the default instance, datasetId=..., or deleteAll=true)",
                "ngsi-ld",
                {TenantParam(),
                 entity_id,
                 attr_id,
                 {"datasetId", "query", "The instance to delete"},
                 {"deleteAll", "query", "true: every instance", false, "boolean"}},
                "",
                "",
                204}});
  struct BatchRoute {
    const char* name;
    Api::BatchOp op;
    const char* summary;
    int status;
  };
  const BatchRoute batches[] = {
      {"create", Api::BatchOp::kCreate,
       "NGSI-LD batch create, one transaction: 201 with the ids, or 207 BatchOperationResult", 201},
      {"upsert", Api::BatchOp::kUpsert,
       "NGSI-LD batch upsert (options=update merges instead of replacing): 201 with the created ids, 204, or 207", 201},
      {"update", Api::BatchOp::kUpdate,
       "NGSI-LD batch update of existing entities' attributes (options=noOverwrite): 204 or 207", 204},
      {"delete", Api::BatchOp::kDelete, "NGSI-LD batch delete (an array of ids): 204 or 207", 204},
  };
  for (const auto& b : batches) {
    http::Route route{
        Method::kPost,
        base + "/entityOperations/" + b.name,
        access,
        Wrap([api, op = b.op](Request& q) { return api->Batch(q, op); }),
        {b.summary,
         "ngsi-ld",
         {TenantParam(), options},
         b.op == Api::BatchOp::kDelete ? R"({"type":"array","items":{"type":"string"}})" : entities_schema,
         batch_result_schema,
         b.status}};
    route.max_body = kMaxBatchBody;
    r.push_back(std::move(route));
  }
  r.push_back(
      {Method::kGet,
       base + "/types",
       access,
       Wrap([api](Request& q) { return api->Types(q); }),
       {"NGSI-LD: the entity types present (EntityTypeList)",
        "ngsi-ld",
        {TenantParam()},
        "",
        R"({"type":"object","properties":{"id":{"type":"string"},"type":{"type":"string"},"typeList":{"type":"array","items":{"type":"string"}}}})"}});
  r.push_back(
      {Method::kGet,
       base + "/jsonldContexts",
       access,
       Wrap([api](Request& q) { return api->ListContexts(q); }),
       {"NGSI-LD: the @contexts this broker holds (it never fetches others)",
        "ngsi-ld",
        {},
        "",
        R"({"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"url":{"type":"string"},"localUrl":{"type":"string"}}}})"}});
  r.push_back({Method::kGet,
               base + "/jsonldContexts/{contextId}",
               access,
               Wrap([api](Request& q) { return api->ServeContext(q); }),
               {"NGSI-LD: one held @context document",
                "ngsi-ld",
                {{"contextId", "path", "ngsi-ld-core-context-v1.4.jsonld or thanglong-smart-data-models.jsonld", true}},
                "",
                R"({"type":"object"})"}});
  return r;
}

}  // namespace tl::ngsild
