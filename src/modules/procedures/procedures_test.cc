#include "modules/procedures/procedures.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/scratch_store.h"

namespace tl::procedures {
namespace {

class ProceduresTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto m = audit::AuditLog::Migrations();
    auto p = ProcedureService::Migrations();
    m.insert(m.end(), p.begin(), p.end());
    ASSERT_TRUE(storage::ApplyMigrations(*db_, m).ok());
    audit_ = std::make_unique<audit::AuditLog>(db_.get(), &clock_);
    svc_ = std::make_unique<ProcedureService>(db_.get(), &clock_, audit_.get());
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<ProcedureService> svc_;
};

TEST_P(ProceduresTest, ImportsAllProceduresAndReimportsIdempotently) {
  auto r = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->read, 1601);
  EXPECT_EQ(r->created, 1601);
  auto again = svc_->Import(testing::DataRoot() + "/procedures/tthc-province-commune.json", "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1601);
  auto doc = svc_->GetJson("1.000253", std::nullopt);
  ASSERT_TRUE(doc.ok());
  auto j = nlohmann::json::parse(*doc);
  EXPECT_EQ(j["sector"], "Quản lý xuất nhập cảnh");
  EXPECT_EQ(j["processing"][0]["channel"], "in_person");
  EXPECT_EQ(j["processing"][0]["duration"], 7.0);
  // No-break spaces of the source are normalised away.
  auto kb = nlohmann::json::parse(*svc_->GetJson("1.000110", std::nullopt));
  EXPECT_EQ(kb["competent_agency"].get<std::string>().find("\xC2\xA0"), std::string::npos);
}

TEST_P(ProceduresTest, RejectsABrokenSourceFileWithoutWritingAnything) {
  auto r = svc_->Import(testing::DataRoot() + "/admin-units/provinces-2025.csv", "test");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(*svc_->IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ProceduresTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::procedures
