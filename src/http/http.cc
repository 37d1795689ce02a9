#include <algorithm>

#include "http/http.h"

namespace tl::http {

const char* MethodName(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
  }
  return "GET";
}

bool Principal::CoversAgency(std::string_view agency_code) const {
  if (city_wide) return true;
  return std::find(agencies_in_jurisdiction.begin(), agencies_in_jurisdiction.end(), agency_code) !=
         agencies_in_jurisdiction.end();
}

bool Principal::CoversUnit(std::string_view unit_code) const {
  if (city_wide) return true;
  return std::find(units_in_jurisdiction.begin(), units_in_jurisdiction.end(), unit_code) !=
         units_in_jurisdiction.end();
}

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

}  // namespace tl::http
