// Request helpers shared by every NGSI-LD route table (entities here, subscriptions in their own
// module): API-key scopes, the NGSILD-Tenant header, media types and integer query parameters, each
// refusing bad input with an NGSI-LD problem that names the header or parameter.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http.h"

namespace tl::ngsild {

// ASCII case-insensitive substring test (media types in Content-Type, Accept and Link headers).
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
// Bearer tokens pass (their role was checked by the route); an API key needs ngsild.write to write and
// ngsild.read or ngsild.write to read.
Status CheckScope(const http::Request& req, bool write);
// The NGSILD-Tenant header: "" (the default tenant) when absent; letters, digits and "_.:/-", at most 100.
Result<std::string> TenantOf(const http::Request& req);
// True when the Accept header asks for application/ld+json.
bool WantsLd(const http::Request& req);
// A non-negative integer query parameter, `def` when absent, at most `max`.
Result<int> IntParam(const http::Request& req, const char* name, int def, int max);

}  // namespace tl::ngsild
