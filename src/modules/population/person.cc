#include "modules/population/person.h"

#include <cstdio>

#include "core/civil_date.h"
#include "core/personal_id.h"
#include "core/text.h"

namespace tl::population {

std::string FormatPersonalId(int64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(id));
  return buf;
}

Result<int64_t> ParsePersonalId(std::string_view text, int current_year, std::string_view field) {
  TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(text, current_year, field));
  (void)info;
  return *PersonalIdValue(text);
}

const char* SexName(Sex s) { return s == Sex::kFemale ? "female" : "male"; }
const char* LifeStatusName(LifeStatus s) { return s == LifeStatus::kDeceased ? "deceased" : "living"; }

Status Validate(const Person& p, int current_year, std::string_view today_iso) {
  std::string id = FormatPersonalId(p.personal_id);
  if (p.personal_id <= 0 || id.size() != 12) return InvalidArgument("must be a 12-digit number", "personal_id");
  TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(id, current_year, "personal_id"));
  if (p.full_name.empty() || text::Trim(p.full_name).size() != p.full_name.size()) {
    return InvalidArgument("is required, without leading or trailing spaces", "full_name");
  }
  if (text::CodePointCount(p.full_name) > 200) return InvalidArgument("is longer than 200 characters", "full_name");
  TL_ASSIGN_OR_RETURN(auto nfc, text::NormalizeNfc(p.full_name, "full_name"));
  if (nfc != p.full_name) return InvalidArgument("must be in Unicode NFC form", "full_name");
  TL_ASSIGN_OR_RETURN(auto born, ParseCivilDate(p.birth_date, "birth_date"));
  if (p.birth_date > today_iso) return InvalidArgument("is in the future", "birth_date");
  if (born.year != info.birth_year) {
    return InvalidArgument("the birth year " + std::to_string(born.year) + " does not match the personal id's (" +
                               std::to_string(info.birth_year) + ")",
                           "birth_date");
  }
  if ((p.sex == Sex::kFemale) != info.female) {
    return InvalidArgument("does not match the personal id's century/sex digit", "sex");
  }
  for (auto [rel, name] : {std::pair{p.father_id, "father_id"}, {p.mother_id, "mother_id"}, {p.spouse_id, "spouse_id"}}) {
    if (rel && *rel == p.personal_id) return InvalidArgument("cannot be the person themselves", name);
  }
  if (p.died_on) {
    if (p.status != LifeStatus::kDeceased) return InvalidArgument("is only for a deceased person", "died_on");
    TL_ASSIGN_OR_RETURN(auto died, ParseCivilDate(*p.died_on, "died_on"));
    (void)died;
    if (*p.died_on < p.birth_date || *p.died_on > today_iso) {
      return InvalidArgument("must be between the birth date and today", "died_on");
    }
  }
  for (auto [unit, name] : {std::pair{&p.permanent_unit, "permanent_unit"}, {&p.temporary_unit, "temporary_unit"}}) {
    if (unit->has_value() && (unit->value().empty() || unit->value().size() > 10)) {
      return InvalidArgument("must be a commune code such as 00004", name);
    }
  }
  if (p.household_role) {
    const std::string& r = *p.household_role;
    if (r != "head" && r != "spouse" && r != "child" && r != "parent" && r != "other") {
      return InvalidArgument("must be one of head, spouse, child, parent, other", "household_role");
    }
  }
  return Status::Ok();
}

Status Validate(const Organisation& o, int current_year) {
  TL_RETURN_IF_ERROR(ValidateTaxCode(o.tax_code, "tax_code"));
  auto text_field = [](const std::string& v, const char* field, long max_chars, bool required) -> Status {
    if (v.empty()) return required ? InvalidArgument("is required", field) : Status::Ok();
    if (!text::IsValidUtf8(v)) return InvalidArgument("is not valid UTF-8", field);
    if (text::Trim(v).size() != v.size()) return InvalidArgument("must not start or end with spaces", field);
    if (text::CodePointCount(v) > max_chars) {
      return InvalidArgument("is longer than " + std::to_string(max_chars) + " characters", field);
    }
    TL_ASSIGN_OR_RETURN(auto nfc, text::NormalizeNfc(v, field));
    if (nfc != v) return InvalidArgument("must be in Unicode NFC form", field);
    return Status::Ok();
  };
  TL_RETURN_IF_ERROR(text_field(o.name, "name", 300, true));
  if (o.representative_id) {
    std::string id = FormatPersonalId(*o.representative_id);
    if (*o.representative_id <= 0 || id.size() != 12) return InvalidArgument("must be a 12-digit number", "representative_id");
    TL_ASSIGN_OR_RETURN(auto info, ValidatePersonalId(id, current_year, "representative_id"));
    (void)info;
  }
  TL_RETURN_IF_ERROR(text_field(o.representative_name, "representative_name", 200, false));
  TL_RETURN_IF_ERROR(text_field(o.address, "address", 500, true));
  if (o.unit_code && (o.unit_code->empty() || o.unit_code->size() > 10)) {
    return InvalidArgument("must be a commune code such as 00004", "unit_code");
  }
  if (o.status != "active" && o.status != "suspended" && o.status != "dissolved") {
    return InvalidArgument("must be active, suspended or dissolved", "status");
  }
  return Status::Ok();
}

}  // namespace tl::population
