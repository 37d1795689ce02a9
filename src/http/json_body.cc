#include "http/json_body.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace tl::http {

JsonBody::JsonBody(std::unique_ptr<nlohmann::json> j) : json_(std::move(j)) {}
JsonBody::JsonBody(JsonBody&&) noexcept = default;
JsonBody& JsonBody::operator=(JsonBody&&) noexcept = default;
JsonBody::~JsonBody() = default;

Result<JsonBody> JsonBody::Parse(const Request& req, std::initializer_list<std::string_view> allowed) {
  auto ct = req.Header("content-type");
  if (!ct || ct->find("application/json") == std::string_view::npos) {
    return Status(StatusCode::kUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)",
                  "Content-Type");
  }
  if (!text::IsValidUtf8(req.body)) return InvalidArgument("the body is not valid UTF-8", "body");
  auto j = std::make_unique<nlohmann::json>(nlohmann::json::parse(req.body, nullptr, false));
  if (j->is_discarded()) return InvalidArgument("the body is not well-formed JSON", "body");
  if (!j->is_object()) return InvalidArgument("the body must be a JSON object", "body");
  for (const auto& [key, value] : j->items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) return InvalidArgument("unknown field '" + key + "'", key);
  }
  return JsonBody(std::move(j));
}

bool JsonBody::Has(std::string_view name) const {
  auto it = json_->find(name);
  return it != json_->end() && !it->is_null();
}

const nlohmann::json* JsonBody::Raw(std::string_view name) const {
  auto it = json_->find(name);
  return it == json_->end() ? nullptr : &*it;
}

Result<std::optional<std::string>> JsonBody::OptionalString(std::string_view name, size_t max_cp) const {
  auto it = json_->find(name);
  if (it == json_->end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument("must be a string", std::string(name));
  TL_ASSIGN_OR_RETURN(std::string s, text::NormalizeNfc(it->get_ref<const std::string&>(), name));
  if (static_cast<size_t>(text::CodePointCount(s)) > max_cp) {
    return InvalidArgument("must be at most " + std::to_string(max_cp) + " characters", std::string(name));
  }
  return std::optional<std::string>(std::move(s));
}

Result<std::string> JsonBody::String(std::string_view name, size_t max_cp) const {
  TL_ASSIGN_OR_RETURN(auto s, OptionalString(name, max_cp));
  if (!s || text::Trim(*s).empty()) return InvalidArgument("is required", std::string(name));
  return std::move(*s);
}

Result<std::optional<int64_t>> JsonBody::OptionalInt(std::string_view name) const {
  auto it = json_->find(name);
  if (it == json_->end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return InvalidArgument("must be an integer", std::string(name));
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::optional<bool>> JsonBody::OptionalBool(std::string_view name) const {
  auto it = json_->find(name);
  if (it == json_->end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return InvalidArgument("must be true or false", std::string(name));
  return std::optional<bool>(it->get<bool>());
}

Result<std::vector<std::string>> JsonBody::StringArray(std::string_view name, size_t max_items) const {
  std::vector<std::string> out;
  auto it = json_->find(name);
  if (it == json_->end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidArgument("must be an array of strings", std::string(name));
  if (it->size() > max_items) return InvalidArgument("too many items", std::string(name));
  for (const auto& v : *it) {
    if (!v.is_string()) return InvalidArgument("must be an array of strings", std::string(name));
    TL_ASSIGN_OR_RETURN(std::string s, text::NormalizeNfc(v.get_ref<const std::string&>(), name));
    out.push_back(std::move(s));
  }
  return out;
}

Status OneOf(std::string_view value, std::initializer_list<std::string_view> allowed, std::string_view field) {
  std::string list;
  for (auto a : allowed) {
    if (a == value) return Status::Ok();
    if (!list.empty()) list += ", ";
    list += a;
  }
  return InvalidArgument("must be one of: " + list, std::string(field));
}

}  // namespace tl::http
