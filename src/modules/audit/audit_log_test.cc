#include "modules/audit/audit_log.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/scratch_store.h"

namespace tl::audit {
namespace {

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, AuditLog::Migrations()).ok());
    log_ = std::make_unique<AuditLog>(db_.get(), &clock_);
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogTest, ChainsEntriesAndVerifies) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(log_->AppendStandalone({"alice", "read", "/api/v1/users/" + std::to_string(i), "10.0.0.1", "r" + std::to_string(i), ""}).ok());
  }
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact);
  EXPECT_EQ(report->entries, 20);
  auto newest = log_->List(0, 5);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 5u);
  EXPECT_EQ((*newest)[0].seq, 20);
  EXPECT_EQ((*newest)[0].resource, "/api/v1/users/19");
}

TEST_P(AuditLogTest, AnEntryWrittenInARolledBackTransactionDisappearsWithIt) {
  Status st = db_->Write([&](storage::Session& s) -> Status {
    TL_RETURN_IF_ERROR(log_->Append(s, {"bob", "user.create", "user:x", "", "", ""}));
    return InvalidArgument("the write failed after auditing", "x");
  });
  EXPECT_FALSE(st.ok());
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact);
  EXPECT_EQ(report->entries, 0);
}

TEST_P(AuditLogTest, ConcurrentAppendsKeepTheChainIntact) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(log_->AppendStandalone({"t" + std::to_string(t), "read", "/x", "", "", ""}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 100);
}

TEST_P(AuditLogTest, DetectsAForgedHead) {
  ASSERT_TRUE(log_->AppendStandalone({"a", "read", "/x", "", "", ""}).ok());
  ASSERT_TRUE(db_->Write([](storage::Session& s) { return s.Exec("UPDATE audit_head SET last_seq = 5").status(); }).ok());
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->intact);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::audit
