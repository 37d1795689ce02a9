#include "modules/audit/audit_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
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

TEST_P(AuditLogTest, ALogWrittenBeforeTheRowidMigrationKeepsEveryEntryAndItsChain) {
  // A store whose log was written with migrations 100-101 only (seq a plain BIGINT key on SQLite),
  // then upgraded: the entries, their order, their chain and the actor index all survive.
  testing::ScratchStore old_store(GetParam());
  auto db = old_store.Open();
  ASSERT_NE(db, nullptr);
  auto all = AuditLog::Migrations();
  auto before = testing::MigrationsBefore(all, 102);
  ASSERT_LT(before.size(), all.size());
  ASSERT_TRUE(storage::ApplyMigrations(*db, before).ok());
  AuditLog log(db.get(), &clock_);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(log.AppendStandalone({i % 3 ? "alice" : "bình", "read", "/r/" + std::to_string(i), "", "", ""}).ok());
  }
  auto applied = storage::ApplyMigrations(*db, all);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, static_cast<int>(all.size() - before.size()));
  ASSERT_TRUE(log.AppendStandalone({"alice", "read", "/r/30", "", "", ""}).ok());  // numbered after the copied ones
  auto report = log.Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 31);
  auto binh = log.List(0, 100, "bình");
  ASSERT_TRUE(binh.ok());
  ASSERT_EQ(binh->size(), 10u);
  EXPECT_EQ((*binh)[0].seq, 28);
  EXPECT_EQ((*binh)[0].resource, "/r/27");
  if (db->dialect() == storage::Dialect::kSqlite) {
    ASSERT_TRUE(db->Read([](storage::Session& s) -> Status {
                    // The rowid is the key: no separate index on seq is left.
                    TL_ASSIGN_OR_RETURN(
                        auto rs, s.Query("SELECT name FROM sqlite_schema WHERE tbl_name = 'audit_log' ORDER BY name"));
                    EXPECT_EQ(rs.rows.size(), 2u);
                    for (const auto& r : rs.rows) EXPECT_NE(r.Text(0).rfind("sqlite_autoindex", 0), 0u) << r.Text(0);
                    return Status::Ok();
                  }).ok());
  }
}

TEST_P(AuditLogTest, EntriesWithVietnameseTextAndEscapesChainTheSameOnEveryBackend) {
  // On PostgreSQL the entry goes through audit_pending and is chained later; every byte (UTF-8,
  // separators, quotes, newlines) must come back as written, or Verify reports a hash mismatch.
  const std::string detail = R"({"note":"Bổ sung giấy khai sinh "bản chính"
Đường Lê Duẩn, phường Hoàn Kiếm 🏛","n":-1.5e3})";
  ASSERT_TRUE(log_->AppendStandalone({"cán.bộ.một.cửa", "dossier.request-supplement", "dossier:UBND00004-261123-0001",
                                      "2001:db8::1", "yêu-cầu/1", detail}).ok());
  ASSERT_TRUE(log_->AppendStandalone({"", "", "", "", "", ""}).ok());
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 2);
  auto newest = log_->List(0, 2);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[1].detail, detail);
  EXPECT_EQ((*newest)[1].actor, "cán.bộ.một.cửa");
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

TEST_P(AuditLogTest, TheWorksOfOneGroupCommitChainInTurnAndAFailedWorkLeavesNoGap) {
  // On SQLite the works of a batch share the head through the transaction cache and it is written
  // once, before the COMMIT; the first work holds the writer until the others are queued, so those
  // share one transaction. The fourth fails after appending: its entries go, the chain runs on.
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, release = false;
  int done = 0, ok = 0;
  const bool hold = db_->dialect() == storage::Dialect::kSqlite;  // elsewhere WriteAsync runs in place
  auto append = [this](int work, bool fail) {
    return [this, work, fail](storage::Session& s) -> Status {
      for (int i = 0; i < 2; ++i) {
        TL_RETURN_IF_ERROR(
            log_->Append(s, {"bình", "read", "/w/" + std::to_string(work) + "/" + std::to_string(i), "", "", ""}));
      }
      return fail ? InvalidArgument("refused after auditing", "x") : Status::Ok();
    };
  };
  auto finish = [&](Status st) {
    std::lock_guard lock(mu);
    done++;
    if (st.ok()) ok++;
    cv.notify_all();
  };
  db_->WriteAsync(
      [&, first = append(0, false)](storage::Session& s) -> Status {
        if (hold) {
          std::unique_lock lock(mu);
          started = true;
          cv.notify_all();
          cv.wait(lock, [&] { return release; });
        }
        return first(s);
      },
      finish);
  if (hold) {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return started; }));
  }
  for (int w = 1; w <= 6; ++w) db_->WriteAsync(append(w, w == 3), finish);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == 7; }));
    EXPECT_EQ(ok, 6);
  }
  auto report = log_->Verify();  // the head row matches the last entry, so it was written
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 12);
  auto listed = log_->List(0, 20);
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> resources;
  for (auto it = listed->rbegin(); it != listed->rend(); ++it) resources.push_back(it->resource);
  EXPECT_EQ(resources, (std::vector<std::string>{"/w/0/0", "/w/0/1", "/w/1/0", "/w/1/1", "/w/2/0", "/w/2/1", "/w/4/0",
                                                 "/w/4/1", "/w/5/0", "/w/5/1", "/w/6/0", "/w/6/1"}));
  // And the next append, in a transaction of its own, reads the head row the batch left.
  ASSERT_TRUE(log_->AppendStandalone({"bình", "read", "/after", "", "", ""}).ok());
  report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 13);
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

TEST_P(AuditLogTest, EntriesAppendedWhileSeveralChainersRunAreEachChainedOnceInOrder) {
  // Two chainers (as two server processes would run) race the writers; rolled-back entries must never
  // appear, every committed one exactly once, and each writer's entries in the order it wrote them.
  std::atomic<bool> writing{true};
  std::vector<std::thread> chainers;
  for (int c = 0; c < 2; ++c) {
    chainers.emplace_back([&] {
      while (writing.load()) EXPECT_TRUE(log_->ChainPending().ok());
    });
  }
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        Entry e{"w" + std::to_string(t), "write", "/x/" + std::to_string(i), "", "", ""};
        if (i % 10 == 9) {  // written, then rolled back with its transaction
          EXPECT_FALSE(db_->Write([&](storage::Session& s) -> Status {
                         TL_RETURN_IF_ERROR(log_->Append(s, e));
                         return Conflict("the write fails after its audit entry");
                       }).ok());
        } else {
          EXPECT_TRUE(log_->AppendStandalone(e).ok());
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  for (auto& c : chainers) c.join();
  auto report = log_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->intact) << report->problem;
  EXPECT_EQ(report->entries, 4 * 36);
  auto all = log_->List(0, 1000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u * 36);
  std::map<std::string, int> last_seen;  // per writer, the index of its newest entry seen so far
  for (auto it = all->rbegin(); it != all->rend(); ++it) {  // oldest first
    int i = std::stoi(it->resource.substr(3));
    EXPECT_NE(i % 10, 9) << "a rolled-back entry was chained";
    auto [pos, fresh] = last_seen.emplace(it->actor, i);
    if (!fresh) {
      EXPECT_GT(i, pos->second) << it->actor << "'s entries out of order";
      pos->second = i;
    }
  }
  auto left = log_->ChainPending();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0);
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
