#include "core/personal_id.h"

#include <gtest/gtest.h>

namespace tl {
namespace {

TEST(PersonalIdTest, AcceptsWellFormedNumbers) {
  auto r = ValidatePersonalId("001090012345", 2026);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->province_code, "001");
  EXPECT_EQ(r->birth_year, 1990);
  EXPECT_FALSE(r->female);
  auto f = ValidatePersonalId("079305000001", 2026);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->birth_year, 2005);
  EXPECT_TRUE(f->female);
}

TEST(PersonalIdTest, RejectsMalformedNumbers) {
  for (const char* bad : {"", "00109001234", "0010900123456", "00109001234a", "003090012345" /* no province 003 */,
                          "001230012345" /* born 2030 */, "000090012345"}) {
    auto r = ValidatePersonalId(bad, 2026);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().field(), "personal_id");
    }
  }
}

TEST(PersonalIdTest, ValidatesTaxCodesAndPhones) {
  EXPECT_TRUE(ValidateTaxCode("0101234567").ok());
  EXPECT_TRUE(ValidateTaxCode("0101234567-001").ok());
  EXPECT_FALSE(ValidateTaxCode("01012345").ok());
  EXPECT_TRUE(ValidatePhone("0912345678").ok());
  EXPECT_TRUE(ValidatePhone("+84912345678").ok());
  EXPECT_FALSE(ValidatePhone("912345678").ok());
}

TEST(PersonalIdTest, ValueIsTheTwelveDigitsAsANumber) {
  EXPECT_EQ(PersonalIdValue("001090012345"), 1090012345);
  EXPECT_FALSE(PersonalIdValue("01090012345").has_value());
  EXPECT_FALSE(PersonalIdValue("00109001234x").has_value());
  EXPECT_FALSE(PersonalIdValue("").has_value());
}

}  // namespace
}  // namespace tl
