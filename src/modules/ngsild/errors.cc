#include "modules/ngsild/errors.h"

#include <nlohmann/json.hpp>

#include "http/problem.h"

namespace tl::ngsild {

Status AsNgsiLd(Status status) {
  if (status.ok() || status.problem_type() != nullptr) return status;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return std::move(status).WithProblemType(kBadRequestData);
    case StatusCode::kNotFound:
      return std::move(status).WithProblemType(kResourceNotFound);
    case StatusCode::kAlreadyExists:
      return std::move(status).WithProblemType(kAlreadyExists);
    case StatusCode::kFailedPrecondition:
      return std::move(status).WithProblemType(kOperationNotSupported);
    case StatusCode::kInternal:
      return std::move(status).WithProblemType(kInternalError);
    default:
      return status;
  }
}

nlohmann::json ProblemJson(const Status& status) {
  // The same document src/http/problem.cc makes for a whole response, without the request's members.
  nlohmann::json j = nlohmann::json::parse(http::ProblemResponse(AsNgsiLd(status), "", "").body, nullptr, false);
  if (!j.is_object()) return nlohmann::json::object();
  j.erase("instance");
  j.erase("request_id");
  return j;
}

}  // namespace tl::ngsild
