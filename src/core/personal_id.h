// Vietnam's 12-digit personal identification number (số định danh cá nhân).
//
// Layout (Circular 59/2021/TT-BCA): 3 digits for the province where the birth was registered (the
// pre-2025 province codes, e.g. 001 Hà Nội, 079 Hồ Chí Minh City), 1 digit for century and sex
// (0/1 male/female born 1900–1999, 2/3 born 2000–2099, 4/5 2100–2199, ...), 2 digits for the last two
// digits of the birth year, and 6 digits. ValidatePersonalId checks all of this, and that the birth
// year is not after `current_year`.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tl {

struct PersonalIdInfo {
  std::string province_code;  // "001"
  int birth_year = 0;
  bool female = false;
};

Result<PersonalIdInfo> ValidatePersonalId(std::string_view id, int current_year,
                                          std::string_view field = "personal_id");

// The number of 12 digits as an integer (how the population registry keys people); nullopt for
// anything else. Layout is not checked: use ValidatePersonalId for input.
std::optional<int64_t> PersonalIdValue(std::string_view id);

// Vietnamese tax code (mã số thuế): 10 digits, or 10 digits, '-', 3 digits for a branch.
Status ValidateTaxCode(std::string_view code, std::string_view field = "tax_code");

// Vietnamese phone number: 10 digits starting with 0, or +84 followed by 9 digits.
Status ValidatePhone(std::string_view phone, std::string_view field = "phone");

}  // namespace tl
