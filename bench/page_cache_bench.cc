// Commits with and without the tracked page cache (src/storage/sqlite/page_cache.h), in the same run.
//
//   build/bench/page_cache_bench [DIR] [MIB]
//
// Builds DIR/page_cache.db once (MIB of rows, 50 by default: about the store after a 15 s lifecycle
// run of bench/lifecycle.sh; with an index on random keys), then
// alternates child processes that each open it with a 256 MiB cache as the store's writer does, read
// the whole table into the cache, and time 3,000 transactions of 16 inserts into the index (a group
// commit's worth of random index entries, which makes B-tree rebalances). The baseline children use
// SQLite's default page cache, the others install the tracked one first: SQLite takes a page cache
// only before it initialises, hence one process per measurement. Synchronous=OFF: the figure is the
// CPU of a commit, not the disk's flush.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/sqlite/page_cache.h"

namespace {

int Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) std::fprintf(stderr, "%s: %s\n", sql, err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return rc;
}

int Build(const std::string& path, int mib) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 1;
  std::string fill =
      "INSERT INTO t (k, v) SELECT hex(randomblob(16)), randomblob(3000) FROM "
      "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < " +
      std::to_string(mib * 340) + ") SELECT x FROM n)";
  int rc = Exec(db, "PRAGMA journal_mode=WAL") | Exec(db, "PRAGMA synchronous=OFF") |
           Exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB)") |
           Exec(db, "CREATE INDEX t_k ON t (k)") | Exec(db, fill.c_str()) | Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_close(db);
  return rc == SQLITE_OK ? 0 : 1;
}

// One measurement; prints microseconds per commit. Runs in a child process.
int Measure(const std::string& path, bool tracked) {
  if (tracked && !tl::storage::InstallTrackedPageCache()) {
    std::fprintf(stderr, "the tracked page cache could not be installed\n");
    return 1;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 1;
  if (Exec(db, "PRAGMA synchronous=OFF") || Exec(db, "PRAGMA cache_size=-262144") ||
      Exec(db, "SELECT count(*) FROM t INDEXED BY t_k WHERE k > ''") ||
      Exec(db, "SELECT max(substr(v, 2990, 1)) FROM t")) {  // fill the cache: the index, then the rows
    return 1;
  }
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO t (k, v) VALUES (hex(randomblob(16)), 'x')", -1, &ins, nullptr) != SQLITE_OK)
    return 1;
  constexpr int kCommits = 3000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCommits; ++i) {
    if (Exec(db, "BEGIN")) return 1;
    for (int k = 0; k < 16; ++k) {
      if (sqlite3_step(ins) != SQLITE_DONE) return 1;
      sqlite3_reset(ins);
    }
    if (Exec(db, "COMMIT")) return 1;
  }
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kCommits;
  sqlite3_finalize(ins);
  // Keep the file the same size for the next child.
  if (Exec(db, "DELETE FROM t WHERE v = 'x'") || Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)")) return 1;
  sqlite3_close(db);
  std::printf("%.1f\n", us);
  return 0;
}

// Runs Measure in a child; returns its figure (or a negative number on failure).
double InChild(const std::string& path, bool tracked) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  std::fflush(stdout);  // or the child would write the parent's buffered lines too
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    int rc = Measure(path, tracked);
    std::fflush(stdout);
    std::_Exit(rc);
  }
  close(fds[1]);
  char buf[64] = {};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return std::atof(buf);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp";
  int mib = argc > 2 ? std::atoi(argv[2]) : 50;
  std::string path = dir + "/page_cache.db";
  if (!std::filesystem::exists(path)) {
    pid_t pid = fork();  // SQLite is used in a child only: the parent stays uninitialised
    if (pid == 0) std::_Exit(Build(path, mib));
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  double best_default = 1e18, best_tracked = 1e18;
  for (int round = 0; round < 3; ++round) {
    double d = InChild(path, false);
    double t = InChild(path, true);
    if (d < 0 || t < 0) {
      std::fprintf(stderr, "a measurement failed\n");
      return 1;
    }
    std::printf("round %d: default page cache %.1f us per commit, tracked %.1f us\n", round + 1, d, t);
    best_default = std::min(best_default, d);
    best_tracked = std::min(best_tracked, t);
  }
  std::printf("RESULT page_cache_default_us_per_commit %.1f\n", best_default);
  std::printf("RESULT page_cache_tracked_us_per_commit %.1f\n", best_tracked);
  std::printf("RESULT page_cache_speedup %.2f\n", best_default / best_tracked);
  return 0;
}
