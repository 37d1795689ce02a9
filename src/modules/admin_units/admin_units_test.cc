#include "modules/admin_units/admin_units.h"

#include <gtest/gtest.h>

#include "tests/support/scratch_store.h"

namespace tl::admin_units {
namespace {

class AdminUnitsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, AdminUnitService::Migrations()).ok());
    svc_ = std::make_unique<AdminUnitService>(db_.get());
    auto r = svc_->Import(testing::DataRoot() + "/admin-units/merges-20250701.json",
                          testing::DataRoot() + "/agencies/hanoi-city-agencies.csv");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    report_ = *r;
  }
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<AdminUnitService> svc_;
  ImportReport report_;
};

TEST_P(AdminUnitsTest, ImportsTheWholeCountryIdempotently) {
  EXPECT_EQ(report_.provinces, 34);
  EXPECT_EQ(report_.communes, 3321);
  EXPECT_GT(report_.predecessors, 10000);
  auto again = svc_->Import(testing::DataRoot() + "/admin-units/merges-20250701.json",
                            testing::DataRoot() + "/agencies/hanoi-city-agencies.csv");
  ASSERT_TRUE(again.ok());
  auto provinces = svc_->List(std::nullopt);
  ASSERT_TRUE(provinces.ok());
  EXPECT_EQ(provinces->size(), 34u);
  EXPECT_EQ((*provinces)[0].name, "Thành phố Hà Nội");
  EXPECT_EQ((*provinces)[0].kind, "thành phố");
}

TEST_P(AdminUnitsTest, ResolvesOldNamesIncludingPartialMerges) {
  auto r = svc_->Resolve("Phường Kim Mã", std::string("01"));
  ASSERT_TRUE(r.ok());
  // Kim Mã was split between several new wards: every one is offered.
  ASSERT_GE(r->size(), 2u);
  for (const auto& m : *r) {
    ASSERT_TRUE(m.via.has_value());
    EXPECT_EQ(m.via->name, "Phường Kim Mã");
    EXPECT_EQ(m.unit.parent_code, "01");
  }
  auto bad = svc_->Resolve("   ", std::nullopt);
  EXPECT_FALSE(bad.ok());
}

TEST_P(AdminUnitsTest, JurisdictionOfAgencies) {
  ASSERT_TRUE(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto ward, svc_->JurisdictionOf(s, "UBND00004"));
    EXPECT_EQ(ward.agencies, std::vector<std::string>{"UBND00004"});
    EXPECT_EQ(ward.units, std::vector<std::string>{"00004"});
    EXPECT_FALSE(ward.city_wide);
    TL_ASSIGN_OR_RETURN(auto city, svc_->JurisdictionOf(s, "UBND01"));
    EXPECT_TRUE(city.city_wide);
    EXPECT_EQ(city.agencies.size(), 144u);
    EXPECT_EQ(city.units.size(), 127u);  // the city and its 126 communes
    auto missing = svc_->JurisdictionOf(s, "NOPE");
    EXPECT_FALSE(missing.ok());
    return Status::Ok();
  }).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminUnitsTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

TEST(KindFromNameTest, ReadsTheKindPrefix) {
  EXPECT_EQ(KindFromName("Phường Ba Đình"), "phường");
  EXPECT_EQ(KindFromName("Xã Sóc Sơn"), "xã");
  EXPECT_EQ(KindFromName("Đặc khu Phú Quốc"), "đặc khu");
  EXPECT_EQ(KindFromName("Thành phố Hà Nội"), "thành phố");
  EXPECT_EQ(KindFromName("Tỉnh Cao Bằng"), "tỉnh");
}

}  // namespace
}  // namespace tl::admin_units
