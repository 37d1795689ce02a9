#include "modules/ngsild/request.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/text.h"
#include "modules/ngsild/errors.h"

namespace tl::ngsild {
namespace {

constexpr size_t kMaxJsonDepth = 64;

// Nesting of a JSON text (outside strings), to refuse pathological bodies before parsing them.
size_t JsonDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

// NFC-normalises every string and key (refusing NUL and invalid UTF-8), as all stored text is.
Status NormalizeStrings(nlohmann::json& v, const std::string& field) {
  if (v.is_string()) {
    TL_ASSIGN_OR_RETURN(std::string s, text::NormalizeNfc(v.get_ref<const std::string&>(), field));
    v = std::move(s);
  } else if (v.is_array()) {
    for (auto& item : v) TL_RETURN_IF_ERROR(NormalizeStrings(item, field));
  } else if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [key, item] : v.items()) {
      std::string path = field.empty() ? key : field + "." + key;
      TL_ASSIGN_OR_RETURN(std::string k, text::NormalizeNfc(key, path));
      TL_RETURN_IF_ERROR(NormalizeStrings(item, field.empty() ? k : field + "." + k));
      out[k] = std::move(item);
    }
    v = std::move(out);
  }
  return Status::Ok();
}

}  // namespace

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != haystack.end();
}

Status CheckScope(const http::Request& req, bool write) {
  if (!req.principal || req.principal->role != "integration") return Status::Ok();
  if (req.principal->HasScope("ngsild.write")) return Status::Ok();
  if (!write && req.principal->HasScope("ngsild.read")) return Status::Ok();
  return PermissionDenied(std::string("this API key lacks the scope ") + (write ? "ngsild.write" : "ngsild.read"));
}

bool IsTenantName(std::string_view t) {
  if (t.empty() || t.size() > 100) return false;
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_.:/-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Result<std::string> TenantOf(const http::Request& req) {
  auto h = req.Header("ngsild-tenant");
  if (!h) return std::string();
  if (!IsTenantName(*h)) return BadRequestData(kTenantNameRule, "NGSILD-Tenant");
  return std::string(*h);
}

bool WantsLd(const http::Request& req) {
  auto a = req.Header("accept");
  return a && ContainsIgnoreCase(*a, "application/ld+json");
}

Result<int> IntParam(const http::Request& req, const char* name, int def, int max) {
  auto v = req.Query(name);
  if (!v) return def;
  if (v->empty() || v->size() > 9 || !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return BadRequestData("must be a non-negative integer", name);
  }
  int n = std::stoi(*v);
  if (n > max) return BadRequestData("must be at most " + std::to_string(max), name);
  return n;
}

Result<bool> BoolParam(const http::Request& req, const char* name) {
  auto v = req.Query(name);
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  return BadRequestData("must be true or false", name);
}

Status CheckEntityId(std::string_view id, const char* field) {
  if (!IsUri(id)) return BadRequestData("the entity id must be a URI (e.g. urn:ngsi-ld:Streetlight:hk-0001)", field);
  if (id.find_first_of("/?#") != std::string_view::npos) {
    return BadRequestData("entity ids with '/', '?' or '#' cannot be addressed in a path and are not accepted", field);
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Context>> LinkContext(const http::Request& req, const ContextRegistry& contexts,
                                                   std::string* url) {
  auto link = req.Header("link");
  if (!link) return contexts.Default();
  return contexts.FromLinkHeader(*link, url);
}

std::string ResponseContextUrl(const Context& ctx, const std::string& link_url) {
  if (!link_url.empty()) return link_url;
  return ctx.url().empty() ? std::string(kCoreContextUrl) : ctx.url();
}

std::string LinkHeader(const std::string& url) {
  return "<" + url + ">; rel=\"" + std::string(kJsonLdContextRel) + "\"; type=\"application/ld+json\"";
}

Result<std::optional<std::set<std::string>>> AttrsOf(const http::Request& req, const Context& ctx) {
  auto v = req.Query("attrs");
  if (!v) return std::optional<std::set<std::string>>();
  std::set<std::string> out;
  for (const auto& name : text::Split(*v)) {
    if (name.empty()) return BadRequestData("an attribute name in attrs is empty", "attrs");
    std::string iri = ctx.Expand(name);
    if (iri.empty() || iri[0] == '@') return BadRequestData("'" + name + "' is not an attribute name", "attrs");
    out.insert(iri);
  }
  return std::optional<std::set<std::string>>(std::move(out));
}

Result<Body> ParseRequestBody(const http::Request& req, const ContextRegistry& contexts) {
  Body b;
  auto ct = req.Header("content-type");
  if (ct && ContainsIgnoreCase(*ct, "application/ld+json")) {
    b.ld = true;
  } else if (!ct || !ContainsIgnoreCase(*ct, "application/json")) {
    return Status(StatusCode::kUnsupportedMediaType, "the body must be application/json or application/ld+json",
                  "Content-Type");
  }
  if (text::Trim(req.body).empty()) return InvalidRequest("the body is empty", "body");
  if (JsonDepth(req.body) > kMaxJsonDepth) {
    return InvalidRequest("the body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels", "body");
  }
  b.value = ParseJson(req.body);  // core/json_reader.h: nlohmann's result, faster for a well-formed body
  if (b.value.is_discarded()) return InvalidRequest("the body is not well-formed JSON", "body");
  bool plain =
      std::all_of(req.body.begin(), req.body.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }) &&
      req.body.find("\\u") == std::string::npos;
  if (!plain) {
    Status st = NormalizeStrings(b.value, "");
    if (!st.ok()) return BadRequestData(st.message(), st.field());
  }
  if (b.ld) {
    if (auto link = req.Header("link"); link && ContainsIgnoreCase(*link, kJsonLdContextRel)) {
      return BadRequestData("an application/ld+json body carries its own @context; send no Link header with it",
                            "Link");
    }
  } else {
    TL_ASSIGN_OR_RETURN(b.link_ctx, LinkContext(req, contexts));
  }
  return b;
}

Result<std::shared_ptr<const Context>> ContextOf(const Body& b, const nlohmann::json& payload,
                                                 const ContextRegistry& contexts) {
  auto it = payload.is_object() ? payload.find("@context") : payload.end();
  if (b.ld) {
    if (!payload.is_object() || it == payload.end()) {
      return BadRequestData("an application/ld+json payload needs an @context member (or send application/json)",
                            "@context");
    }
    return contexts.FromValue(*it);
  }
  if (payload.is_object() && it != payload.end()) {
    return BadRequestData(
        "an application/json payload may not hold @context: give it in a Link header, or send "
        "application/ld+json",
        "@context");
  }
  return b.link_ctx;
}

}  // namespace tl::ngsild
