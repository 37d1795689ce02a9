// The tracked page cache (page_cache.h) against real SQLite files: it must skip the truncations that
// have nothing to drop, and must still drop every page a rolled-back transaction left past the end of
// the database, so a connection reads what a fresh connection reads.
//
// Its own test binary: SQLite takes a page cache only before it initialises, so nothing may open a
// database in this process before the first test installs the wrapper.
#include "storage/sqlite/page_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "storage/database.h"
#include "storage/sqlite/raw_db_for_test.h"
#include "tests/support/scratch_store.h"

namespace tl::storage {
namespace {

namespace fs = std::filesystem;

using Db = RawDb;

class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InstallTrackedPageCache()) << "SQLite was initialised before the test could install the cache";
    dir_ = fs::temp_directory_path() / ("tl-page-cache-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path() const { return (dir_ / "a.db").string(); }

  static void Configure(Db& db) {
    EXPECT_EQ(db.One("PRAGMA journal_mode=WAL"), "wal");
    db.Exec("PRAGMA cache_size=-65536");
    db.Exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)");
    // Random keys: inserts split and rebalance this index's pages, which is what parks a page on
    // the pending-byte key.
    db.Exec("CREATE INDEX IF NOT EXISTS t_k ON t (k)");
  }

  // A digest of the table as a connection sees it, index included.
  static std::string Digest(Db& db) {
    return db.One(
        "SELECT count(*) || ':' || total(length(v)) || ':' || "
        "(SELECT group_concat(k, ',') FROM (SELECT k FROM t INDEXED BY t_k ORDER BY k LIMIT 50 OFFSET 100)) "
        "FROM t");
  }

  fs::path dir_;
};

TEST_F(PageCacheTest, CommitsAfterRebalancesSkipTheTruncation) {
  Db db(Path());
  Configure(db);
  PageCacheCounts before = TrackedPageCacheCounts();
  for (int i = 0; i < 200; ++i) {
    db.Exec("BEGIN");
    db.Exec(
        "INSERT INTO t (k, v) SELECT hex(randomblob(12)), hex(randomblob(40)) FROM "
        "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 16) SELECT x FROM n)");
    db.Exec("COMMIT");
  }
  PageCacheCounts after = TrackedPageCacheCounts();
  // Every one of the 200 commits asked to truncate at the database's end, with nothing past it.
  EXPECT_GE(after.skipped - before.skipped, 200);
  EXPECT_EQ(db.One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.One("SELECT count(*) FROM t"), "3200");
}

TEST_F(PageCacheTest, RolledBackGrowthIsDroppedFromTheCache) {
  Db db(Path());
  Configure(db);
  db.Exec(
      "INSERT INTO t (k, v) SELECT hex(randomblob(12)), hex(randomblob(40)) FROM "
      "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) SELECT x FROM n)");
  const std::string pages_before = db.One("PRAGMA page_count");
  PageCacheCounts before = TrackedPageCacheCounts();
  // Grow the file by hundreds of pages, then roll back: those pages are past the end again and must
  // leave the cache, or the next growth would find their stale contents there.
  db.Exec("BEGIN");
  db.Exec(
      "INSERT INTO t (k, v) SELECT hex(randomblob(12)), hex(randomblob(400)) FROM "
      "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) SELECT x FROM n)");
  EXPECT_GT(std::stoi(db.One("PRAGMA page_count")), std::stoi(pages_before) + 100);
  db.Exec("ROLLBACK");
  // The same within a transaction: a savepoint that grew the file, rolled back.
  db.Exec("BEGIN");
  db.Exec("INSERT INTO t (k, v) VALUES ('kept', 'kept')");
  db.Exec("SAVEPOINT grow");
  db.Exec(
      "INSERT INTO t (k, v) SELECT hex(randomblob(12)), hex(randomblob(400)) FROM "
      "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) SELECT x FROM n)");
  db.Exec("ROLLBACK TO grow");
  db.Exec("RELEASE grow");
  db.Exec("COMMIT");
  PageCacheCounts after = TrackedPageCacheCounts();
  EXPECT_GE(after.passed - before.passed, 2) << "the truncations after the rollbacks were skipped";
  EXPECT_EQ(db.One("PRAGMA page_count"), pages_before);
  // Grow again with other rows: the pages get the numbers the rolled-back ones had.
  for (int i = 0; i < 20; ++i) {
    db.Exec(
        "INSERT INTO t (k, v) SELECT hex(randomblob(12)), hex(randomblob(300)) FROM "
        "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50) SELECT x FROM n)");
  }
  EXPECT_EQ(db.One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.One("SELECT count(*) FROM t"), "3001");
  // A fresh connection, with an empty cache, reads the same.
  Db fresh(Path());
  EXPECT_EQ(Digest(db), Digest(fresh));
  EXPECT_EQ(fresh.One("PRAGMA integrity_check"), "ok");
}

TEST_F(PageCacheTest, TheStoreRunsOnIt) {
  auto db = Open("", dir_.string(), 2);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  PageCacheCounts before = TrackedPageCacheCounts();
  ASSERT_TRUE((*db)
                  ->Write([](Session& s) {
                    return s.ExecScript(
                        "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL);"
                        "CREATE INDEX t_k ON t (k);");
                  })
                  .ok());
  for (int i = 0; i < 50; ++i) {
    Status st = (*db)->Write([](Session& s) -> Status {
      for (int j = 0; j < 16; ++j) {
        auto n = s.Exec("INSERT INTO t (k) VALUES (hex(randomblob(12)))");
        if (!n.ok()) return n.status();
      }
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  EXPECT_GE(TrackedPageCacheCounts().skipped - before.skipped, 50);
}

}  // namespace
}  // namespace tl::storage
