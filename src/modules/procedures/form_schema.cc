#include "modules/procedures/form_schema.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <regex>
#include <vector>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "core/text.h"

namespace tl::procedures::forms {

using nlohmann::json;
using nlohmann::ordered_json;

class Compiled {
 public:
  json schema;             // what valijson reads
  ordered_json ordered;    // the same in its authors' order: messages and which error comes first
  std::string text;
  valijson::Schema parsed;
  // valijson compiles a std::regex for every date, time or date-time `format` it checks, on every
  // validation (its patterns it caches; its formats it does not). Forms with such fields also keep
  // the schema without those keywords: a document whose formatted values all pass this file's own
  // checks (the same expressions, compiled once) is validated against that one; any other against
  // the full schema, so what a failure reports does not change.
  bool has_formats = false;
  valijson::Schema parsed_without_formats;

  // A valijson Validator keeps the std::regex of every `pattern` it compiled; a fresh Validator per
  // validation compiled them all again each time (~6% of a submission's CPU under the lifecycle
  // bench). So each form lends out Validators it keeps: one thread at a time uses one, and the pool
  // grows to the number of validations that ever ran at once.
  class Lease {
   public:
    explicit Lease(const Compiled& form) : form_(form) {
      std::lock_guard lock(form_.validators_mu_);
      if (!form_.idle_validators_.empty()) {
        validator_ = std::move(form_.idle_validators_.back());
        form_.idle_validators_.pop_back();
      }
      if (!validator_) validator_ = std::make_unique<valijson::Validator>();
    }
    ~Lease() {
      std::lock_guard lock(form_.validators_mu_);
      form_.idle_validators_.push_back(std::move(validator_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    valijson::Validator& operator*() { return *validator_; }

   private:
    const Compiled& form_;
    std::unique_ptr<valijson::Validator> validator_;
  };

 private:
  mutable std::mutex validators_mu_;
  mutable std::vector<std::unique_ptr<valijson::Validator>> idle_validators_;
};

namespace {

// The supported subset of draft 7, as a schema for schemas: every node of a form schema must match
// `node`; unknown keywords (including $ref) are refused.
constexpr const char* kMetaSchema = R"({
  "definitions": {
    "node": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "$schema": {"type": "string"},
        "$comment": {"type": "string"},
        "title": {"type": "string", "maxLength": 300},
        "description": {"type": "string", "maxLength": 2000},
        "type": {"enum": ["object", "string", "number", "integer", "boolean", "array"]},
        "properties": {"type": "object", "additionalProperties": {"$ref": "#/definitions/node"}},
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
        "additionalProperties": {"type": "boolean"},
        "items": {"$ref": "#/definitions/node"},
        "enum": {"type": "array", "minItems": 1, "maxItems": 200, "uniqueItems": true,
                 "items": {"type": ["string", "number", "boolean"]}},
        "format": {"enum": ["date", "date-time", "time", "email"]},
        "pattern": {"type": "string", "maxLength": 200},
        "minLength": {"type": "integer", "minimum": 0},
        "maxLength": {"type": "integer", "minimum": 0},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "minItems": {"type": "integer", "minimum": 0},
        "maxItems": {"type": "integer", "minimum": 0},
        "uniqueItems": {"type": "boolean"},
        "default": {},
        "examples": {"type": "array"}
      }
    }
  },
  "$ref": "#/definitions/node"
})";

const std::vector<std::string> kApplicantFields = {"full_name", "personal_id", "tax_code", "phone", "email", "address"};
const std::vector<std::string> kDocumentParts = {"applicant", "form", "components"};

bool Contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string Join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

std::string JoinPath(const std::string& prefix, const std::vector<std::string>& path) {
  std::string out = prefix;
  for (const auto& p : path) out = Join(out, p);
  return out;
}

bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// An array index in a path ("0", "12").
bool IsIndex(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// The last quoted name of a valijson message ("... constraints: 'nickname'.").
std::string Quoted(const std::string& s) {
  auto b = s.rfind('\'');
  if (b == std::string::npos || b == 0) return "";
  auto a = s.rfind('\'', b - 1);
  if (a == std::string::npos) return "";
  return s.substr(a + 1, b - a - 1);
}

// The schema node describing `path` (properties by name, items by index), or nullptr.
template <typename J>
const J* NodeAt(const J* node, const std::vector<std::string>& path) {
  for (const auto& seg : path) {
    if (!node || !node->is_object()) return nullptr;
    if (node->contains("properties") && (*node)["properties"].is_object() && (*node)["properties"].contains(seg)) {
      node = &(*node)["properties"][seg];
    } else if (node->contains("items") && IsIndex(seg)) {
      node = &(*node)["items"];
    } else {
      return nullptr;
    }
  }
  return node;
}

std::string Number(double d) {
  if (d == static_cast<double>(static_cast<int64_t>(d))) return std::to_string(static_cast<int64_t>(d));
  return json(d).dump();
}

std::string TypeMessage(const std::string& type) {
  if (type == "string") return "must be text";
  if (type == "number") return "must be a number";
  if (type == "integer") return "must be a whole number";
  if (type == "boolean") return "must be true or false";
  if (type == "object") return "must be an object";
  if (type == "array") return "must be a list";
  return "has the wrong type";
}

std::string FormatMessage(const std::string& format) {
  if (format == "date-time") return "must be a date and time (RFC 3339, e.g. 2026-01-31T08:00:00+07:00)";
  if (format == "time") return "must be a time (hh:mm:ss with an offset, e.g. 08:00:00+07:00)";
  return "must be a date YYYY-MM-DD";
}

// A human message for one valijson error; `node` is the schema of the failing value when known.
std::string Message(const std::string& d, const ordered_json* node, bool meta) {
  auto get = [&](const char* k) -> const ordered_json* {
    return node && node->is_object() && node->contains(k) ? &(*node)[k] : nullptr;
  };
  if (StartsWith(d, "Missing required property")) return "is required";
  if (StartsWith(d, "Object contains a property that could not be validated")) {
    return meta ? "is not a supported schema keyword" : "is not a field of this form";
  }
  if (StartsWith(d, "Value type not permitted")) {
    const ordered_json* t = get("type");
    return t && t->is_string() ? TypeMessage(t->get<std::string>()) : "has the wrong type";
  }
  if (StartsWith(d, "String should be a valid")) {
    const ordered_json* f = get("format");
    return FormatMessage(f && f->is_string() ? f->get<std::string>() : "date");
  }
  if (StartsWith(d, "Failed to match against any enum values")) {
    const ordered_json* e = get("enum");
    if (e && e->is_array() && e->size() <= 8) {
      std::string list;
      for (const auto& v : *e) list += (list.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
      return "must be one of: " + list;
    }
    return "is not one of the allowed values";
  }
  if (StartsWith(d, "String should be no more than")) {
    const ordered_json* m = get("maxLength");
    return m ? "must be at most " + m->dump() + " characters" : "is too long";
  }
  if (StartsWith(d, "String should be no fewer than")) {
    const ordered_json* m = get("minLength");
    if (m && m->is_number() && m->get<double>() == 1) return "must not be empty";
    return m ? "must be at least " + m->dump() + " characters" : "is too short";
  }
  if (StartsWith(d, "Expected number less than")) {
    const ordered_json* m = get("maximum");
    return m && m->is_number() ? "must be at most " + Number(m->get<double>()) : "is too large";
  }
  if (StartsWith(d, "Expected number greater than")) {
    const ordered_json* m = get("minimum");
    return m && m->is_number() ? "must be at least " + Number(m->get<double>()) : "is too small";
  }
  if (StartsWith(d, "Array should contain no more than")) {
    const ordered_json* m = get("maxItems");
    return m ? "must list at most " + m->dump() + " items" : "lists too many items";
  }
  if (StartsWith(d, "Array should contain no fewer than")) {
    const ordered_json* m = get("minItems");
    return m ? "must list at least " + m->dump() + " items" : "lists too few items";
  }
  if (StartsWith(d, "Elements at indexes")) return "must not list the same item twice";
  if (StartsWith(d, "Failed to match regex")) return "is not in the expected format";
  return d;
}

// valijson reports a failure and then a "Failed to validate against ..." wrapper at each level up.
bool IsWrapper(const std::string& d) {
  return StartsWith(d, "Failed to validate against") || StartsWith(d, "Failed to validate item #");
}

// The position of `path` in the schema's own order: per level, the index among the properties (or
// the item number); unknown levels sort last.
std::vector<size_t> Rank(const ordered_json* node, const std::vector<std::string>& path) {
  std::vector<size_t> out;
  for (const auto& seg : path) {
    size_t rank = SIZE_MAX;
    const ordered_json* next = nullptr;
    if (node && node->is_object()) {
      auto props = node->find("properties");
      if (props != node->end() && props->is_object()) {
        size_t i = 0;
        for (auto it = props->begin(); it != props->end(); ++it, ++i) {
          if (it.key() == seg) {
            rank = i;
            next = &it.value();
            break;
          }
        }
      }
      auto items = node->find("items");
      if (!next && items != node->end() && IsIndex(seg)) {
        rank = std::stoul(seg);
        next = &*items;
      }
    }
    out.push_back(rank);
    node = next;
  }
  return out;
}

// The error to report from valijson's results. Against a form (`schema` given): the first failing
// value in the form's own order. Against the meta-schema: within the first chain of errors (a
// failure and its wrappers up to the root), the deepest. `prefix` starts every field.
Status Explain(const valijson::ValidationResults& results, const ordered_json* schema, const std::string& prefix,
               bool meta) {
  std::vector<std::string> best_path;
  std::vector<size_t> best_rank;
  std::string best_desc;
  bool found = false;
  for (const auto& e : results) {
    std::vector<std::string> path;
    for (size_t i = 1; i < e.context.size(); ++i) {
      const std::string& c = e.context[i];
      path.push_back(c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c);
    }
    if (StartsWith(e.description, "Missing required property") ||
        StartsWith(e.description, "Object contains a property that could not be validated")) {
      path.push_back(Quoted(e.description));
    }
    if (!meta) {
      if (IsWrapper(e.description)) continue;
      auto rank = Rank(schema, path);
      if (!found || rank < best_rank) {
        best_path = path;
        best_rank = rank;
        best_desc = e.description;
        found = true;
      }
      continue;
    }
    if (!found || path.size() > best_path.size()) {
      best_path = path;
      best_desc = e.description;
      found = true;
    }
    if (e.context.size() <= 1) break;  // the root: the end of the first chain
  }
  if (!found) return InvalidArgument("does not fit the procedure's form", prefix.empty() ? "form" : prefix);
  std::string field = JoinPath(prefix, best_path);
  if (field.empty()) field = "form";
  return InvalidArgument(Message(best_desc, meta ? nullptr : NodeAt(schema, best_path), meta), field);
}

Status CheckDepth(const ordered_json& v, const std::string& field, int depth) {
  if (depth > 32) return InvalidArgument("is nested too deeply", field);
  if (v.is_object()) {
    for (const auto& [k, x] : v.items()) TL_RETURN_IF_ERROR(CheckDepth(x, field, depth + 1));
  } else if (v.is_array()) {
    for (const auto& x : v) TL_RETURN_IF_ERROR(CheckDepth(x, field, depth + 1));
  }
  return Status::Ok();
}

// NFC-normalises every string value (names of properties are kept as they are), in order.
Result<ordered_json> Normalize(const ordered_json& v, const std::string& field) {
  if (v.is_string()) {
    TL_ASSIGN_OR_RETURN(std::string s, text::NormalizeNfc(v.get<std::string>(), field));
    return ordered_json(std::move(s));
  }
  if (v.is_object()) {
    ordered_json out = ordered_json::object();
    for (const auto& [k, x] : v.items()) {
      TL_ASSIGN_OR_RETURN(ordered_json n, Normalize(x, Join(field, k)));
      out[k] = std::move(n);
    }
    return out;
  }
  if (v.is_array()) {
    ordered_json out = ordered_json::array();
    for (size_t i = 0; i < v.size(); ++i) {
      TL_ASSIGN_OR_RETURN(ordered_json n, Normalize(v[i], Join(field, std::to_string(i))));
      out.push_back(std::move(n));
    }
    return out;
  }
  return v;
}

// Every `pattern` must compile as an ECMAScript regular expression (valijson uses std::regex).
Status CheckPatterns(const json& node, const std::string& field) {
  if (!node.is_object()) return Status::Ok();
  if (node.contains("pattern") && node["pattern"].is_string()) {
    try {
      std::regex re(node["pattern"].get<std::string>(), std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      return InvalidArgument("is not a valid regular expression", Join(field, "pattern"));
    }
  }
  if (node.contains("properties") && node["properties"].is_object()) {
    for (const auto& [k, x] : node["properties"].items()) {
      TL_RETURN_IF_ERROR(CheckPatterns(x, Join(Join(field, "properties"), k)));
    }
  }
  if (node.contains("items")) TL_RETURN_IF_ERROR(CheckPatterns(node["items"], Join(field, "items")));
  return Status::Ok();
}

// Text values longer than kMaxTextCodePoints, and documents nested beyond reason, are refused
// before validation.
Status CheckTexts(const json& v, const std::string& path, int depth) {
  if (depth > 16) return InvalidArgument("is nested too deeply", path.empty() ? "form" : path);
  if (v.is_string()) {
    if (text::CodePointCount(v.get_ref<const std::string&>()) > kMaxTextCodePoints) {
      return InvalidArgument("is too long (at most 2000 characters)", path);
    }
  } else if (v.is_object()) {
    for (const auto& [k, x] : v.items()) TL_RETURN_IF_ERROR(CheckTexts(x, Join(path, k), depth + 1));
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) TL_RETURN_IF_ERROR(CheckTexts(v[i], Join(path, std::to_string(i)), depth + 1));
  }
  return Status::Ok();
}

const Compiled& Meta() {
  static const std::shared_ptr<const Compiled> meta = [] {
    auto r = Compile(kMetaSchema);
    return r.ok() ? *r : nullptr;  // a constant; covered by the tests
  }();
  return *meta;
}

// Only what a submission holds can be described: applicant (its known fields), form, components.
Status CheckShape(const json& s, const std::string& field) {
  if (s.value("type", json()) != "object") {
    return InvalidArgument("must be \"object\": a form describes the submission {applicant, form, components}",
                           Join(field, "type"));
  }
  const json props = s.value("properties", json::object());
  for (const auto& [k, v] : props.items()) {
    if (!Contains(kDocumentParts, k)) {
      return InvalidArgument("is not part of a submission (applicant, form, components)", Join(field, "properties." + k));
    }
  }
  for (const auto& r : s.value("required", json::array())) {
    if (!Contains(kDocumentParts, r.get<std::string>())) {
      return InvalidArgument("names '" + r.get<std::string>() + "', not part of a submission", Join(field, "required"));
    }
  }
  auto expect_type = [&](const char* part, const char* type) -> Status {
    if (props.contains(part) && props[part].contains("type") && props[part]["type"] != type) {
      return InvalidArgument(std::string("must be \"") + type + "\"", Join(field, std::string("properties.") + part + ".type"));
    }
    return Status::Ok();
  };
  TL_RETURN_IF_ERROR(expect_type("applicant", "object"));
  TL_RETURN_IF_ERROR(expect_type("form", "object"));
  TL_RETURN_IF_ERROR(expect_type("components", "array"));
  if (props.contains("applicant")) {
    const json fields = props["applicant"].value("properties", json::object());
    for (const auto& [k, v] : fields.items()) {
      if (!Contains(kApplicantFields, k)) {
        return InvalidArgument("is not an applicant field (full_name, personal_id, tax_code, phone, email, address)",
                               Join(field, "properties.applicant.properties." + k));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

json DefaultSchema(const json& procedure) {
  json item = {{"type", "string"}, {"minLength", 1}, {"maxLength", 500}};
  std::vector<std::string> names;
  if (procedure.contains("components") && procedure["components"].is_array()) {
    for (const auto& c : procedure["components"]) {
      if (c.is_string()) names.push_back(c.get<std::string>());
    }
  }
  if (!names.empty()) item = {{"type", "string"}, {"enum", names}};
  return {{"$schema", "http://json-schema.org/draft-07/schema#"},
          {"title", "Tờ khai chung"},
          {"type", "object"},
          {"required", {"applicant"}},
          {"properties",
           {{"applicant",
             {{"type", "object"},
              {"title", "Người nộp hồ sơ"},
              {"required", {"full_name"}},
              {"properties",
               {{"full_name", {{"type", "string"}, {"title", "Họ, chữ đệm và tên"}, {"minLength", 1}, {"maxLength", 200}}},
                {"personal_id",
                 {{"type", "string"}, {"title", "Số định danh cá nhân"}, {"description", "Công dân: 12 chữ số trên thẻ căn cước"}}},
                {"tax_code", {{"type", "string"}, {"title", "Mã số thuế"}, {"description", "Tổ chức, hộ kinh doanh"}}},
                {"phone", {{"type", "string"}, {"title", "Số điện thoại"}}},
                {"email", {{"type", "string"}, {"title", "Thư điện tử"}, {"format", "email"}}},
                {"address", {{"type", "string"}, {"title", "Địa chỉ"}, {"maxLength", 500}}}}}}},
            {"form", {{"type", "object"}, {"title", "Nội dung tờ khai"}}},
            {"components",
             {{"type", "array"}, {"title", "Thành phần hồ sơ"}, {"items", item}, {"uniqueItems", true}, {"maxItems", 50}}}}}};
}

std::vector<std::string> ComponentNames(const ordered_json& schema) {
  std::vector<std::string> out;
  const ordered_json* n = NodeAt(&schema, {"components"});
  if (!n || !n->contains("items") || !(*n)["items"].is_object() || !(*n)["items"].contains("enum")) return out;
  for (const auto& v : (*n)["items"]["enum"]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

namespace {

bool IsCheckedFormat(const json& f) {
  return f.is_string() && (f == "date" || f == "time" || f == "date-time");
}

// The schema without its date, time and date-time formats; sets *found when there was one.
json WithoutFormats(const json& node, bool* found) {
  if (!node.is_object()) return node;
  json out = json::object();
  for (const auto& [k, v] : node.items()) {
    if (k == "format" && IsCheckedFormat(v)) {
      *found = true;
    } else if (k == "properties" && v.is_object()) {
      json props = json::object();
      for (const auto& [name, sub] : v.items()) props[name] = WithoutFormats(sub, found);
      out[k] = std::move(props);
    } else if (k == "items") {
      out[k] = WithoutFormats(v, found);
    } else {
      out[k] = v;
    }
  }
  return out;
}

// valijson's own checks of these formats (validation_visitor.hpp), with the expressions compiled once.
bool DayFitsMonth(int month, int day) {
  if (month == 2) return day >= 0 && day <= 29;
  int limit = 31;
  if (month <= 7) {
    if (month % 2 == 0) limit = 30;
  } else if (month % 2 != 0) {
    limit = 30;
  }
  return day >= 0 && day <= limit;
}

bool FormatHolds(const std::string& format, const std::string& s) {
  static const std::regex kDate("^([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$");
  static const std::regex kTime(
      "^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?(([Zz])|([\\+|\\-]([01][0-9]|2[0-3]):[0-5][0-9]))$");
  static const std::regex kDateTime(
      "^([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?"
      "(([Zz])|([\\+|\\-]([01][0-9]|2[0-3]):[0-5][0-9]))$");
  std::smatch m;
  if (format == "time") return std::regex_match(s, kTime);
  if (!std::regex_match(s, m, format == "date" ? kDate : kDateTime)) return false;
  return DayFitsMonth(std::stoi(m[2].str()), std::stoi(m[3].str()));
}

// True when every value under a checked format is a string that passes it. False sends the
// document to the full schema, which then reports whatever is wrong.
bool FormatsHold(const json& node, const json& doc) {
  if (!node.is_object()) return true;
  if (auto f = node.find("format"); f != node.end() && IsCheckedFormat(*f)) {
    if (!doc.is_string() || !FormatHolds(f->get<std::string>(), doc.get_ref<const std::string&>())) return false;
  }
  if (auto props = node.find("properties"); props != node.end() && props->is_object() && doc.is_object()) {
    for (const auto& [name, sub] : props->items()) {
      auto v = doc.find(name);
      if (v != doc.end() && !FormatsHold(sub, *v)) return false;
    }
  }
  if (auto items = node.find("items"); items != node.end() && doc.is_array()) {
    for (const auto& v : doc) {
      if (!FormatsHold(*items, v)) return false;
    }
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const Compiled>> Compile(const std::string& schema_text) {
  auto c = std::make_shared<Compiled>();
  c->schema = json::parse(schema_text, nullptr, false);
  c->ordered = ordered_json::parse(schema_text, nullptr, false);
  c->text = schema_text;
  if (c->schema.is_discarded() || c->ordered.is_discarded()) return InvalidArgument("is not JSON", "form_schema");
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(c->schema);
    parser.populateSchema(adapter, c->parsed);
    const json without = WithoutFormats(c->schema, &c->has_formats);
    if (c->has_formats) {
      valijson::adapters::NlohmannJsonAdapter adapter_without(without);
      parser.populateSchema(adapter_without, c->parsed_without_formats);
    }
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("is not a JSON Schema this server can use: ") + e.what(), "form_schema");
  }
  return std::shared_ptr<const Compiled>(std::move(c));
}

const std::string& SchemaText(const Compiled& form) { return form.text; }

Result<ordered_json> CheckSchema(const ordered_json& schema, const std::string& field) {
  if (!schema.is_object()) return InvalidArgument("must be a JSON Schema (an object)", field);
  if (schema.dump().size() > kMaxSchemaBytes) return InvalidArgument("is larger than 64 KiB", field);
  TL_RETURN_IF_ERROR(CheckDepth(schema, field, 0));
  TL_ASSIGN_OR_RETURN(ordered_json normalized, Normalize(schema, field));
  const json s = json::parse(normalized.dump());
  {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(s);
    bool ok = false;
    try {
      ok = validator.validate(Meta().parsed, target, &results);
    } catch (const std::exception& e) {
      return InvalidArgument(std::string("cannot be checked: ") + e.what(), field);
    }
    if (!ok) return Explain(results, nullptr, field, true);
  }
  TL_RETURN_IF_ERROR(CheckShape(s, field));
  TL_RETURN_IF_ERROR(CheckPatterns(s, field));
  auto compiled = Compile(normalized.dump());
  if (!compiled.ok()) return InvalidArgument(compiled.status().message(), field);
  if (s.contains("examples")) {
    for (size_t i = 0; i < s["examples"].size(); ++i) {
      Status st = Validate(**compiled, s["examples"][i]);
      if (!st.ok()) {
        return InvalidArgument("does not fit the schema: " + st.field() + " " + st.message(),
                               Join(field, "examples." + std::to_string(i)));
      }
    }
  }
  return normalized;
}

Status Validate(const Compiled& form, const json& document) {
  TL_RETURN_IF_ERROR(CheckTexts(document, "", 0));
  Compiled::Lease validator(form);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(document);
  bool ok = false;
  try {
    const bool formats_hold = form.has_formats && FormatsHold(form.schema, document);
    ok = (*validator).validate(formats_hold ? form.parsed_without_formats : form.parsed, target, &results);
  } catch (const std::exception& e) {
    return InvalidArgument("cannot be checked against the procedure's form", "form");
  }
  if (ok) return Status::Ok();
  return Explain(results, &form.ordered, "", false);
}

std::shared_ptr<const Compiled> Cache::Find(const std::string& code, int64_t version) const {
  std::lock_guard lock(mu_);
  auto it = map_.find({code, version});
  return it == map_.end() ? nullptr : it->second;
}

void Cache::Put(const std::string& code, int64_t version, std::shared_ptr<const Compiled> form) {
  std::lock_guard lock(mu_);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_[{code, version}] = std::move(form);
}

}  // namespace tl::procedures::forms
