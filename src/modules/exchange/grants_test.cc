#include "modules/exchange/grants.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/scratch_store.h"

namespace tl::exchange {
namespace {

class GrantsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto migrations = audit::AuditLog::Migrations();
    for (auto& m : Grants::Migrations()) migrations.push_back(m);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, migrations).ok());
    ASSERT_TRUE(db_->Write([](storage::Session& s) {
                      return s.ExecScript("CREATE TABLE agencies (code TEXT PRIMARY KEY);"
                                          "INSERT INTO agencies (code) VALUES ('UBND00004'), ('STP01')");
                    }).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    grants_ = std::make_unique<Grants>(db_.get(), &clock_, audit_.get());
    ASSERT_TRUE(grants_->Publish({"registry.person", "CATP01", "Thông tin công dân", {"basic", "residence"}}).ok());
  }
  // The check as the registry makes it: inside a read transaction.
  Result<std::set<std::string>> Check(const std::string& agency, const std::string& service) {
    Result<std::set<std::string>> out = std::set<std::string>();
    Status st = db_->Read([&](storage::Session& s) -> Status {
      out = grants_->Check(s, agency, service);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<Grants> grants_;
};

TEST_P(GrantsTest, DenyByDefaultThenTheUnionOfLiveGrants) {
  EXPECT_EQ(Check("UBND00004", "registry.person").status().code(), StatusCode::kPermissionDenied);
  NewGrant g{"UBND00004", "registry.person", {"basic"}, "Luật Căn cước 2023", "Thủ tục hành chính", 1795000000000 + 1000};
  ASSERT_TRUE(grants_->Create(g, {"admin", "", "", "", "", ""}).ok());
  g.fields = {"residence"};
  g.expires_at_ms += 1000;
  ASSERT_TRUE(grants_->Create(g, {"admin", "", "", "", "", ""}).ok());
  auto both = Check("UBND00004", "registry.person");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, (std::set<std::string>{"basic", "residence"}));
  EXPECT_EQ(Check("STP01", "registry.person").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Check("UBND00004", "registry.other").status().code(), StatusCode::kPermissionDenied);
  clock_.Advance(1001);
  EXPECT_EQ(*Check("UBND00004", "registry.person"), (std::set<std::string>{"residence"}));
  clock_.Advance(1000);
  EXPECT_FALSE(Check("UBND00004", "registry.person").ok());
  auto list = grants_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["items"].size(), 2u);
  EXPECT_FALSE((*list)["items"][0]["active"].get<bool>());
}

TEST_P(GrantsTest, AGrantNamesItsLegalBasisPurposeAndKnownFields) {
  NewGrant g{"UBND00004", "registry.person", {"basic"}, "Luật", "Thủ tục hành chính", 1795000000000 + 1000};
  EXPECT_EQ(grants_->Create(g, {"admin", "", "", "", "", ""}).status().field(), "legal_basis");
  g.legal_basis = "Luật Căn cước 2023";
  g.purpose = "";
  EXPECT_EQ(grants_->Create(g, {"admin", "", "", "", "", ""}).status().field(), "purpose");
  g.purpose = "Thủ tục hành chính";
  g.service = "registry.nothing";
  EXPECT_EQ(grants_->Create(g, {"admin", "", "", "", "", ""}).status().field(), "service");
  g.service = "registry.person";
  g.fields = {};
  EXPECT_EQ(grants_->Create(g, {"admin", "", "", "", "", ""}).status().field(), "fields");
  auto services = grants_->Services();
  ASSERT_TRUE(services.ok());
  EXPECT_EQ((*services)["items"][0]["fields"].size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GrantsTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::exchange
