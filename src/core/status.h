// Status and Result<T>: recoverable errors as values (after LevelDB's and Abseil's).
//
// Every fallible operation in ThangLong returns a [[nodiscard]] Status or Result<T>. A Status carries
// a code, a human-readable message and, for validation errors, the name of the offending field. The
// HTTP layer converts a Status into an RFC 9457 problem document in exactly one place
// (src/http/problem.cc); nothing else maps codes to HTTP statuses.
//
// Thread-safety: values; safe to copy and move between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tl {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad input; `field` names the offender
  kUnauthenticated,    // missing, unknown, expired or revoked credentials
  kPermissionDenied,   // authenticated, but role or jurisdiction forbids it
  kNotFound,
  kAlreadyExists,
  kConflict,           // a state or version conflict
  kFailedPrecondition,
  kResourceExhausted,  // rate limits
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kMethodNotAllowed,
  kUnavailable,        // storage unreachable, server overloaded or shutting down
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  std::string ToString() const;

  // The RFC 9457 problem `type` URI to answer with instead of the code's default, for an API with an
  // error vocabulary of its own (NGSI-LD's https://uri.etsi.org/ngsi-ld/errors/...). It must point to
  // a string with static storage duration; null means the default.
  const char* problem_type() const { return problem_type_; }
  Status& WithProblemType(const char* type) & {
    problem_type_ = type;
    return *this;
  }
  Status&& WithProblemType(const char* type) && {
    problem_type_ = type;
    return std::move(*this);
  }

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  const char* problem_type_ = nullptr;
};

inline Status InvalidArgument(std::string message, std::string field = {}) {
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(field));
}
inline Status NotFound(std::string message) { return Status(StatusCode::kNotFound, std::move(message)); }
inline Status AlreadyExists(std::string message, std::string field = {}) {
  return Status(StatusCode::kAlreadyExists, std::move(message), std::move(field));
}
inline Status Unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}
inline Status PermissionDenied(std::string message) {
  return Status(StatusCode::kPermissionDenied, std::move(message));
}
inline Status Conflict(std::string message) { return Status(StatusCode::kConflict, std::move(message)); }
inline Status FailedPrecondition(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}
inline Status ResourceExhausted(std::string message) {
  return Status(StatusCode::kResourceExhausted, std::move(message));
}
inline Status Unavailable(std::string message) { return Status(StatusCode::kUnavailable, std::move(message)); }
inline Status Internal(std::string message) { return Status(StatusCode::kInternal, std::move(message)); }

const char* StatusCodeName(StatusCode code);

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tl

#define TL_CONCAT_INNER(a, b) a##b
#define TL_CONCAT(a, b) TL_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define TL_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::tl::Status tl_status_ = (expr);         \
    if (!tl_status_.ok()) return tl_status_;  \
  } while (0)

// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration ("auto x"), so it cannot be parenthesised.
#define TL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

// `TL_ASSIGN_OR_RETURN(auto x, Fn());` binds the value or returns the error.
#define TL_ASSIGN_OR_RETURN(lhs, expr) TL_ASSIGN_OR_RETURN_IMPL(TL_CONCAT(tl_result_, __LINE__), lhs, expr)
