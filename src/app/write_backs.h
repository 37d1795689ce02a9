// Which procedures' results write back into the population registry (see ResultsToRegistryAndWallet in
// application.cc and docs/architecture.md, "Document wallet and signatures"). Birth, marriage and
// permanent residence change only people already in the registry and skip the others; a death
// registration must name a living person of the registry, or its result is refused.
//
// Thread-safety: constants.
#pragma once

#include <array>
#include <string_view>

namespace tl::app {

inline constexpr std::string_view kBirthRegistration = "1.001193";      // đăng ký khai sinh
inline constexpr std::string_view kMarriageRegistration = "1.000894";   // đăng ký kết hôn
inline constexpr std::string_view kPermanentResidence = "1.004222";     // đăng ký thường trú
// Đăng ký khai tử (1.000656) and its mobile variant (lưu động, 1.000419): one form
// (data/procedures/forms/1.000656-dang-ky-khai-tu.json). Re-registration (đăng ký lại khai tử) and
// deaths with a foreign element are not written back.
inline constexpr std::array<std::string_view, 2> kDeathRegistration = {"1.000656", "1.000419"};

inline bool IsDeathRegistration(std::string_view procedure_code) {
  for (auto c : kDeathRegistration) {
    if (c == procedure_code) return true;
  }
  return false;
}

}  // namespace tl::app
