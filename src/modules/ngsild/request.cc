#include "modules/ngsild/request.h"

#include <algorithm>
#include <cctype>

#include "modules/ngsild/errors.h"

namespace tl::ngsild {

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

Result<std::string> TenantOf(const http::Request& req) {
  auto h = req.Header("ngsild-tenant");
  if (!h) return std::string();
  std::string_view t = *h;
  if (t.empty() || t.size() > 100) return BadRequestData("a tenant name has 1 to 100 characters", "NGSILD-Tenant");
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("_.:/-").find(c) == std::string_view::npos) {
      return BadRequestData("a tenant name holds letters, digits and _ . : / - only", "NGSILD-Tenant");
    }
  }
  return std::string(t);
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

}  // namespace tl::ngsild
