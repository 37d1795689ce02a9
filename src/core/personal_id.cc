#include "core/personal_id.h"

#include <algorithm>
#include <array>

namespace tl {
namespace {
// Province codes in force before 1 July 2025; birth registrations keep them in ID numbers.
constexpr std::array<int, 63> kProvinceCodes = {
    1,  2,  4,  6,  8,  10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33,
    34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66,
    67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

Result<PersonalIdInfo> ValidatePersonalId(std::string_view id, int current_year, std::string_view field) {
  std::string f(field);
  if (id.size() != 12 || !AllDigits(id)) {
    return InvalidArgument("a personal identification number has exactly 12 digits", f);
  }
  int province = (id[0] - '0') * 100 + (id[1] - '0') * 10 + (id[2] - '0');
  if (std::find(kProvinceCodes.begin(), kProvinceCodes.end(), province) == kProvinceCodes.end()) {
    return InvalidArgument("the first 3 digits are not a province code of birth registration", f);
  }
  int century_sex = id[3] - '0';
  int year = 1900 + (century_sex / 2) * 100 + (id[4] - '0') * 10 + (id[5] - '0');
  if (year > current_year) {
    return InvalidArgument("the century/sex digit and birth year give a birth year in the future", f);
  }
  PersonalIdInfo info;
  info.province_code = std::string(id.substr(0, 3));
  info.birth_year = year;
  info.female = century_sex % 2 == 1;
  return info;
}

Status ValidateTaxCode(std::string_view code, std::string_view field) {
  bool ok = (code.size() == 10 && AllDigits(code)) ||
            (code.size() == 14 && AllDigits(code.substr(0, 10)) && code[10] == '-' && AllDigits(code.substr(11)));
  if (!ok) return InvalidArgument("a tax code has 10 digits, or 10 digits, '-' and 3 digits", std::string(field));
  return Status::Ok();
}

Status ValidatePhone(std::string_view phone, std::string_view field) {
  bool ok = (phone.size() == 10 && phone[0] == '0' && AllDigits(phone)) ||
            (phone.size() == 12 && phone.substr(0, 3) == "+84" && AllDigits(phone.substr(3)));
  if (!ok) return InvalidArgument("a phone number has 10 digits starting with 0, or +84 and 9 digits", std::string(field));
  return Status::Ok();
}

std::optional<int64_t> PersonalIdValue(std::string_view id) {
  if (id.size() != 12) return std::nullopt;
  int64_t v = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace tl
