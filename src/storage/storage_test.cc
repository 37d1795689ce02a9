// The storage contract, run against every backend: transactions, rollback, uniqueness, migrations.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "storage/database.h"
#include "storage/migrations.h"
#include "storage/postgres/postgres_database.h"
#include "tests/support/scratch_store.h"

namespace tl::storage {
namespace {

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = store_->Open();
    ASSERT_NE(db_, nullptr);
    auto applied = ApplyMigrations(*db_, {{1, "items", "CREATE TABLE items (id {{ID}}, name TEXT NOT NULL UNIQUE, qty INTEGER)"}});
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    ASSERT_EQ(*applied, 1);
  }
  std::unique_ptr<testing::ScratchStore> store_;
  std::unique_ptr<Database> db_;
};

TEST_P(StorageTest, CommitsAndReadsBackTypedValues) {
  ASSERT_TRUE(db_->Write([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name, qty) VALUES (?, ?)", {std::string("Hà Nội"), int64_t{42}}));
    EXPECT_EQ(n, 1);
    TL_ASSIGN_OR_RETURN(auto m, s.Exec("INSERT INTO items (name, qty) VALUES (?, ?)", {std::string("null qty"), Null()}));
    (void)m;
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT name, qty, id FROM items ORDER BY name"));
    EXPECT_EQ(rs.rows.size(), 2u);
    EXPECT_EQ(rs.rows[0].Text(0), "Hà Nội");
    EXPECT_EQ(rs.rows[0].Int(1), 42);
    EXPECT_GT(rs.rows[0].Int(2), 0);
    EXPECT_TRUE(rs.rows[1].IsNull(1));
    TL_ASSIGN_OR_RETURN(auto q, s.Query("SELECT COUNT(*) FROM items WHERE name = ? OR name = '?'", {std::string("Hà Nội")}));
    EXPECT_EQ(q.rows[0].Int(0), 1);
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, AFailedWorkRollsBackEverything) {
  Status st = db_->Write([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name) VALUES (?)", {std::string("first")}));
    (void)n;
    return InvalidArgument("changed my mind", "name");
  });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  int64_t count = -1;
  ASSERT_TRUE(db_->Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM items"));
    count = rs.rows[0].Int(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(count, 0);
  EXPECT_GE(db_->Stats().transactions_rolled_back, 1);
}

TEST_P(StorageTest, UniquenessViolationsAreAlreadyExists) {
  auto insert = [&](const std::string& name) {
    return db_->Write([&](Session& s) { return s.Exec("INSERT INTO items (name) VALUES (?)", {name}).status(); });
  };
  ASSERT_TRUE(insert("dup").ok());
  Status again = insert("dup");
  EXPECT_TRUE(IsUniqueViolation(again)) << again.ToString();
}

TEST_P(StorageTest, MigrationsAreRecordedAndANewerSchemaIsRefused) {
  auto again = ApplyMigrations(*db_, {{1, "items", "CREATE TABLE items (id {{ID}})"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);  // already applied
  auto more = ApplyMigrations(*db_, {{1, "items", ""}, {2, "more", "CREATE TABLE more_items (x TEXT)"}});
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_EQ(*more, 1);
  // An older binary that only knows version 1 must not run on this schema.
  auto older = ApplyMigrations(*db_, {{1, "items", ""}});
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(StorageTest, MigrationForOneDialectRunsThereAndIsRecordedEverywhere) {
  const Dialect here = db_->dialect();
  const Dialect other = here == Dialect::kSqlite ? Dialect::kPostgres : Dialect::kSqlite;
  auto m = ApplyMigrations(*db_, {{1, "items", ""},
                                  {2, "here", "CREATE TABLE here_only (x TEXT)", here},
                                  {3, "elsewhere", "CREATE TABLE elsewhere_only (x TEXT)", other}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, 2);
  ASSERT_TRUE(
      db_->Read([&](Session& s) -> Status {
           TL_RETURN_IF_ERROR(s.Query("SELECT x FROM here_only").status());
           TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM schema_migrations WHERE version IN (2, 3)"));
           EXPECT_EQ(rs.rows.at(0).Int(0), 2);                          // both recorded: neither runs again
           EXPECT_FALSE(s.Query("SELECT x FROM elsewhere_only").ok());  // last: it ends PostgreSQL's transaction
           return Status::Ok();
         })
          .ok());
}

TEST_P(StorageTest, ConcurrentWritersAllCommit) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        Status st = db_->Write([&](Session& s) {
          return s.Exec("INSERT INTO items (name, qty) VALUES (?, ?)", {std::to_string(t) + "-" + std::to_string(i), int64_t{i}})
              .status();
        });
        if (st.ok()) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 240);
}

TEST_P(StorageTest, AFailingWriterDoesNotTakeConcurrentWritersDownWithIt) {
  // On SQLite concurrent writes are committed in groups; each work must still stand or fall alone.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        bool fail = (t + i) % 2 == 1;
        Status st = db_->Write([&](Session& s) -> Status {
          TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name, qty) VALUES (?, ?)",
                                             {std::to_string(t) + ":" + std::to_string(i), int64_t{fail ? 1 : 0}}));
          (void)n;
          return fail ? InvalidArgument("refused after writing", "x") : Status::Ok();
        });
        (st.ok() ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 120);
  EXPECT_EQ(failed.load(), 120);
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*), COALESCE(SUM(qty), 0) FROM items"));
    EXPECT_EQ(rs.rows[0].Int(0), 120);  // only the successful works
    EXPECT_EQ(rs.rows[0].Int(1), 0);    // none of the failed ones
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, AsyncWritesReportEachOutcomeOnlyOnceDurable) {
  // 200 writes queued without waiting; every third one fails after writing. Each callback runs once,
  // with its own outcome, and by then the successful work is visible to readers.
  std::mutex mu;
  std::condition_variable cv;
  int callbacks = 0, ok = 0, failed = 0, visible = 0;
  for (int i = 0; i < 200; ++i) {
    bool fail = i % 3 == 0;
    std::string name = "async-" + std::to_string(i);
    db_->WriteAsync(
        [name, fail](Session& s) -> Status {
          TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name, qty) VALUES (?, 1)", {name}));
          (void)n;
          return fail ? InvalidArgument("refused after writing", "x") : Status::Ok();
        },
        [&, name](Status st) {
          bool seen = false;
          if (st.ok()) {
            // A read from another connection already sees the committed row.
            EXPECT_TRUE(db_->Read([&](Session& s) -> Status {
              TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM items WHERE name = ?", {name}));
              seen = rs.rows[0].Int(0) == 1;
              return Status::Ok();
            }).ok());
          }
          std::lock_guard lock(mu);
          callbacks++;
          (st.ok() ? ok : failed)++;
          if (seen) visible++;
          cv.notify_all();
        });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return callbacks == 200; }));
  EXPECT_EQ(ok, 133);
  EXPECT_EQ(failed, 67);
  EXPECT_EQ(visible, 133);
  lock.unlock();
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM items"));
    EXPECT_EQ(rs.rows[0].Int(0), 133);
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, AfterCommitCallbacksRunOnlyForWhatCommitted) {
  // Concurrent writers (grouped into shared transactions on SQLite), every other one failing after
  // registering its callback: exactly the committed works' callbacks run, each before its Write returns.
  std::vector<std::thread> threads;
  std::atomic<int> ran{0}, ran_for_failed{0}, ran_before_return{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const bool fail = (t + i) % 2 == 1;
        std::atomic<bool> mine{false};
        Status st = db_->Write([&](Session& s) -> Status {
          TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name) VALUES (?)",
                                             {"cb" + std::to_string(t) + ":" + std::to_string(i)}));
          (void)n;
          s.AfterCommit([&, fail] {
            mine = true;
            (fail ? ran_for_failed : ran)++;
          });
          return fail ? InvalidArgument("refused after registering", "x") : Status::Ok();
        });
        EXPECT_EQ(st.ok(), !fail);
        if (mine.load()) ran_before_return++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ran.load(), 80);
  EXPECT_EQ(ran_for_failed.load(), 0);
  EXPECT_EQ(ran_before_return.load(), 80);
  bool after_read = false;
  ASSERT_TRUE(db_->Read([&](Session& s) -> Status {
    s.AfterCommit([&] { after_read = true; });
    return s.Query("SELECT COUNT(*) FROM items").status();
  }).ok());
  EXPECT_TRUE(after_read);
}

// Rerunnable works (Database::WriteAsyncRerunnable): on SQLite a batch of them runs without
// savepoints; when one fails, everything is rolled back and the batch runs again with them. Each work
// still stands or falls alone, and its after-commit callbacks run once, for what committed.
TEST_P(StorageTest, RerunnableWorksOfOneBatchStandOrFallAloneAndRunAgainAfterAFailure) {
  const bool sqlite = db_->dialect() == Dialect::kSqlite;
  // No failure; a failure, which reruns the batch; a failure in the very next batch, which runs in
  // savepoints from the start (after a rerun the next batches do: no rerun per failure when works fail
  // often).
  for (int failing : {-1, 5, 7}) {
    const bool rerun = failing == 5;
    SCOPED_TRACE("failing work " + std::to_string(failing));
    const int64_t reruns_before = db_->Stats().write_batch_reruns;
    std::mutex mu;
    std::condition_variable cv;
    bool started = false, release = false;
    int callbacks = 0, ok = 0, after_commit = 0;
    std::vector<int> runs(10, 0);
    std::vector<Status> results(10);
    // On SQLite a first work holds the writer, so that the ten queue up behind it and are taken as
    // one batch. (PostgreSQL runs each work on the caller's thread: nothing to hold.)
    std::thread holder;
    if (sqlite) {
      holder = std::thread([&] {
        db_->WriteAsync(
            [&](Session&) -> Status {
              std::unique_lock lock(mu);
              started = true;
              cv.notify_all();
              cv.wait(lock, [&] { return release; });
              return Status::Ok();
            },
            [](Status) {});
      });
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return started; });
    }
    for (int i = 0; i < 10; ++i) {
      std::string name = "rerun" + std::to_string(failing) + ":" + std::to_string(i);
      db_->WriteAsyncRerunnable(
          [&, i, name, failing](Session& s) -> Status {
            {
              std::lock_guard lock(mu);
              runs[i]++;
            }
            TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name, qty) VALUES (?, ?)", {name, int64_t{i}}));
            (void)n;
            s.AfterCommit([&] {
              std::lock_guard lock(mu);
              after_commit++;
            });
            return i == failing ? InvalidArgument("refused after writing", "qty") : Status::Ok();
          },
          [&, i](Status st) {
            std::lock_guard lock(mu);
            results[i] = st;
            callbacks++;
            if (st.ok()) ok++;
            cv.notify_all();
          });
    }
    {
      std::unique_lock lock(mu);
      release = true;
      cv.notify_all();
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return callbacks == 10; }));
    }
    if (holder.joinable()) holder.join();
    EXPECT_EQ(ok, failing < 0 ? 10 : 9);
    EXPECT_EQ(after_commit, ok);
    if (failing >= 0) {
      EXPECT_EQ(results[failing].field(), "qty");
    }
    ASSERT_TRUE(db_->Read([&](Session& s) -> Status {
                     TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT qty FROM items WHERE name LIKE ? ORDER BY qty",
                                                          {"rerun" + std::to_string(failing) + ":%"}));
                     std::vector<int64_t> got;
                     for (const auto& r : rs.rows) got.push_back(r.Int(0));
                     std::vector<int64_t> want;
                     for (int i = 0; i < 10; ++i) {
                       if (i != failing) want.push_back(i);
                     }
                     EXPECT_EQ(got, want);
                     return Status::Ok();
                   })
                    .ok());
    if (sqlite) {
      // Without a rerun every work ran once; with one, the works up to the failing one ran twice.
      EXPECT_EQ(db_->Stats().write_batch_reruns - reruns_before, rerun ? 1 : 0);
      for (int i = 0; i < 10; ++i) EXPECT_EQ(runs[i], rerun && i <= failing ? 2 : 1) << i;
    } else {
      EXPECT_EQ(db_->Stats().write_batch_reruns, 0);
      for (int i = 0; i < 10; ++i) EXPECT_EQ(runs[i], 1) << i;
    }
  }
}

// A head row every work of a group commit would read and rewrite (a hash chain's): on SQLite the
// works of one transaction share it through the transaction cache and it is written once, before
// the COMMIT; a failed work's change is undone with its savepoint. PostgreSQL has no such cache (each
// transaction is one work there), and the callers read and write the row themselves.
TEST_P(StorageTest, ATransactionsWorksShareCachedValuesWrittenOnceBeforeTheCommit) {
  auto m = ApplyMigrations(*db_, {{1, "items", ""},
                                  {2, "head",
                                   "CREATE TABLE head (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);"
                                   "INSERT INTO head (id, n) VALUES (1, 10)"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  if (db_->dialect() == Dialect::kPostgres) {
    ASSERT_TRUE(db_->Write([](Session& s) -> Status {
                     EXPECT_EQ(s.transaction_cache(), nullptr);
                     return Status::Ok();
                   })
                    .ok());
    return;
  }
  std::atomic<int> flushes{0};
  // Adds one to the head as the transaction sees it; `fail` refuses after doing so.
  auto bump = [&flushes](bool fail, std::vector<int64_t>* seen) {
    return [&flushes, fail, seen](Session& s) -> Status {
      TransactionCache* cache = s.transaction_cache();
      if (cache == nullptr) return Internal("no transaction cache on the writer");
      int64_t n = 0;
      if (const auto* v = cache->Find("head")) {
        n = v->number;
      } else {
        TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT n FROM head WHERE id = 1"));
        n = rs.rows[0].Int(0);
      }
      seen->push_back(n);
      cache->Set("head", {n + 1, "after " + std::to_string(n)}, [&flushes](Session& session, const auto& v) {
        flushes++;
        return session.Exec("UPDATE head SET n = ? WHERE id = 1", {v.number}).status();
      });
      return fail ? InvalidArgument("refused after moving the head", "x") : Status::Ok();
    };
  };
  // The first work holds the writer until the next four are queued: those four share a transaction.
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, release = false;
  int done = 0;
  std::vector<Status> outcomes(5);
  std::vector<int64_t> seen;
  auto finish = [&](int i) {
    return [&, i](Status st) {
      std::lock_guard lock(mu);
      outcomes[i] = std::move(st);
      done++;
      cv.notify_all();
    };
  };
  db_->WriteAsync(
      [&](Session& s) -> Status {
        std::unique_lock lock(mu);
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        lock.unlock();
        return bump(false, &seen)(s);
      },
      finish(0));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return started; }));
  }
  for (int i = 1; i <= 4; ++i) db_->WriteAsync(bump(i == 3, &seen), finish(i));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == 5; }));
  for (int i : {0, 1, 2, 4}) EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i].ToString();
  EXPECT_FALSE(outcomes[3].ok());
  // Work 3 saw 13 and failed; work 4 saw 13 again, not 14.
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 11, 12, 13, 13}));
  EXPECT_EQ(flushes.load(), 2);  // once for the first transaction, once for the four
  lock.unlock();
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
                   TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT n FROM head WHERE id = 1"));
                   EXPECT_EQ(rs.rows[0].Int(0), 14);
                   EXPECT_EQ(s.transaction_cache(), nullptr);  // reads have none
                   return Status::Ok();
                 })
                  .ok());
  // The next transaction starts with nothing cached: the row may have been written by another process.
  ASSERT_TRUE(db_->Write([](Session& s) -> Status {
                   EXPECT_NE(s.transaction_cache(), nullptr);
                   EXPECT_EQ(s.transaction_cache()->Find("head"), nullptr);
                   return Status::Ok();
                 })
                  .ok());
  // A flush that fails fails the whole transaction: nothing of it is committed.
  Status st = db_->Write([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO items (name) VALUES ('flush-fails')"));
    (void)n;
    s.transaction_cache()->Set("bad", {1, ""}, [](Session& session, const auto&) {
      return session.Exec("UPDATE no_such_table SET n = 1").status();
    });
    return Status::Ok();
  });
  EXPECT_FALSE(st.ok());
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
                   TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM items WHERE name = 'flush-fails'"));
                   EXPECT_EQ(rs.rows[0].Int(0), 0);
                   return Status::Ok();
                 })
                  .ok());
}

TEST(TransactionCacheTest, SetsAreUndoneToAMarkAndFlushedInKeyOrder) {
  TransactionCache cache;
  std::vector<std::string> flushed;
  auto record = [&flushed](const std::string& key) {
    return [&flushed, key](Session&, const TransactionCache::Value& v) {
      flushed.push_back(key + "=" + std::to_string(v.number) + v.text);
      return Status::Ok();
    };
  };
  cache.Set("b", {1, "x"}, record("b"));
  const size_t mark = cache.Mark();
  cache.Set("b", {2, "y"}, record("b"));
  cache.Set("a", {7, "z"}, record("a"));
  ASSERT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("b")->number, 2);
  cache.DropFrom(mark);
  EXPECT_EQ(cache.Find("a"), nullptr);
  ASSERT_NE(cache.Find("b"), nullptr);
  EXPECT_EQ(cache.Find("b")->number, 1);
  EXPECT_EQ(cache.Find("b")->text, "x");
  cache.Set("a", {3, "w"}, record("a"));
  // Flush needs a session only to hand it on; these flushes do not use it.
  class NoSession final : public Session {
   public:
    Dialect dialect() const override { return Dialect::kSqlite; }
    Result<ResultSet> Query(std::string_view, std::initializer_list<Value>) override { return ResultSet{}; }
    Result<ResultSet> QueryV(std::string_view, const std::vector<Value>&) override { return ResultSet{}; }
    Result<int64_t> Exec(std::string_view, std::initializer_list<Value>) override { return int64_t{0}; }
    Result<int64_t> ExecV(std::string_view, const std::vector<Value>&) override { return int64_t{0}; }
    Status ExecScript(std::string_view) override { return Status::Ok(); }
    void AfterCommit(std::function<void()>) override {}
  } session;
  // Rows: kept in the order added, a rolled-back work's taken back, flushed after the values.
  std::vector<std::string> rows_flushed;
  auto rows_of = [&rows_flushed](const std::string& key) {
    return [&rows_flushed, key](Session&, const std::vector<TransactionCache::Row>& rows) {
      for (const auto& r : rows) rows_flushed.push_back(key + ":" + std::to_string(std::get<int64_t>(r[0])));
      return Status::Ok();
    };
  };
  cache.AddRow("log", {int64_t{1}}, rows_of("log"));
  const size_t before_rows = cache.Mark();
  cache.AddRow("log", {int64_t{2}}, rows_of("log"));
  cache.AddRow("other", {int64_t{9}}, rows_of("other"));
  cache.Set("a", {4, "v"}, record("a"));
  cache.DropFrom(before_rows);
  cache.AddRow("log", {int64_t{3}}, rows_of("log"));
  flushed.clear();
  ASSERT_TRUE(cache.Flush(session).ok());
  EXPECT_EQ(flushed, (std::vector<std::string>{"a=3w", "b=1x"}));
  EXPECT_EQ(rows_flushed, (std::vector<std::string>{"log:1", "log:3"}));
  cache.Clear();
  EXPECT_EQ(cache.Find("b"), nullptr);
  rows_flushed.clear();
  ASSERT_TRUE(cache.Flush(session).ok());
  EXPECT_TRUE(rows_flushed.empty());
}

TEST_P(StorageTest, InsertRowsWritesEveryRowInStatementsOfAHundred) {
  std::vector<TransactionCache::Row> rows;
  for (int i = 0; i < 250; ++i) rows.push_back({std::string("row-") + std::to_string(i), int64_t{i}});
  ASSERT_TRUE(
      db_->Write([&](Session& s) { return InsertRows(s, "INSERT INTO items (name, qty) VALUES ", 2, rows); }).ok());
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
                   TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*), SUM(qty), MIN(name) FROM items"));
                   EXPECT_EQ(rs.rows[0].Int(0), 250);
                   EXPECT_EQ(rs.rows[0].Int(1), 249 * 250 / 2);
                   EXPECT_EQ(rs.rows[0].Text(2), "row-0");
                   return Status::Ok();
                 })
                  .ok());
  // A row of the wrong width is refused, and nothing of that write stays.
  Status st = db_->Write([](Session& s) {
    return InsertRows(s, "INSERT INTO items (name, qty) VALUES ", 2, {{std::string("ok"), int64_t{1}}, {int64_t{2}}});
  });
  EXPECT_FALSE(st.ok());
  ASSERT_TRUE(db_->Read([](Session& s) -> Status {
                   TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*) FROM items"));
                   EXPECT_EQ(rs.rows[0].Int(0), 250);
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, BlobsRoundTripEveryByte) {
  auto m = ApplyMigrations(*db_, {{1, "items", ""}, {2, "blobs", "CREATE TABLE blobs (k TEXT PRIMARY KEY, b {{BLOB}})"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\0\x89PNG", 7);
  ASSERT_TRUE(db_->Write([&](Session& s) { return s.Exec("INSERT INTO blobs (k, b) VALUES (?, ?)", {std::string("x"), Blob{bytes}}).status(); }).ok());
  ASSERT_TRUE(db_->Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT b FROM blobs WHERE k = 'x'"));
    EXPECT_EQ(rs.rows.at(0).Text(0), bytes);
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, DataSurvivesReopening) {
  ASSERT_TRUE(db_->Write([](Session& s) { return s.Exec("INSERT INTO items (name) VALUES ('kept')").status(); }).ok());
  db_.reset();
  auto reopened = store_->Open();
  ASSERT_NE(reopened, nullptr);
  ASSERT_TRUE(reopened->Read([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT name FROM items"));
    EXPECT_EQ(rs.rows.size(), 1u);
    return Status::Ok();
  }).ok());
}

TEST(SqliteCheckpointTest, TheWalIsCopiedIntoTheDatabaseAndStartsOverUnderSteadyWrites) {
  // 240 MB written in 3,840 transactions of 64 kB: far past the point where the WAL is checkpointed
  // (16,000 pages, on the checkpointer's thread) and where the writer makes it start over (32,000
  // pages, 131 MB). Without checkpoints the database file would stay small and the WAL hold
  // everything; without restarts the WAL would hold all 240 MB. A read follows each write, as under
  // a server's load: its connection keeps the read open while nothing newer is committed, and such a
  // kept read used to stop every restart (the WAL grew past a gigabyte in 15 s of the lifecycle
  // benchmark), so the writer ends idle reads before it copies what is left.
  testing::ScratchStore store("sqlite");
  auto db = store.Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(ApplyMigrations(*db, {{1, "blobs", "CREATE TABLE blobs (id {{ID}}, b {{BLOB}})"}}).ok());
  const std::string chunk(64 * 1024, 'x');
  static constexpr int kChunks = 3840;
  for (int i = 0; i < kChunks; ++i) {
    ASSERT_TRUE(db->Write([&](Session& s) {
      return s.Exec("INSERT INTO blobs (b) VALUES (?)", {Blob{chunk + std::to_string(i)}}).status();
    }).ok());
    ASSERT_TRUE(db->Read([](Session& s) { return s.Query("SELECT MAX(id) FROM blobs").status(); }).ok());
  }
  const std::string file = store.data_dir() + "/thanglong.db";
  std::error_code ec;
  const auto wal_bytes = std::filesystem::file_size(file + "-wal", ec);
  ASSERT_FALSE(ec) << "no WAL file beside " << file;
  EXPECT_LT(wal_bytes, uintmax_t{40000} * 4096) << "the WAL did not start over";
  EXPECT_GT(std::filesystem::file_size(file), uintmax_t{120} << 20) << "the WAL was not copied into the database";
  ASSERT_TRUE(db->Read([](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT COUNT(*), SUM(LENGTH(b)) FROM blobs"));
    EXPECT_EQ(rs.rows[0].Int(0), kChunks);
    EXPECT_GT(rs.rows[0].Int(1), int64_t{kChunks} * 64 * 1024);
    return Status::Ok();
  }).ok());
}

TEST(SqliteSettingsTest, MemoryStatisticsAreOffSoAllocationsTakeNoGlobalLock) {
  // With SQLite's memory statistics on (its default), every allocation updates global counters under
  // one mutex that all connections share; the store turns them off before its first connection.
  // Off, the counters never move: sqlite3_memory_used() stays 0 however much the store allocates.
  testing::ScratchStore store("sqlite");
  auto db = store.Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(ApplyMigrations(*db, {{1, "texts", "CREATE TABLE texts (id {{ID}}, t TEXT)"}}).ok());
  ASSERT_TRUE(db->Write([](Session& s) {
    return s.Exec("INSERT INTO texts (t) SELECT printf('%.*c', 1000, 'x') FROM "
                  "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n)")
        .status();
  }).ok());
  EXPECT_EQ(sqlite3_memory_used(), 0);
  EXPECT_EQ(sqlite3_memory_highwater(0), 0);
}

TEST(SqliteSettingsTest, TheWriterGetsTheLargePageCacheAndEachReaderTheSmallOne) {
  // SQLite keeps the writer connection's cache across commits but drops a reader's whenever anything
  // was committed since its last read, so the budget goes to the writer (docs/operations.md).
  testing::ScratchStore store("sqlite");
  auto db = Open("", store.data_dir(), 2, SqliteCacheSizes{64, 8});
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto cache_size = [](Session& s, int64_t* out) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("PRAGMA cache_size"));
    *out = rs.rows.at(0).Int(0);
    return Status::Ok();
  };
  int64_t writer = 0, reader = 0;
  ASSERT_TRUE((*db)->Write([&](Session& s) { return cache_size(s, &writer); }).ok());
  ASSERT_TRUE((*db)->Read([&](Session& s) { return cache_size(s, &reader); }).ok());
  EXPECT_EQ(writer, -64 * 1024);  // negative: KiB
  EXPECT_EQ(reader, -8 * 1024);
}

TEST(SqliteSettingsTest, TheNextFlushDoesNotWaitForTheCallbacksOfTheLast) {
  // Callbacks run on the acknowledger thread: while one of them is busy, the syncer already flushes
  // the batches committed after its own (on the syncer's thread it held them back).
  testing::ScratchStore store("sqlite");
  auto db = Open("", store.data_dir(), 2);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(ApplyMigrations(**db, {{1, "texts", "CREATE TABLE texts (id {{ID}}, t TEXT)"}}).ok());
  auto insert = [](Session& s) { return s.Exec("INSERT INTO texts (t) VALUES ('x')").status(); };
  std::mutex mu;
  std::condition_variable cv;
  bool in_callback = false, release = false, second_done = false;
  struct ReleaseAtExit {  // so that a failed assertion does not leave the callback (and the store) waiting
    std::mutex& mu;
    std::condition_variable& cv;
    bool& release;
    ~ReleaseAtExit() {
      std::lock_guard lock(mu);
      release = true;
      cv.notify_all();
    }
  } release_at_exit{mu, cv, release};
  (*db)->WriteAsync(insert, [&](Status st) {
    EXPECT_TRUE(st.ok());
    std::unique_lock lock(mu);
    in_callback = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return in_callback; }));
  }
  const int64_t flushes = (*db)->Stats().flushes;
  (*db)->WriteAsync(insert, [&](Status st) {
    EXPECT_TRUE(st.ok());
    std::lock_guard lock(mu);
    second_done = true;
    cv.notify_all();
  });
  // The second write is flushed while the first callback still runs; its own callback waits its turn.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((*db)->Stats().flushes == flushes && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT((*db)->Stats().flushes, flushes);
  std::unique_lock lock(mu);
  EXPECT_FALSE(second_done);
  release = true;
  cv.notify_all();
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return second_done; }));
}

TEST(SqliteSettingsTest, WritesAreAcknowledgedOnlyAfterTheSyncerFlushedTheWal) {
  // The writer commits without syncing (synchronous=NORMAL, readers keep FULL) and the syncer thread
  // flushes the WAL before anyone is told: every acknowledgement comes after at least one flush, and
  // one flush may cover several batches, never the other way round.
  testing::ScratchStore store("sqlite");
  auto db = Open("", store.data_dir(), 2);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE(ApplyMigrations(**db, {{1, "texts", "CREATE TABLE texts (id {{ID}}, t TEXT)"}}).ok());
  auto synchronous = [](Session& s, int64_t* out) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("PRAGMA synchronous"));
    *out = rs.rows.at(0).Int(0);
    return Status::Ok();
  };
  int64_t writer_sync = -1, reader_sync = -1;
  ASSERT_TRUE((*db)->Write([&](Session& s) { return synchronous(s, &writer_sync); }).ok());
  ASSERT_TRUE((*db)->Read([&](Session& s) { return synchronous(s, &reader_sync); }).ok());
  EXPECT_EQ(writer_sync, 1);  // NORMAL
  EXPECT_EQ(reader_sync, 2);  // FULL
  const int64_t flushes_before = (*db)->Stats().flushes;
  constexpr int kWrites = 200;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, acknowledged_before_a_flush = 0;
  for (int i = 0; i < kWrites; ++i) {
    (*db)->WriteAsync([i](Session& s) { return s.Exec("INSERT INTO texts (t) VALUES (?)", {std::to_string(i)}).status(); },
                      [&, db = db->get()](Status st) {
                        bool flushed = db->Stats().flushes > flushes_before;
                        std::lock_guard lock(mu);
                        EXPECT_TRUE(st.ok()) << st.message();
                        if (!flushed) acknowledged_before_a_flush++;
                        done++;
                        cv.notify_one();
                      });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == kWrites; });
  EXPECT_EQ(acknowledged_before_a_flush, 0);
  auto stats = (*db)->Stats();
  EXPECT_GT(stats.flushes, flushes_before);
  EXPECT_LE(stats.flushes, stats.write_batches);
}

int64_t ReadQty(Database& db) {
  int64_t qty = -1;
  Status st = db.Read([&](Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT qty FROM counters WHERE id = 1"));
    qty = rs.rows.at(0).Int(0);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  return qty;
}

// A store on `dir` with `readers` reader connections and a one-row table `counters` holding `qty`
// (made by the first store opened on the directory).
std::unique_ptr<Database> OpenCounters(const std::string& dir, int readers, std::optional<int64_t> qty) {
  auto db = Open("", dir, readers);
  EXPECT_TRUE(db.ok()) << db.status().message();
  if (!db.ok()) return nullptr;
  EXPECT_TRUE(ApplyMigrations(**db, {{1, "counters", "CREATE TABLE counters (id {{ID}}, qty INTEGER)"}}).ok());
  if (qty) {
    EXPECT_TRUE((*db)->Write([&](Session& s) {
      return s.Exec("INSERT INTO counters (id, qty) VALUES (1, ?)", {*qty}).status();
    }).ok());
  }
  return std::move(*db);
}

Status WriteQty(Database& db, int64_t qty) {
  return db.Write([qty](Session& s) { return s.Exec("UPDATE counters SET qty = ? WHERE id = 1", {qty}).status(); });
}

TEST(SqliteReadSnapshotTest, AReaderKeepsItsSnapshotOnlyWhileNothingWasCommitted) {
  // A reader keeps its read transaction open between works and reuses it while the WAL index header
  // says nothing was committed. A commit by another connection to the file (here a second store on
  // it, as another process would be: this store's writer never sees it) must be seen by the very
  // next read; reads with no commit between them reuse the snapshot.
  testing::ScratchStore store("sqlite");
  auto a = OpenCounters(store.data_dir(), 1, 0);
  ASSERT_NE(a, nullptr);
  auto b = OpenCounters(store.data_dir(), 1, std::nullopt);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(ReadQty(*a), 0);
  for (int64_t i = 1; i <= 50; ++i) {
    ASSERT_TRUE(WriteQty(i % 2 ? *b : *a, i).ok());
    ASSERT_EQ(ReadQty(*a), i) << "a read did not see the commit just before it";
    ASSERT_EQ(ReadQty(*b), i);
  }
  const int64_t reused_before = a->Stats().read_snapshots_reused;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(ReadQty(*a), 50);
  EXPECT_GE(a->Stats().read_snapshots_reused - reused_before, 9);
  // A failed work ends the transaction; the next read starts afresh and sees the newest commit.
  EXPECT_FALSE(a->Read([](Session& s) { return s.Query("SELECT nope FROM counters").status(); }).ok());
  ASSERT_TRUE(WriteQty(*b, 99).ok());
  EXPECT_EQ(ReadQty(*a), 99);
}

TEST(SqliteReadSnapshotTest, IdleReadersLetGoOfTheirSnapshotSoTheWalCanStartOver) {
  // A reader's kept snapshot holds a read mark on the WAL, which stops the WAL from starting over
  // (here: a TRUNCATE checkpoint, which needs every reader off the WAL, reports itself blocked). An
  // idle reader lets go of it when the syncer flushes a newer commit (stale), and in any case before
  // the checkpointer's next pass (at least once a second).
  testing::ScratchStore store("sqlite");
  auto db = OpenCounters(store.data_dir(), 2, 7);
  ASSERT_NE(db, nullptr);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((store.data_dir() + "/thanglong.db").c_str(), &raw), SQLITE_OK);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{raw};
  auto truncate_blocked = [raw]() -> int {  // 1 while some reader holds a read mark on the WAL
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(raw, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, nullptr) != SQLITE_OK) return -1;
    int busy = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return busy;
  };
  // Blocked, retried briefly: the store's checkpointer may hold the checkpoint lock for a moment.
  auto blocked_now = [&] {
    int busy = truncate_blocked();
    for (int i = 0; i < 3 && busy == 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      busy = truncate_blocked();
    }
    return busy;
  };

  // 1. Stale: a commit flushed after the read frees the reader's snapshot right after it is acknowledged.
  ASSERT_TRUE(WriteQty(*db, 8).ok());
  EXPECT_EQ(ReadQty(*db), 8);  // the reader now holds a snapshot that reads from the WAL
  EXPECT_EQ(truncate_blocked(), 1) << "the reader did not keep its snapshot";
  ASSERT_TRUE(WriteQty(*db, 9).ok());
  EXPECT_EQ(blocked_now(), 0) << "an idle reader kept a stale snapshot after the next flush";

  // 2. Current: nothing committed after the read, so only the checkpointer's pass frees it.
  ASSERT_TRUE(WriteQty(*db, 10).ok());
  EXPECT_EQ(ReadQty(*db), 10);
  EXPECT_EQ(truncate_blocked(), 1) << "the reader did not keep its snapshot";
  int busy = 1;
  for (int i = 0; i < 50 && busy == 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    busy = truncate_blocked();
  }
  EXPECT_EQ(busy, 0) << "an idle reader still holds its snapshot after 5 s";
  EXPECT_EQ(std::filesystem::file_size(store.data_dir() + "/thanglong.db-wal"), 0u);
  EXPECT_EQ(ReadQty(*db), 10);
  ASSERT_TRUE(WriteQty(*db, 11).ok());  // the WAL started over under the reader's feet: still exact
  EXPECT_EQ(ReadQty(*db), 11);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

TEST(PostgresHelpersTest, RewritesPlaceholdersOutsideQuotes) {
  EXPECT_EQ(RewritePlaceholders("SELECT ? , '?', ?"), "SELECT $1 , '?', $2");
  EXPECT_EQ(MaskPostgresUrl("postgresql://tl:secret@db:5432/x"), "postgresql://tl:***@db:5432/x");
  EXPECT_EQ(MaskPostgresUrl("postgresql://tl@db/x"), "postgresql://tl@db/x");
}

TEST(BackendsTest, PostgresIsPartOfTheRunUnlessExplicitlyExcluded) {
  const char* only = std::getenv("THANGLONG_TEST_SQLITE_ONLY");
  if (only && std::string(only) == "1") {
    std::cout << "[ NOTE     ] THANGLONG_TEST_SQLITE_ONLY=1: PostgreSQL cases were excluded on request\n";
    return;
  }
  const char* url = std::getenv("THANGLONG_TEST_POSTGRES_URL");
  ASSERT_TRUE(url && *url) << "THANGLONG_TEST_POSTGRES_URL is not set: run scripts/test.sh";
}

}  // namespace
}  // namespace tl::storage
