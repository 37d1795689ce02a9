// Builds the OpenAPI 3.1 document served at /api/openapi.json from the route tables themselves, so a
// route cannot exist without being documented.
//
// Thread-safety: pure function of the routes.
#pragma once

#include <string>
#include <vector>

#include "http/http.h"

namespace tl::http {

std::string BuildOpenApi(const std::vector<Route>& routes, const std::string& version);

}  // namespace tl::http
