#include "modules/exchange/access_log.h"

#include <gtest/gtest.h>

#include "tests/support/scratch_store.h"

namespace tl::exchange {
namespace {

class AccessLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, AccessLog::Migrations()).ok());
    log_ = std::make_unique<AccessLog>(db_.get(), &clock_);
  }
  Status Record(int64_t person, const std::string& purpose) {
    AccessRecord r;
    r.personal_id = person;
    r.consumer_agency = "UBND00004";
    r.official = "desk";
    r.service = "registry.person";
    r.fields = "basic";
    r.purpose = purpose;
    r.request_id = "req-" + purpose;
    return db_->Write([&](storage::Session& s) { return log_->Record(s, r); });
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<AccessLog> log_;
};

TEST_P(AccessLogTest, ListsAPersonsReadsNewestFirstAndVerifies) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Record(i % 2 == 0 ? 1087000001 : 1090000002, "xác minh " + std::to_string(i)).ok());
  auto mine = log_->ForPerson(1087000001, 0, 100);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 4u);
  EXPECT_EQ((*mine)[0].purpose, "xác minh 6");
  EXPECT_EQ((*mine)[3].purpose, "xác minh 0");
  EXPECT_EQ((*mine)[0].consumer_agency, "UBND00004");
  auto page = log_->ForPerson(1087000001, (*mine)[1].seq, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), 2u);
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 7);
}

TEST_P(AccessLogTest, DetectsAnEditedADeletedAndATruncatedEntry) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Record(1087000001, "purpose " + std::to_string(i)).ok());
  auto exec = [&](const std::string& sql) {
    ASSERT_TRUE(db_->Write([&](storage::Session& s) { return s.ExecScript(sql); }).ok());
  };
  exec("UPDATE data_access_log SET purpose = 'nothing to see' WHERE seq = 3");
  auto edited = log_->Verify();
  ASSERT_TRUE(edited.ok());
  EXPECT_FALSE(edited->intact);
  EXPECT_EQ(edited->first_bad_seq, 3);
  exec("UPDATE data_access_log SET purpose = 'purpose 2' WHERE seq = 3");
  ASSERT_TRUE(log_->Verify()->intact);
  exec("DELETE FROM data_access_log WHERE seq = 2");
  auto deleted = log_->Verify();
  EXPECT_FALSE(deleted->intact);
  EXPECT_EQ(deleted->first_bad_seq, 2);
  EXPECT_NE(deleted->problem.find("deleted"), std::string::npos);
}

TEST_P(AccessLogTest, DetectsADeletedTail) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Record(1087000001, "purpose " + std::to_string(i)).ok());
  ASSERT_TRUE(db_->Write([&](storage::Session& s) { return s.ExecScript("DELETE FROM data_access_log WHERE seq = 3"); }).ok());
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->intact);
  EXPECT_EQ(report->first_bad_seq, 3);
}

TEST_P(AccessLogTest, AFailedTransactionLeavesNoEntry) {
  AccessRecord r;
  r.personal_id = 1087000001;
  r.purpose = "rolled back";
  Status st = db_->Write([&](storage::Session& s) -> Status {
    TL_RETURN_IF_ERROR(log_->Record(s, r));
    return Internal("the read failed after logging");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(log_->ForPerson(1087000001, 0, 10)->empty());
  EXPECT_TRUE(log_->Verify()->intact);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessLogTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::exchange
