#include "modules/population/person.h"

#include <gtest/gtest.h>

namespace tl::population {
namespace {

Person Valid() {
  Person p;
  p.personal_id = 1087000001;  // 001 0 87 000001: Hà Nội, male, born 1987
  p.full_name = "Nguyễn Văn An";
  p.birth_date = "1987-05-14";
  p.sex = Sex::kMale;
  p.birth_place = "00004";
  return p;
}

TEST(PersonTest, FormatsAndParsesTwelveDigitNumbersWithLeadingZeros) {
  EXPECT_EQ(FormatPersonalId(1087000001), "001087000001");
  auto id = ParsePersonalId("001087000001", 2026);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 1087000001);
  EXPECT_FALSE(ParsePersonalId("00108700000", 2026).ok());
  EXPECT_FALSE(ParsePersonalId("00108700000x", 2026).ok());
  EXPECT_EQ(ParsePersonalId("001287000001", 2026).status().field(), "personal_id");  // born 2087: future
}

TEST(PersonTest, AcceptsAConsistentPerson) { EXPECT_TRUE(Validate(Valid(), 2026, "2026-11-22").ok()) << Validate(Valid(), 2026, "2026-11-22").message(); }

TEST(PersonTest, NamesTheFieldThatDisagreesWithTheNumber) {
  Person p = Valid();
  p.birth_date = "1988-05-14";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "birth_date");
  p = Valid();
  p.sex = Sex::kFemale;
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "sex");
  p = Valid();
  p.full_name = "Nguyen\xCC\x81 An";  // a combining accent: not NFC... and not how names are stored
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "full_name");
  p = Valid();
  p.full_name = " Nguyễn Văn An";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "full_name");
  p = Valid();
  p.father_id = p.personal_id;
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "father_id");
  p = Valid();
  p.died_on = "2020-01-01";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "died_on");  // not deceased
  p.status = LifeStatus::kDeceased;
  EXPECT_TRUE(Validate(p, 2026, "2026-11-22").ok());
  p.died_on = "1980-01-01";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "died_on");  // before birth
  p = Valid();
  p.birth_date = "1987-02-30";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "birth_date");
  p = Valid();
  p.household_role = "boss";
  EXPECT_EQ(Validate(p, 2026, "2026-11-22").field(), "household_role");
}

}  // namespace
}  // namespace tl::population
