// Request helpers shared by every NGSI-LD route table (entities here, subscriptions and the temporal
// API in their own modules): API-key scopes, the NGSILD-Tenant header, media types, integer and boolean
// query parameters, entity ids, the Link header's @context, attrs and request bodies, each refusing bad input with an
// NGSI-LD problem that names the header or parameter.
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http.h"
#include "modules/ngsild/context.h"

namespace tl::ngsild {

// ASCII case-insensitive substring test (media types in Content-Type, Accept and Link headers).
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// Bearer tokens pass (their role was checked by the route); an API key needs ngsild.write to write and
// ngsild.read or ngsild.write to read.
Status CheckScope(const http::Request& req, bool write);
// The NGSILD-Tenant header: "" (the default tenant) when absent; letters, digits and "_.:/-", at most 100.
Result<std::string> TenantOf(const http::Request& req);
// A tenant name: 1 to 100 letters, digits and _ . : / - (kTenantNameRule says so to a client).
bool IsTenantName(std::string_view name);
inline constexpr const char* kTenantNameRule = "a tenant name has 1 to 100 letters, digits and _ . : / -";
// True when the Accept header asks for application/ld+json.
bool WantsLd(const http::Request& req);
// A non-negative integer query parameter, `def` when absent, at most `max`.
Result<int> IntParam(const http::Request& req, const char* name, int def, int max);
// A boolean query parameter ("true" or "false"), false when absent.
Result<bool> BoolParam(const http::Request& req, const char* name);

// Checks an entity id: a URI, and addressable in a path (no '/', '?' or '#'); errors name `field`.
Status CheckEntityId(std::string_view id, const char* field);
// The context of the Link header (or the core's); `url` receives the URL it named, which responses echo.
Result<std::shared_ptr<const Context>> LinkContext(const http::Request& req, const ContextRegistry& contexts,
                                                   std::string* url = nullptr);
// The URL responses name as their context: the one the request's Link header named, else the context's own.
std::string ResponseContextUrl(const Context& ctx, const std::string& link_url);
// The Link header naming `url` as the JSON-LD context of a response.
std::string LinkHeader(const std::string& url);
// The attrs parameter: expanded attribute names, nullopt when absent.
Result<std::optional<std::set<std::string>>> AttrsOf(const http::Request& req, const Context& ctx);

// A request body: application/json (the @context from a Link header, else the core context) or
// application/ld+json (the @context in each payload; a Link header is then refused); 415 otherwise.
// Refuses empty, malformed and too deeply nested JSON (InvalidRequest) and NFC-normalises every string.
struct Body {
  nlohmann::json value;
  bool ld = false;                          // application/ld+json: contexts are in the body
  std::shared_ptr<const Context> link_ctx;  // application/json: the Link header's (or the core)
};
Result<Body> ParseRequestBody(const http::Request& req, const ContextRegistry& contexts);
// The context of one payload object: its "@context" (ld+json) or the Link's (json).
Result<std::shared_ptr<const Context>> ContextOf(const Body& b, const nlohmann::json& payload,
                                                 const ContextRegistry& contexts);

}  // namespace tl::ngsild
