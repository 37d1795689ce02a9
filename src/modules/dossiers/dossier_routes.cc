// HTTP routes of the one-stop shop: one table, parsed strictly, converted to service calls.
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "http/json_body.h"
#include "modules/dossiers/dossiers.h"

namespace tl::dossiers {
namespace {

using nlohmann::json;

Result<int> ParseLimit(const http::Request& req, int dflt) {
  auto l = req.Query("limit");
  if (!l) return dflt;
  char* end = nullptr;
  long v = std::strtol(l->c_str(), &end, 10);
  if (l->empty() || *end != '\0' || v < 1 || v > 100) return InvalidArgument("must be a number 1-100", "limit");
  return static_cast<int>(v);
}

Result<std::optional<std::string>> OptionalStringMember(const json& obj, const char* name, const std::string& prefix,
                                                        size_t max_cp) {
  if (!obj.contains(name) || obj[name].is_null()) return std::optional<std::string>();
  if (!obj[name].is_string()) return InvalidArgument("must be a string", prefix + name);
  TL_ASSIGN_OR_RETURN(std::string v, text::NormalizeNfc(obj[name].get<std::string>(), prefix + name));
  if (static_cast<size_t>(text::CodePointCount(v)) > max_cp) return InvalidArgument("is too long", prefix + name);
  return std::optional<std::string>(std::string(text::Trim(v)));
}

Result<SubmitRequest> ParseSubmit(const http::Request& req) {
  SubmitRequest s;
  TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"procedure_code", "unit_code", "channel", "delivery",
                                                             "applicant", "form", "components", "attachments",
                                                             "wallet_documents"}));
  if (const json* files = body.Raw("attachments"); files && !files->is_null()) {
    if (!files->is_array()) return InvalidArgument("must be an array of {sha256, name}", "attachments");
    for (const auto& f : *files) {
      if (!f.is_object() || !f.contains("sha256") || !f["sha256"].is_string()) {
        return InvalidArgument("each attachment needs the sha256 of an uploaded file", "attachments");
      }
      std::string sha = f["sha256"];
      if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return InvalidArgument("not a SHA-256 (64 lower-case hex digits)", "attachments");
      }
      TL_ASSIGN_OR_RETURN(auto name, OptionalStringMember(f, "name", "attachments.", 200));
      s.attachments.push_back({sha, name.value_or(sha.substr(0, 12))});
    }
  }
  if (const json* refs = body.Raw("wallet_documents"); refs && !refs->is_null()) {
    if (!refs->is_array()) return InvalidArgument("must be an array of {component, document_id}", "wallet_documents");
    if (refs->size() > 30) return InvalidArgument("at most 30 wallet documents", "wallet_documents");
    for (size_t i = 0; i < refs->size(); ++i) {
      const json& ref = (*refs)[i];
      const std::string at = "wallet_documents." + std::to_string(i);
      if (!ref.is_object()) return InvalidArgument("must be an object {component, document_id}", at);
      for (const auto& [k, v] : ref.items()) {
        if (k != "component" && k != "document_id") return InvalidArgument("unknown field '" + k + "'", at + "." + k);
      }
      TL_ASSIGN_OR_RETURN(auto component, OptionalStringMember(ref, "component", at + ".", 500));
      if (!component || component->empty()) return InvalidArgument("is required", at + ".component");
      if (!ref.contains("document_id") || !ref["document_id"].is_string()) {
        return InvalidArgument("is required", at + ".document_id");
      }
      std::string id = ref["document_id"];
      constexpr const char* kIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
      if (id.empty() || id.size() > 64 || id.find_first_not_of(kIdChars) != std::string::npos) {
        return InvalidArgument("is not a document id (1-64 letters, digits, - or _)", at + ".document_id");
      }
      for (const auto& earlier : s.wallet_documents) {
        if (earlier.component == *component) {
          return InvalidArgument("names a component already taken from the wallet", at + ".component");
        }
      }
      s.wallet_documents.push_back({*component, id});
    }
  }
  TL_ASSIGN_OR_RETURN(s.procedure_code, body.String("procedure_code", 40));
  TL_ASSIGN_OR_RETURN(s.unit_code, body.OptionalString("unit_code", 10));
  TL_ASSIGN_OR_RETURN(auto channel, body.OptionalString("channel", 10));
  s.channel = channel.value_or("");
  if (!s.channel.empty()) TL_RETURN_IF_ERROR(http::OneOf(s.channel, {"online", "desk", "postal"}, "channel"));
  TL_ASSIGN_OR_RETURN(auto delivery, body.OptionalString("delivery", 10));
  s.delivery = delivery.value_or("");
  TL_ASSIGN_OR_RETURN(s.components, body.StringArray("components", 50));
  if (const json* form = body.Raw("form"); form && !form->is_null()) {
    if (!form->is_object()) return InvalidArgument("must be an object", "form");
    if (form->dump().size() > 64 * 1024) return InvalidArgument("is larger than 64 KiB", "form");
    s.form = *form;
  }
  const json* a = body.Raw("applicant");
  if (a && !a->is_null()) {
    if (!a->is_object()) return InvalidArgument("must be an object", "applicant");
    for (const auto& [k, v] : a->items()) {
      static const std::vector<std::string> kKnown = {"full_name", "personal_id", "tax_code", "phone", "email", "address"};
      if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end()) {
        return InvalidArgument("unknown field '" + k + "'", "applicant." + k);
      }
    }
    TL_ASSIGN_OR_RETURN(auto name, OptionalStringMember(*a, "full_name", "applicant.", 200));
    s.applicant.full_name = name.value_or("");
    TL_ASSIGN_OR_RETURN(s.applicant.personal_id, OptionalStringMember(*a, "personal_id", "applicant.", 12));
    TL_ASSIGN_OR_RETURN(s.applicant.tax_code, OptionalStringMember(*a, "tax_code", "applicant.", 14));
    TL_ASSIGN_OR_RETURN(s.applicant.phone, OptionalStringMember(*a, "phone", "applicant.", 12));
    TL_ASSIGN_OR_RETURN(s.applicant.email, OptionalStringMember(*a, "email", "applicant.", 200));
    TL_ASSIGN_OR_RETURN(auto address, OptionalStringMember(*a, "address", "applicant.", 500));
    s.applicant.address = address.value_or("");
  }
  return s;
}

const char* kDossierSchema =
    R"({"type":"object","properties":{"code":{"type":"string"},"procedure":{"type":"object"},"status":{"type":"string"},"status_label":{"type":"string"},"version":{"type":"integer"},"due_at":{"type":["string","null"]},"overdue":{"type":"boolean"},"timeline":{"type":"array"},"allowed_actions":{"type":"array","items":{"type":"string"}}}})";
const char* kSubmitSchema =
    R"({"type":"object","required":["procedure_code","applicant"],"additionalProperties":false,"properties":{"procedure_code":{"type":"string"},"unit_code":{"type":"string","description":"commune/ward that handles a commune-level procedure"},"channel":{"enum":["online","desk","postal"]},"delivery":{"enum":["desk","online","post"]},"applicant":{"type":"object","required":["full_name"],"properties":{"full_name":{"type":"string"},"personal_id":{"type":"string"},"tax_code":{"type":"string"},"phone":{"type":"string"},"email":{"type":"string"},"address":{"type":"string"}}},"form":{"type":"object"},"components":{"type":"array","items":{"type":"string"}},"attachments":{"type":"array","items":{"type":"object","required":["sha256"],"properties":{"sha256":{"type":"string"},"name":{"type":"string"}}}},"wallet_documents":{"type":"array","maxItems":30,"description":"once-only: components satisfied by documents of the applicant's own wallet instead of an upload (citizens); each must verify as valid and be of a type that can stand for the component; see GET /api/v1/me/wallet/offers","items":{"type":"object","required":["component","document_id"],"additionalProperties":false,"properties":{"component":{"type":"string","description":"one of the procedure's components"},"document_id":{"type":"string"}}}}}})";
const char* kOffersSchema =
    R"({"type":"object","properties":{"procedure":{"type":"string"},"components":{"type":"array","items":{"type":"object","properties":{"component":{"type":"string"},"document_types":{"type":"array","items":{"type":"object","properties":{"type":{"type":"string"},"label_vi":{"type":"string"},"label_en":{"type":"string"}}}},"documents":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"type":{"type":"string"},"document_type":{"type":"string"},"title":{"type":"string"},"number":{"type":"string"},"issuer_agency":{"type":"string"},"issued_on":{"type":"string"},"valid_until":{"type":["string","null"]}}}}}}}}})";
const char* kReferencedSchema =
    R"({"type":"object","properties":{"component":{"type":"string"},"components":{"type":"array","items":{"type":"string"}},"document_id":{"type":"string"},"type":{"type":"string"},"title":{"type":"string"},"number":{"type":"string"},"issuer_agency":{"type":"string"},"issued_on":{"type":"string"},"has_file":{"type":"boolean"},"file_url":{"type":"string"},"verification":{"type":"object","properties":{"status":{"type":"string","enum":["valid","tampered","revoked","unverified","unknown"]},"reason":{"type":"string"},"checked_at":{"type":"string"}}}}})";
const char* kActionSchema =
    R"({"type":"object","required":["version"],"additionalProperties":false,"properties":{"version":{"type":"integer","description":"the dossier version the action is based on"},"note":{"type":"string"},"assignee":{"type":"string"},"agency":{"type":"string"},"new_due_date":{"type":"string","format":"date"}}})";
const char* kListSchema =
    R"({"type":"object","properties":{"items":{"type":"array"},"next_cursor":{"type":["string","null"]}}})";

}  // namespace

std::vector<http::Route> Routes(DossierService* svc) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back({Method::kPost, "/api/v1/dossiers",
               Access::Roles({"citizen", "organisation", "desk_officer"}),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto s, ParseSubmit(req));
                 TL_ASSIGN_OR_RETURN(auto d, svc->SubmitText(*req.principal, s, audit::EntryFor(req, "", "")));
                 auto resp = http::Response::Json(201, std::move(d.body));
                 resp.headers.emplace_back("Location", "/api/v1/dossiers/" + d.code);
                 return resp;
               },
               {"Submit a dossier online (citizens, organisations) or record a desk/postal submission (desk officers)",
                "dossiers", {}, kSubmitSchema, kDossierSchema, 201}});
  r.push_back({Method::kGet, "/api/v1/dossiers/{code}", Access::Authenticated().PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(std::string d, svc->GetText(*req.principal, req.Param("code")));
                 return http::Response::Json(200, std::move(d));
               },
               {"A dossier with its timeline and the actions you may take", "dossiers",
                {{"code", "path", "Dossier code"}}, "", kDossierSchema}});
  r.push_back({Method::kPost, "/api/v1/dossiers/{code}/actions/{action}", Access::Authenticated(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"version", "note", "assignee", "agency",
                                                                            "new_due_date"}));
                 ActionRequest a;
                 TL_ASSIGN_OR_RETURN(auto version, body.OptionalInt("version"));
                 if (!version) return InvalidArgument("give the version of the dossier you acted on", "version");
                 a.version = *version;
                 TL_ASSIGN_OR_RETURN(auto note, body.OptionalString("note", 2000));
                 a.note = note.value_or("");
                 TL_ASSIGN_OR_RETURN(a.assignee, body.OptionalString("assignee", 64));
                 TL_ASSIGN_OR_RETURN(a.agency, body.OptionalString("agency", 32));
                 TL_ASSIGN_OR_RETURN(a.new_due_date, body.OptionalString("new_due_date", 10));
                 // Answered once the action is durable, without holding this thread meanwhile.
                 return http::Response::Later([svc, who = *req.principal, code = req.Param("code"),
                                               action = req.Param("action"), a = std::move(a),
                                               ctx = audit::EntryFor(req, "", "")](http::Reply reply) {
                   svc->ActAsync(who, code, action, a, ctx, [reply = std::move(reply)](Result<std::string> d) {
                     if (!d.ok()) return reply(d.status());
                     reply(http::Response::Json(200, std::move(*d)));
                   });
                 });
               },
               {"Act on a dossier: receive, refuse, assign, request-supplement, supplement, transfer, propose, approve, "
                "reject, issue-result, return, withdraw, stop, apologise",
                "dossiers",
                {{"code", "path", "Dossier code"}, {"action", "path", "Action name (data/rules/dossier-lifecycle.json)"}},
                kActionSchema, kDossierSchema}});
  // The handler parses and checks the request and queues the action's write: nothing on this thread
  // waits (the embedded store answers from its syncer; over PostgreSQL quick routes go to the pool).
  r.back().quick = true;
  r.push_back({Method::kGet, "/api/v1/dossiers",
               Access::Roles({"desk_officer", "specialist", "leader", "agency_admin", "city_admin"}).PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 QueueQuery q;
                 q.scope = req.Query("scope").value_or("agency");
                 TL_RETURN_IF_ERROR(http::OneOf(q.scope, {"mine", "agency"}, "scope"));
                 q.status = req.Query("status");
                 if (q.status && !svc->rules().State(*q.status)) return InvalidArgument("no such status", "status");
                 q.procedure = req.Query("procedure");
                 q.channel = req.Query("channel");
                 q.applicant = req.Query("applicant");
                 q.from = req.Query("from");
                 q.to = req.Query("to");
                 q.overdue_only = req.Query("overdue").value_or("") == "true";
                 q.cursor = req.Query("cursor");
                 TL_ASSIGN_OR_RETURN(q.limit, ParseLimit(req, 20));
                 TL_ASSIGN_OR_RETURN(auto page, svc->Queue(*req.principal, q));
                 return http::Response::Json(200, page.dump());
               },
               {"Work queue: your agency's dossiers (or scope=mine), overdue and due-soon first", "dossiers",
                {{"scope", "query", "mine or agency"}, {"status", "query", "One status"},
                 {"procedure", "query", "Procedure code"}, {"channel", "query", "online, desk or postal"},
                 {"applicant", "query", "Part of the applicant's name"}, {"from", "query", "Submitted on or after (date)"},
                 {"to", "query", "Submitted on or before (date)"}, {"overdue", "query", "true: only overdue"},
                 {"limit", "query", "1-100", false, "integer"}, {"cursor", "query", "next_cursor of the previous page"}},
                "", kListSchema}});
  r.push_back({Method::kGet, "/api/v1/dossiers/counts",
               Access::Roles({"desk_officer", "specialist", "leader", "agency_admin", "city_admin"}),
               [svc](http::Request& req) -> Result<http::Response> {
                 std::string scope = req.Query("scope").value_or("agency");
                 TL_RETURN_IF_ERROR(http::OneOf(scope, {"mine", "agency"}, "scope"));
                 TL_ASSIGN_OR_RETURN(auto c, svc->Counts(*req.principal, scope));
                 return http::Response::Json(200, c.dump());
               },
               {"Dossier counts per status, and the overdue count", "dossiers", {{"scope", "query", "mine or agency"}},
                "", R"({"type":"object","properties":{"by_status":{"type":"object"},"overdue":{"type":"integer"}}})"}});
  r.push_back({Method::kGet, "/api/v1/me/dossiers", Access::Roles({"citizen", "organisation"}).PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(int limit, ParseLimit(req, 20));
                 TL_ASSIGN_OR_RETURN(auto page, svc->MyDossiers(*req.principal, req.Query("cursor"), limit));
                 return http::Response::Json(200, page.dump());
               },
               {"Your dossiers, newest first", "dossiers",
                {{"limit", "query", "1-100", false, "integer"}, {"cursor", "query", "next_cursor"}}, "", kListSchema}});
  r.push_back({Method::kPost, "/api/v1/dossiers/{code}/rating", Access::Roles({"citizen", "organisation"}),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto body, http::JsonBody::Parse(req, {"rating", "comment"}));
                 TL_ASSIGN_OR_RETURN(auto rating, body.OptionalInt("rating"));
                 if (!rating) return InvalidArgument("is required", "rating");
                 TL_ASSIGN_OR_RETURN(auto comment, body.OptionalString("comment", 1000));
                 TL_ASSIGN_OR_RETURN(auto d, svc->Rate(*req.principal, req.Param("code"), static_cast<int>(*rating),
                                                       comment.value_or(""), audit::EntryFor(req, "", "")));
                 return http::Response::Json(200, d.dump());
               },
               {"Rate the service once the result is returned (1-5)", "dossiers", {{"code", "path", "Dossier code"}},
                R"({"type":"object","required":["rating"],"properties":{"rating":{"type":"integer","minimum":1,"maximum":5},"comment":{"type":"string"}}})",
                kDossierSchema}});
  r.push_back({Method::kGet, "/api/v1/public/dossiers/{code}", Access::Public(),
               [svc](http::Request& req) -> Result<http::Response> {
                 std::string check = req.Query("check").value_or("");
                 TL_ASSIGN_OR_RETURN(std::string body, svc->PublicStatus(req.Param("code"), check, req.client_ip));
                 return http::Response::Json(200, std::move(body));
               },
               {"Public status of a dossier: the code plus the last 4 digits of the applicant's ID number or phone",
                "dossiers", {{"code", "path", "Dossier code"}, {"check", "query", "Last 4 digits", true}}, "",
                R"({"type":"object","properties":{"code":{"type":"string"},"status":{"type":"string"},"due_at":{"type":["string","null"]}}})"}});
  r.back().quick = true;  // one indexed read; only a failed check writes (the throttle)
  r.push_back({Method::kGet, "/api/v1/me/notifications", Access::Authenticated(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto n, svc->Notifications(*req.principal, req.Query("unread").value_or("") == "true"));
                 return http::Response::Json(200, n.dump());
               },
               {"Your notifications inbox (newest 100)", "notifications", {{"unread", "query", "true: unread only"}}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kPost, "/api/v1/me/notifications/{id}/read", Access::Authenticated(),
               [svc](http::Request& req) -> Result<http::Response> {
                 char* end = nullptr;
                 long long id = std::strtoll(req.Param("id").c_str(), &end, 10);
                 if (*end != '\0') return InvalidArgument("must be a number", "id");
                 TL_RETURN_IF_ERROR(svc->MarkNotificationRead(*req.principal, id));
                 return http::Response::NoContent();
               },
               {"Mark a notification read", "notifications", {{"id", "path", "Notification id"}}, "", "", 204}});
  http::Route upload{Method::kPost, "/api/v1/attachments", Access::Authenticated(),
                     [svc](http::Request& req) -> Result<http::Response> {
                       std::string type(req.Header("content-type").value_or(""));
                       TL_ASSIGN_OR_RETURN(auto f, svc->Upload(*req.principal, type, req.body, audit::EntryFor(req, "", "")));
                       return http::Response::Json(201, f.dump());
                     },
                     {"Upload a file (PDF, PNG or JPEG, raw body up to the upload limit) to attach to a dossier; "
                      "stored once by its SHA-256",
                      "dossiers", {}, "",
                      R"({"type":"object","properties":{"sha256":{"type":"string"},"size":{"type":"integer"},"content_type":{"type":"string"}}})",
                      201}};
  upload.max_body = 20 << 20;
  r.push_back(std::move(upload));
  r.push_back({Method::kGet, "/api/v1/attachments/{sha256}", Access::Authenticated().PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto f, svc->Download(*req.principal, req.Param("sha256")));
                 http::Response resp;
                 resp.content_type = f.content_type;
                 resp.body = std::move(f.bytes);
                 std::string ext = f.content_type == "application/pdf" ? ".pdf" : f.content_type == "image/png" ? ".png" : ".jpg";
                 resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + f.sha256.substr(0, 16) + ext + "\"");
                 resp.headers.emplace_back("Content-Security-Policy", "sandbox");
                 return resp;
               },
               {"Download an attached file (its owner, or whoever may see a dossier citing it)", "dossiers",
                {{"sha256", "path", "The file's SHA-256"}}, "", ""}});
  r.push_back({Method::kGet, "/api/v1/me/wallet/offers", Access::Roles({"citizen"}).PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 auto procedure = req.Query("procedure");
                 if (!procedure || procedure->empty()) return InvalidArgument("is required", "procedure");
                 if (procedure->size() > 40) return InvalidArgument("is too long", "procedure");
                 TL_ASSIGN_OR_RETURN(auto j, svc->WalletOffers(*req.principal, *procedure));
                 return http::Response::Json(200, j.dump());
               },
               {"Once-only: for each component of a procedure, your signed wallet documents that verify as valid and "
                "can stand for it (data/rules/component-document-types.json)",
                "dossiers",
                {{"procedure", "query", "Procedure code", true}},
                "",
                kOffersSchema}});
  r.push_back({Method::kGet, "/api/v1/dossiers/{code}/wallet-documents/{document_id}",
               Access::Authenticated().PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto j, svc->ReferencedDocument(*req.principal, req.Param("code"),
                                                                    req.Param("document_id")));
                 return http::Response::Json(200, j.dump());
               },
               {"A wallet document a dossier refers to instead of an upload, verified now (whoever may see the "
                "dossier)",
                "dossiers",
                {{"code", "path", "Dossier code"}, {"document_id", "path", "Wallet document id"}},
                "",
                kReferencedSchema}});
  r.push_back({Method::kGet, "/api/v1/dossiers/{code}/wallet-documents/{document_id}/file",
               Access::Authenticated().PersonalData(),
               [svc](http::Request& req) -> Result<http::Response> {
                 TL_ASSIGN_OR_RETURN(auto f, svc->ReferencedDocumentFile(*req.principal, req.Param("code"),
                                                                        req.Param("document_id")));
                 http::Response resp;
                 resp.content_type = f.content_type;
                 resp.body = std::move(f.bytes);
                 resp.headers.emplace_back("Content-Disposition", "attachment");
                 resp.headers.emplace_back("Content-Security-Policy", "sandbox");
                 return resp;
               },
               {"The file of a wallet document a dossier refers to (a certified copy; issued results have none)",
                "dossiers",
                {{"code", "path", "Dossier code"}, {"document_id", "path", "Wallet document id"}},
                "",
                ""}});
  r.push_back({Method::kGet, "/api/v1/dossier-rules", Access::Public(),
               [svc](http::Request&) -> Result<http::Response> {
                 json states = json::object();
                 for (const auto& [name, st] : svc->rules().states()) {
                   states[name] = {{"label_vi", st.label_vi}, {"open", st.open}};
                 }
                 json actions = json::object();
                 for (const auto& [name, a] : svc->rules().actions()) {
                   actions[name] = {{"from", a.from}, {"to", a.to ? json(*a.to) : json(nullptr)}, {"roles", a.roles},
                                    {"needs", a.needs}, {"note_required", a.note_required}};
                 }
                 return http::Response::Json(
                     200, json{{"version", svc->rules().version()}, {"states", states}, {"actions", actions}}.dump());
               },
               {"The lifecycle rules in force: states and actions", "dossiers", {}, "", R"({"type":"object"})"}});
  return r;
}

}  // namespace tl::dossiers
