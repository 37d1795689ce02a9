// Strict JSON request bodies: the one way handlers read JSON input.
//
// JsonBody::Parse checks the content type, parses (rejecting malformed JSON and invalid UTF-8),
// requires an object and rejects unknown members, each with a problem naming the field. Getters
// validate types and lengths and return NFC-normalised text.
//
// Thread-safety: a JsonBody belongs to one request.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "http/http.h"

namespace tl::http {

class JsonBody {
 public:
  static Result<JsonBody> Parse(const Request& req, std::initializer_list<std::string_view> allowed_fields);
  JsonBody(JsonBody&&) noexcept;
  JsonBody& operator=(JsonBody&&) noexcept;
  ~JsonBody();

  bool Has(std::string_view name) const;
  Result<std::string> String(std::string_view name, size_t max_code_points = 200) const;
  Result<std::optional<std::string>> OptionalString(std::string_view name, size_t max_code_points = 200) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view name) const;
  Result<std::optional<bool>> OptionalBool(std::string_view name) const;
  Result<std::vector<std::string>> StringArray(std::string_view name, size_t max_items = 50) const;
  // The raw member (for nested objects), or nullptr.
  const nlohmann::json* Raw(std::string_view name) const;

 private:
  explicit JsonBody(std::unique_ptr<nlohmann::json> j);
  std::unique_ptr<nlohmann::json> json_;
};

// Validates that `text` is an allowed value of a closed set.
Status OneOf(std::string_view value, std::initializer_list<std::string_view> allowed, std::string_view field);

}  // namespace tl::http
