// Procedure forms (tờ khai): the JSON Schema each procedure version carries for its application
// form, the generic default, the checks a stored schema must pass, and validation of a submission
// with a message naming the failing field. Internal to the procedures module: other modules call
// ProcedureService::ValidateForm.
//
// A form schema describes the submission document the one-stop shop builds from a dossier:
//   {"applicant": {full_name, personal_id, tax_code, phone, email, address},
//    "form": {... the procedure's own fields ...},
//    "components": ["names of the documents handed in", ...]}
// in the subset of JSON Schema draft 7 that the web front end renders: type (object, string,
// number, integer, boolean, array), title, description, properties, required, additionalProperties
// (boolean), items, enum, format (date, date-time, time, email), pattern, minLength/maxLength,
// minimum/maximum, minItems/maxItems, uniqueItems, default, examples, $schema, $comment. No $ref.
// Validation uses valijson (Debian's libvalijson-dev) over nlohmann::json.
//
// Thread-safety: Compiled is immutable once built (it lends out its validators under a lock) and may be
// shared; Cache is internally locked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace tl::procedures::forms {

// A stored schema is at most this many bytes (serialised).
inline constexpr size_t kMaxSchemaBytes = 64 * 1024;
// Each text value of a submission is at most this many code points (bounds the cost of `pattern`).
inline constexpr long kMaxTextCodePoints = 2000;

// The generic form every procedure has unless it stores its own: the applicant (full name
// required; personal ID or tax code, phone, e-mail, address), a free `form` object, and the
// components: the names the procedure lists (its `components`) as an enum, or any names.
nlohmann::json DefaultSchema(const nlohmann::json& procedure);

// Checks a schema supplied by an admin or a data file: an object of at most kMaxSchemaBytes, within
// the supported subset (unknown keywords refused), a root of type object whose properties are only
// applicant/form/components, patterns that compile, examples that validate. Returns it with its
// text NFC-normalised, its members in the order given (the order the form shows its fields in).
// Errors name `field` plus the path inside the schema.
Result<nlohmann::ordered_json> CheckSchema(const nlohmann::ordered_json& schema, const std::string& field);

// The `components` enum of a schema (properties.components.items.enum), or empty.
std::vector<std::string> ComponentNames(const nlohmann::ordered_json& schema);

class Compiled;
// Parses a schema text (assumed checked) for validation.
Result<std::shared_ptr<const Compiled>> Compile(const std::string& schema_text);
// The schema text a Compiled was built from.
const std::string& SchemaText(const Compiled& form);

// Validates a submission document; on failure InvalidArgument whose field is the dotted path of the
// first failing value in the schema's order (`form.child.date_of_birth`, `components.1`) and whose
// message says what is wrong ("is required", "must be a date YYYY-MM-DD", "must be one of: Nam, Nữ").
Status Validate(const Compiled& form, const nlohmann::json& document);

// Compiled forms by (procedure code, version): a version's form never changes once stored.
class Cache {
 public:
  std::shared_ptr<const Compiled> Find(const std::string& code, int64_t version) const;
  void Put(const std::string& code, int64_t version, std::shared_ptr<const Compiled> form);

 private:
  static constexpr size_t kMaxEntries = 4096;  // the catalogue is ~1,600 procedures
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<const Compiled>> map_;
};

}  // namespace tl::procedures::forms
