// NGSI-LD's error vocabulary (ETSI GS CIM 009, clause 5.5.2 / table 5.5.2-1) as platform Statuses.
//
// Each helper returns a Status whose code gives the HTTP status (through src/http/problem.cc, the one
// place where a Status becomes a problem document) and whose problem type is the NGSI-LD URI, e.g.
// https://uri.etsi.org/ngsi-ld/errors/BadRequestData. Handlers and the entity store return these;
// nothing in this module builds problem bodies itself (the batch results embed ProblemDetails built
// by ProblemJson below, which follows the same mapping).
//
// Thread-safety: pure functions over constants.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/status.h"

namespace tl::ngsild {

inline constexpr const char* kInvalidRequest = "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest";
inline constexpr const char* kBadRequestData = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
inline constexpr const char* kAlreadyExists = "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists";
inline constexpr const char* kOperationNotSupported = "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported";
inline constexpr const char* kResourceNotFound = "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
inline constexpr const char* kInternalError = "https://uri.etsi.org/ngsi-ld/errors/InternalError";
inline constexpr const char* kTooManyResults = "https://uri.etsi.org/ngsi-ld/errors/TooManyResults";
inline constexpr const char* kLdContextNotAvailable = "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable";
inline constexpr const char* kNonexistentTenant = "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant";

// 400: the body is not JSON, or not the kind of JSON the operation takes (an object, an array).
inline Status InvalidRequest(std::string message, std::string field = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(field)).WithProblemType(kInvalidRequest);
}
// 400: well-formed, but the data is wrong (an id that is not a URI, an attribute without a value...).
inline Status BadRequestData(std::string message, std::string field = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(field)).WithProblemType(kBadRequestData);
}
// 409.
inline Status EntityAlreadyExists(std::string message) {
  return Status(StatusCode::kAlreadyExists, std::move(message), "id").WithProblemType(kAlreadyExists);
}
// 404.
inline Status ResourceNotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message)).WithProblemType(kResourceNotFound);
}
// 422.
inline Status OperationNotSupported(std::string message, std::string field = {}) {
  return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(field))
      .WithProblemType(kOperationNotSupported);
}
// 503: an @context we do not hold (we never fetch one).
inline Status LdContextNotAvailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message), "@context").WithProblemType(kLdContextNotAvailable);
}
// 404: a tenant that has never held an entity.
inline Status NonexistentTenant(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message), "NGSILD-Tenant").WithProblemType(kNonexistentTenant);
}

// Gives a Status without an NGSI-LD type the type its code corresponds to (storage errors,
// text-normalisation errors...), so every answer of the NGSI-LD API speaks its vocabulary.
Status AsNgsiLd(Status status);

// The ProblemDetails object of a batch result's error entry ({"type", "title", "status", "detail"}).
nlohmann::json ProblemJson(const Status& status);

}  // namespace tl::ngsild
