#include "modules/exchange/access_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/signing.h"
#include "tests/support/scratch_store.h"

namespace tl::exchange {
namespace {

// The platform's signer as the app wires it, with a key of the test's own (the real one lives in the
// wallet's tables, which this module does not reach into).
class TestSealSigner : public SealSigner {
 public:
  Result<std::pair<std::string, std::string>> Sign(storage::Session&, std::string_view message) const override {
    TL_ASSIGN_OR_RETURN(auto sig, signing::Sign(message, key_.private_key));
    return std::make_pair(std::string("THANGLONG-test-1"), sig);
  }
  Result<bool> Verify(storage::Session&, const std::string& key_id, std::string_view message,
                      std::string_view signature) const override {
    return key_id == "THANGLONG-test-1" && signing::Verify(message, signature, key_.public_key);
  }

 private:
  signing::KeyPair key_ = signing::GenerateKeyPair();
};

class AccessLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(storage::ApplyMigrations(*db_, AccessLog::Migrations()).ok());
    ASSERT_TRUE(crypto::InitCrypto().ok());
    log_ = std::make_unique<AccessLog>(db_.get(), &clock_);
  }
  void Exec(const std::string& sql) {
    ASSERT_TRUE(db_->Write([&](storage::Session& s) { return s.ExecScript(sql); }).ok());
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
  // A ward's read of an organisation's registration.
  Status RecordOrganisation(const std::string& tax_code) {
    AccessRecord r;
    r.tax_code = tax_code;
    r.consumer_agency = "UBND00004";
    r.official = "desk";
    r.service = "registry.organisation";
    r.fields = "basic";
    r.purpose = "xác minh doanh nghiệp";
    return db_->Write([&](storage::Session& s) { return log_->Record(s, r); });
  }
  ManualClock clock_{1795000000000};
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<AccessLog> log_;
};

TEST_P(AccessLogTest, ALogWrittenBeforeTheRowidMigrationKeepsItsEntriesChainAndReports) {
  // A store whose log and reports were written with migrations 710-714 only, then upgraded (on SQLite
  // the log is copied into a table keyed by its rowid, the reports set aside and put back).
  testing::ScratchStore old_store(GetParam());
  auto db = old_store.Open();
  ASSERT_NE(db, nullptr);
  auto all = AccessLog::Migrations();
  auto before = testing::MigrationsBefore(all, 715);
  ASSERT_LT(before.size(), all.size());
  ASSERT_TRUE(storage::ApplyMigrations(*db, before).ok());
  AccessLog log(db.get(), &clock_);
  auto record = [&](int64_t person, const std::string& tax_code) {
    AccessRecord r;
    r.personal_id = person;
    r.tax_code = tax_code;
    r.consumer_agency = "UBND00004";
    r.official = "desk";
    r.service = person ? "registry.person" : "registry.organisation";
    r.fields = "basic";
    r.purpose = "xác minh hồ sơ";
    return db->Write([&](storage::Session& s) { return log.Record(s, r); });
  };
  for (int64_t p : {1087000001, 1087000002, 1087000001, 0}) ASSERT_TRUE(record(p, p ? "" : "0101234567").ok());
  auto first = log.Report(1087000001, 1, "Tôi không nộp hồ sơ nào", "citizen");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = log.Report(1087000001, 3, "Không rõ mục đích", "citizen");
  ASSERT_TRUE(second.ok()) << second.status().ToString();

  auto applied = storage::ApplyMigrations(*db, all);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, static_cast<int>(all.size() - before.size()));
  ASSERT_TRUE(record(1087000002, "").ok());  // numbered after the copied entries
  auto report = log.Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 5);
  auto mine = log.ForPerson(1087000002, 0, 10);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 2u);
  auto reports = log.Reports();
  ASSERT_TRUE(reports.ok());
  EXPECT_EQ(reports->at("items").size(), 2u) << reports->dump();
  auto third = log.Report(1087000002, 5, "Đọc sau khi nâng cấp", "citizen");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_GT(*third, *second);                                          // the reports' numbering goes on
  EXPECT_FALSE(log.Report(1087000001, 1, "lần nữa", "citizen").ok());  // still one report per entry
  if (db->dialect() == storage::Dialect::kSqlite) {
    ASSERT_TRUE(db->Read([](storage::Session& s) -> Status {
                    TL_ASSIGN_OR_RETURN(
                        auto rs, s.Query("SELECT COUNT(*) FROM sqlite_schema WHERE tbl_name = 'data_access_log' AND "
                                         "name LIKE 'sqlite_autoindex%'"));
                    EXPECT_EQ(rs.rows.at(0).Int(0), 0);  // the rowid is the key
                    TL_ASSIGN_OR_RETURN(
                        auto left,
                        s.Query("SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'data_access_reports_%'"));
                    EXPECT_EQ(left.rows.at(0).Int(0), 0);  // nothing set aside is left behind
                    return Status::Ok();
                  }).ok());
  }
}

TEST_P(AccessLogTest, AnOrganisationsReadsAreListedByTaxCodeAndChainedWithThePeoples) {
  ASSERT_TRUE(Record(1087000001, "xác minh 0").ok());
  for (const char* tax : {"0101234567", "0109999999", "0101234567"}) {
    ASSERT_TRUE(RecordOrganisation(tax).ok());
  }
  ASSERT_TRUE(Record(1087000001, "xác minh 1").ok());
  auto org = log_->ForOrganisation("0101234567", 0, 10);
  ASSERT_TRUE(org.ok());
  ASSERT_EQ(org->size(), 2u);
  EXPECT_EQ((*org)[0].seq, 4);
  EXPECT_EQ((*org)[0].tax_code, "0101234567");
  EXPECT_EQ((*org)[0].personal_id, 0);
  EXPECT_TRUE(log_->ForOrganisation("", 0, 10)->empty());
  EXPECT_EQ(log_->ForPerson(1087000001, 0, 10)->size(), 2u);  // only the person's own reads
  EXPECT_TRUE(log_->Verify()->intact);
  // The tax code is part of an organisation's entry: changing it breaks the chain at that entry.
  Exec("UPDATE data_access_log SET tax_code = '0109999999' WHERE seq = 4");
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->intact);
  EXPECT_EQ(report->first_bad_seq, 4);
}

TEST_P(AccessLogTest, EachSubjectSeesAndReportsOnlyItsOwnReads) {
  ASSERT_TRUE(Record(1087000001, "xác minh người").ok());  // seq 1
  for (const char* tax : {"0101234567", "0109999999"}) {  // seq 2, 3
    ASSERT_TRUE(RecordOrganisation(tax).ok());
  }
  // Accounts map to subjects by role: a citizen's personal id, an organisation's tax code, else none.
  http::Principal citizen, org, desk, org_without_code;
  citizen.role = "citizen";
  citizen.personal_id = "001087000001";
  org.role = "organisation";
  org.tax_code = "0101234567";
  org.personal_id = "001087000001";  // an organisation account sees its organisation's log, not a person's
  desk.role = "desk_officer";
  desk.agency = "UBND00004";
  org_without_code.role = "organisation";
  auto person = SubjectOf(citizen);
  auto company = SubjectOf(org);
  ASSERT_TRUE(person && company);
  EXPECT_FALSE(person->IsOrganisation());
  EXPECT_EQ(company->tax_code, "0101234567");
  EXPECT_FALSE(SubjectOf(desk));
  EXPECT_FALSE(SubjectOf(org_without_code));
  auto mine = log_->ForSubject(*company, 0, 10);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].seq, 2);
  ASSERT_EQ(log_->ForSubject(*person, 0, 10)->size(), 1u);
  EXPECT_EQ((*log_->ForSubject(*person, 0, 10))[0].seq, 1);
  // Another subject's read answers as a missing one; one's own is reported once.
  EXPECT_EQ(log_->Report(*company, 1, "không phải của tôi", "org").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Report(*company, 3, "không phải của tôi", "org").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Report(*person, 2, "không phải của tôi", "citizen").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->Report(Subject{}, 2, "không phải của tôi", "nobody").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(log_->Report(*company, 2, "không có hồ sơ nào", "org").ok());
  EXPECT_EQ(log_->Report(*company, 2, "lần nữa", "org").status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(log_->Report(1087000001, 1, "không có hồ sơ nào", "citizen").ok());
  auto queue = log_->Reports();
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ((*queue)["items"].size(), 2u);
  EXPECT_EQ((*queue)["items"][0]["subject"], "organisation");
  EXPECT_EQ((*queue)["items"][0]["tax_code"], "0101234567");
  EXPECT_EQ((*queue)["items"][1]["subject"], "person");
}

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

// Entries appended from many threads at once through the batches: every one is committed before
// its callback hears so, each thread's entries keep their order, and the chain (with entries made
// one by one around them) verifies.
TEST_P(AccessLogTest, BatchedAppendsFromManyThreadsAreAllChainedInOrder) {
  ASSERT_TRUE(Record(1087000001, "trước").ok());
  constexpr int kThreads = 8, kEach = 150;
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AccessRecord r;
        r.personal_id = 1090000000 + t;
        r.consumer_agency = "UBND00004";
        r.official = "desk";
        r.service = "registry.person";
        r.fields = "basic";
        r.purpose = std::to_string(i);
        r.request_id = "req-" + std::to_string(t) + "-" + std::to_string(i);
        log_->RecordAsync(std::move(r), [&](Status st) {
          std::lock_guard lock(mu);
          answered++;
          if (!st.ok()) failed++;
          cv.notify_one();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered == kThreads * kEach; }));
  }
  EXPECT_EQ(failed, 0);
  ASSERT_TRUE(Record(1087000001, "sau").ok());
  for (int t = 0; t < kThreads; ++t) {
    auto mine = log_->ForPerson(1090000000 + t, 0, 1000);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->size(), static_cast<size_t>(kEach));
    for (int i = 0; i < kEach; ++i) EXPECT_EQ((*mine)[static_cast<size_t>(kEach - 1 - i)].purpose, std::to_string(i));
  }
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, kThreads * kEach + 2);
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

TEST_P(AccessLogTest, SealsSignTheHeadOnlyWhenThereIsSomethingNew) {
  TestSealSigner signer;
  EXPECT_FALSE(log_->Seal().ok());  // no signer: nothing is sealed unsigned
  log_->SetSealSigner(&signer);
  EXPECT_EQ(*log_->Seal(), 0);  // an empty log
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Record(1087000001, "purpose " + std::to_string(i)).ok());
  EXPECT_EQ(*log_->Seal(), 3);
  EXPECT_EQ(*log_->Seal(), 0);  // nothing new since
  ASSERT_TRUE(Record(1087000001, "purpose 3").ok());
  clock_.Advance(1000);
  EXPECT_EQ(*log_->Seal(), 4);
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->seals, 2);
  EXPECT_EQ(report->sealed_upto, 4);
}

TEST_P(AccessLogTest, ARewrittenChainWithEveryHashRecomputedIsCaughtByItsSeal) {
  TestSealSigner signer;
  log_->SetSealSigner(&signer);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Record(1087000001, "purpose " + std::to_string(i)).ok());
  ASSERT_EQ(*log_->Seal(), 5);
  // Someone with write access to the database rewrites history consistently: the log emptied, the
  // head reset and five other reads recorded in their place. The chain alone is intact again...
  Exec("DELETE FROM data_access_log; UPDATE data_access_head SET last_seq = 0, last_hash = '" +
       std::string(audit::chain::kGenesis) + "' WHERE id = 1");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Record(1087000001, "harmless " + std::to_string(i)).ok());
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  // ...but the platform's signed seal still names the old fifth entry.
  EXPECT_FALSE(report->intact);
  EXPECT_EQ(report->first_bad_seq, 5);
  EXPECT_NE(report->problem.find("sealed hash"), std::string::npos) << report->problem;
}

TEST_P(AccessLogTest, AForgedSealAndADeletedSealedTailAreCaught) {
  TestSealSigner signer;
  log_->SetSealSigner(&signer);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Record(1087000001, "purpose " + std::to_string(i)).ok());
  ASSERT_EQ(*log_->Seal(), 4);
  Exec("UPDATE data_access_seals SET sealed_at = sealed_at + 1");  // the signature no longer matches
  auto forged = log_->Verify();
  ASSERT_TRUE(forged.ok());
  EXPECT_FALSE(forged->intact);
  EXPECT_NE(forged->problem.find("signature"), std::string::npos) << forged->problem;
  Exec("UPDATE data_access_seals SET sealed_at = sealed_at - 1");
  ASSERT_TRUE(log_->Verify()->intact);
  // The tail deleted and the head moved back to match: the chain is consistent, the seal is not.
  Exec("DELETE FROM data_access_log WHERE seq >= 3; UPDATE data_access_head SET last_seq = 2, "
       "last_hash = (SELECT hash FROM data_access_log WHERE seq = 2) WHERE id = 1");
  auto truncated = log_->Verify();
  ASSERT_TRUE(truncated.ok());
  EXPECT_FALSE(truncated->intact);
  EXPECT_EQ(truncated->first_bad_seq, 4);
  EXPECT_NE(truncated->problem.find("missing"), std::string::npos) << truncated->problem;
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessLogTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::exchange
