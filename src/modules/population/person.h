// The population registry's record of a person (công dân) and of an organisation (tổ chức), and
// their validation.
//
// A person is keyed by the 12-digit personal identification number (số định danh cá nhân), which
// the registry stores as a 64-bit integer (leading zeros restored by FormatPersonalId). Names are NFC
// text; dates are ISO "YYYY-MM-DD"; residence is the current commune code (level-2 unit after the
// 2025 reform, e.g. "00004" Phường Ba Đình) plus a free-text address. Relations point at other
// people's numbers; a household groups people under one head (chủ hộ).
//
// An organisation is keyed by its tax code (mã số thuế); its legal representative may be a person of
// the registry (representative_id) or only a name.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::population {

enum class Sex { kMale, kFemale };
enum class LifeStatus { kLiving, kDeceased };

struct Person {
  int64_t personal_id = 0;
  std::string full_name;       // "Nguyễn Văn An" (family name, middle name(s), given name)
  std::string birth_date;      // "1987-05-14"
  Sex sex = Sex::kMale;
  std::string birth_place;     // commune code of the birth registration, or free text
  std::optional<std::string> permanent_unit;     // thường trú: commune code
  std::optional<std::string> permanent_address;  // "số 12 phố Quán Thánh"
  std::optional<std::string> temporary_unit;     // tạm trú: commune code
  std::optional<std::string> temporary_address;
  std::optional<int64_t> household_id;  // sổ hộ khẩu điện tử: the head's personal id
  std::optional<std::string> household_role;  // "head" | "spouse" | "child" | "parent" | "other"
  std::optional<int64_t> father_id;
  std::optional<int64_t> mother_id;
  std::optional<int64_t> spouse_id;
  LifeStatus status = LifeStatus::kLiving;
  std::optional<std::string> died_on;
};

struct Organisation {
  std::string tax_code;  // mã số thuế: 10 digits, or 10-3 for a branch
  std::string name;
  std::optional<int64_t> representative_id;  // legal representative's personal id
  std::string representative_name;
  std::string address;
  std::optional<std::string> unit_code;
  std::string status = "active";  // active | suspended | dissolved
};

std::string FormatPersonalId(int64_t id);  // 12 digits with leading zeros
// Parses and validates a 12-digit number (layout and birth year; see core/personal_id.h).
Result<int64_t> ParsePersonalId(std::string_view text, int current_year, std::string_view field = "personal_id");

const char* SexName(Sex s);              // "male" | "female"
const char* LifeStatusName(LifeStatus s);  // "living" | "deceased"

// Checks a person's fields: a valid number whose century/sex digit and birth year agree with
// birth_date and sex, a non-empty NFC name of at most 200 characters, a valid date not in the future,
// no relation to itself, died_on only for the deceased. Names the first bad field.
Status Validate(const Person& p, int current_year, std::string_view today_iso);

// Checks an organisation's fields: a valid tax code, a non-empty NFC name of at most 300 characters
// without leading or trailing spaces, a valid representative_id (layout and birth year up to
// `current_year`) when given, a representative_name of at most 200 and an address of 1-500
// characters, a commune code of at most 10 characters when given, and a status of active,
// suspended or dissolved. Names the first bad field.
Status Validate(const Organisation& o, int current_year);

}  // namespace tl::population
