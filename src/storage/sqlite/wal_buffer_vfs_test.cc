// The WAL-buffering VFS against real SQLite files. A "crash image" is a copy of the database and its
// WAL (not the shared-memory index) taken right after a commit returned: what the disk would hold if
// the process died then. Opened with the default VFS, SQLite rebuilds the WAL index from the WAL file,
// checking every frame's checksum chain, and keeps only the transactions whose frames are all there.
#include "storage/sqlite/wal_buffer_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "storage/sqlite/raw_db_for_test.h"
#include "tests/support/scratch_store.h"

namespace tl::storage {
namespace {

namespace fs = std::filesystem;

using Db = RawDb;

// Opens `dir`/a.db the way the store's writer does: WAL, synchronous=NORMAL (the store's syncer
// flushes), no checkpoints of SQLite's own (so every commit stays in the WAL).
void Configure(Db& db, int cache_pages = 2000) {
  db.One("PRAGMA journal_mode=WAL");
  db.Exec("PRAGMA synchronous=NORMAL");
  db.Exec("PRAGMA wal_autocheckpoint=0");
  db.Exec("PRAGMA cache_size=" + std::to_string(cache_pages));
}

// Copies the database and its WAL to `to` and opens the copy with the default VFS.
std::string CrashImage(const std::string& dir, const std::string& to, const std::string& sql) {
  fs::create_directories(to);
  fs::remove(to + "/a.db");
  fs::remove(to + "/a.db-wal");
  fs::remove(to + "/a.db-shm");
  fs::copy_file(dir + "/a.db", to + "/a.db");
  fs::copy_file(dir + "/a.db-wal", to + "/a.db-wal");
  Db copy(to + "/a.db", nullptr);
  EXPECT_EQ(copy.One("PRAGMA integrity_check"), "ok");
  return copy.One(sql);
}

int64_t WriteCalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return -1;
}

TEST(WalBufferVfsTest, IsAvailableOnThisPlatform) {
  ASSERT_NE(WalBufferVfsName(), nullptr);
}

TEST(WalBufferVfsTest, EveryCommitIsInTheFileWhenItReturns) {
  testing::ScratchStore store("sqlite");
  const std::string dir = store.data_dir();
  Db db(dir + "/a.db", WalBufferVfsName());
  Configure(db);
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  int64_t rows = 0;
  // Small commits, then ones far larger than the buffer (1 MiB) and than one write of the Unix VFS
  // (128 KiB): each must be whole in the crash image, and nothing after it.
  for (int round = 0; round < 6; ++round) {
    const int n = round < 3 ? 3 : 3000;
    db.Exec("BEGIN");
    for (int i = 0; i < n; ++i) {
      db.Exec("INSERT INTO t (v) VALUES (printf('%.*c', 900, 'x'))");
      rows++;
    }
    db.Exec("COMMIT");
    EXPECT_EQ(CrashImage(dir, dir + "/image", "SELECT count(*) FROM t"), std::to_string(rows)) << "round " << round;
  }
  db.Exec("BEGIN");
  db.Exec("INSERT INTO t (v) VALUES ('not committed')");
  EXPECT_EQ(CrashImage(dir, dir + "/image", "SELECT count(*) FROM t"), std::to_string(rows));
  db.Exec("ROLLBACK");
}

TEST(WalBufferVfsTest, FramesSpilledAndOverwrittenInPlaceRecoverWithTheirRewrittenChecksums) {
  // A page cache of 10 pages makes SQLite write a large transaction's pages to the WAL before the
  // commit. Changing those pages again overwrites their frames in place, and at the commit SQLite
  // rewrites the checksums of every frame from the first overwritten one on: writes below the end of
  // the file, which must reach the file as well as the appended ones.
  testing::ScratchStore store("sqlite");
  const std::string dir = store.data_dir();
  Db db(dir + "/a.db", WalBufferVfsName());
  Configure(db, 10);
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  db.Exec("BEGIN");
  for (int i = 0; i < 400; ++i) db.Exec("INSERT INTO t (v) VALUES (printf('%.*c', 900, 'a'))");
  for (int pass = 0; pass < 3; ++pass)
    db.Exec("UPDATE t SET v = printf('%.*c', 900, '" + std::string(1, 'b' + pass) + "')");
  db.Exec("COMMIT");
  EXPECT_EQ(CrashImage(dir, dir + "/image", "SELECT count(*) || ' ' || min(v = printf('%.*c', 900, 'd')) FROM t"),
            "400 1");
  // The same connection reads what it wrote (reads of the WAL go through the buffer's flush).
  EXPECT_EQ(db.One("SELECT count(*) FROM t WHERE v = printf('%.*c', 900, 'd')"), "400");
}

TEST(WalBufferVfsTest, ACommitOfManyPagesTakesFewWriteCalls) {
  // Without the VFS, SQLite makes two write calls per frame (header, page).
  testing::ScratchStore store("sqlite");
  const std::string dir = store.data_dir();
  auto calls_for_commit = [&](const char* vfs, const std::string& name) {
    Db db(dir + "/" + name, vfs);
    Configure(db);
    db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    db.Exec("BEGIN");
    for (int i = 0; i < 800; ++i) db.Exec("INSERT INTO t (v) VALUES (printf('%.*c', 900, 'x'))");
    int64_t before = WriteCalls();
    db.Exec("COMMIT");  // ~200 pages of 4 KiB
    return WriteCalls() - before;
  };
  int64_t plain = calls_for_commit(nullptr, "plain.db");
  int64_t buffered = calls_for_commit(WalBufferVfsName(), "buffered.db");
  ASSERT_GE(plain, 0) << "/proc/self/io is not readable";
  EXPECT_GE(plain, 400);
  EXPECT_LE(buffered, 20) << "plain: " << plain;
}

TEST(WalBufferVfsTest, TwoConnectionsTakingTurnsSeeEachOthersCommits) {
  // As two processes on one file: each one's next frames start where the other's ended.
  testing::ScratchStore store("sqlite");
  const std::string dir = store.data_dir();
  Db a(dir + "/a.db", WalBufferVfsName());
  Configure(a);
  a.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
  a.Exec("INSERT INTO t (id, v) VALUES (1, 0)");
  Db b(dir + "/a.db", WalBufferVfsName());
  Configure(b);
  for (int i = 1; i <= 40; ++i) {
    Db& w = i % 2 ? b : a;
    Db& r = i % 2 ? a : b;
    w.Exec("UPDATE t SET v = " + std::to_string(i) + " WHERE id = 1");
    ASSERT_EQ(r.One("SELECT v FROM t WHERE id = 1"), std::to_string(i));
  }
  EXPECT_EQ(CrashImage(dir, dir + "/image", "SELECT v FROM t WHERE id = 1"), "40");
}

}  // namespace
}  // namespace tl::storage
