#include "storage/sqlite/sqlite_database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/periodic.h"
#include "core/thread_name.h"
#include "storage/sqlite/page_cache.h"
#include "storage/sqlite/wal_buffer_vfs.h"

namespace tl::storage {
namespace {

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return AlreadyExists(msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return FailedPrecondition(msg);
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) return Unavailable(msg);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return InvalidArgument(msg);
  return Internal(msg);
}

class SqliteConnection final : public Session {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<ResultSet> Query(std::string_view sql, std::initializer_list<Value> params) override {
    return Run(sql, params.begin(), params.size(), true).first;
  }
  Result<ResultSet> QueryV(std::string_view sql, const std::vector<Value>& params) override {
    return Run(sql, params.data(), params.size(), true).first;
  }
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params) override {
    auto [rs, changes] = Run(sql, params.begin(), params.size(), false);
    if (!rs.ok()) return rs.status();
    return changes;
  }
  Result<int64_t> ExecV(std::string_view sql, const std::vector<Value>& params) override {
    auto [rs, changes] = Run(sql, params.data(), params.size(), false);
    if (!rs.ok()) return rs.status();
    return changes;
  }
  Status ExecScript(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (err) sqlite3_free(err);
    if (rc != SQLITE_OK) return FromSqlite(db_, rc, "script");
    return Status::Ok();
  }

  // A statement without parameters or rows (BEGIN, SAVEPOINT, COMMIT, PRAGMA ...), prepared once per
  // connection: the group-commit loop runs several per write, and parsing them every time took a
  // tenth of the single writer's time.
  Status Simple(const char* sql) {
    auto [result, changes] = Run(sql, nullptr, 0, false);
    (void)changes;
    return result.status();
  }

  void AfterCommit(std::function<void()> fn) override { after_commit_.Add(std::move(fn)); }
  CommitCallbacks& after_commit() { return after_commit_; }
  TransactionCache* transaction_cache() override { return caching_ ? &transaction_cache_ : nullptr; }
  // The writer's batches share their values through the cache (RunBatch turns it on for each).
  TransactionCache& batch_cache() { return transaction_cache_; }
  void set_caching(bool on) { caching_ = on; }
  sqlite3* handle() const { return db_; }

  // A reader's read transaction, kept open between works while nothing was committed (see
  // SqliteDatabase::Read). Whether anything was: the WAL index header in the shared memory every
  // connection to the file maps (SQLite's own readers look at it to decide whether their page cache
  // still holds; its writer rewrites it on every commit and whenever the WAL starts over), compared
  // with a copy taken before the transaction began. Its 48 bytes hold the commit counter, the WAL's
  // last frame, its salts and checksum. A read of it torn by a commit in progress can only look like
  // the older header, as if the work had run just before that commit returned.
  static constexpr size_t kWalHeaderBytes = 48;
  bool read_open() const { return read_open_; }
  // Maps region 0 of the file's WAL index (SQLite opens the shared memory for this connection if it
  // has not yet; the file is in WAL mode from Connect on) and keeps the address for the connection's
  // life; false when SQLite gives no mapping (another VFS, not WAL): the transaction is then never kept.
  bool MapWalIndex() {
    if (wal_index_) return true;
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
        !file->pMethods || file->pMethods->iVersion < 2 || !file->pMethods->xShmMap) {
      return false;
    }
    volatile void* region = nullptr;
    if (file->pMethods->xShmMap(file, 0, 32768, 0, &region) != SQLITE_OK || !region) return false;
    wal_index_ = static_cast<const volatile uint32_t*>(region);
    return true;
  }
  void CopyWalHeader(uint32_t (&out)[kWalHeaderBytes / 4]) const {
    for (size_t i = 0; i < kWalHeaderBytes / 4; ++i) out[i] = wal_index_[i];
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  // Starts a read transaction, noting the header first: the snapshot the first statement takes is
  // then at least as new as the note.
  Status BeginRead() {
    if (MapWalIndex()) CopyWalHeader(header_at_begin_);
    TL_RETURN_IF_ERROR(Simple("BEGIN"));
    read_open_ = true;
    return Status::Ok();
  }
  // True when the open read transaction still sees the newest commit.
  bool ReadIsCurrent() const {
    if (!read_open_ || !wal_index_) return false;
    uint32_t now[kWalHeaderBytes / 4];
    CopyWalHeader(now);
    return std::memcmp(now, header_at_begin_, kWalHeaderBytes) == 0;
  }
  Status EndRead(bool rollback) {
    read_open_ = false;
    Status st = Simple(rollback ? "ROLLBACK" : "COMMIT");
    // Never leave the connection inside a transaction the next BEGIN would trip over.
    if (!sqlite3_get_autocommit(db_)) Simple("ROLLBACK").IgnoreError();
    return st;
  }

 private:
  std::pair<Result<ResultSet>, int64_t> Run(std::string_view sql, const Value* params, size_t n, bool collect) {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);  // no copy of the text to look it up (the hash is the cost left)
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                  nullptr);
      if (rc != SQLITE_OK) return {FromSqlite(db_, rc, "prepare"), 0};
      cache_.emplace(std::string(sql), stmt);
    }
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != n) {
      return {Internal("parameter count mismatch for: " + std::string(sql)), 0};
    }
    for (size_t i = 0; i < n; ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) rc = sqlite3_bind_null(stmt, idx);
            else if constexpr (std::is_same_v<T, int64_t>) rc = sqlite3_bind_int64(stmt, idx, v);
            else if constexpr (std::is_same_v<T, double>) rc = sqlite3_bind_double(stmt, idx, v);
            else if constexpr (std::is_same_v<T, Blob>)
              rc = sqlite3_bind_blob64(stmt, idx, v.bytes.data(), v.bytes.size(), SQLITE_STATIC);
            else rc = sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
          },
          params[i]);
      if (rc != SQLITE_OK) return {FromSqlite(db_, rc, "bind"), 0};
    }
    ResultSet rs;
    int cols = sqlite3_column_count(stmt);
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return {FromSqlite(db_, rc, "step"), 0};
      if (!collect) continue;
      std::vector<std::optional<std::string>> cells;
      cells.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        int type = sqlite3_column_type(stmt, c);
        if (type == SQLITE_NULL) {
          cells.emplace_back(std::nullopt);
        } else if (type == SQLITE_BLOB) {
          const auto* b = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          cells.emplace_back(std::string(b, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        } else {
          const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          cells.emplace_back(std::string(t, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
      rs.rows.emplace_back(std::move(cells));
    }
    return {std::move(rs), sqlite3_changes64(db_)};
  }

  sqlite3* db_;
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, TextHash, std::equal_to<>> cache_;
  CommitCallbacks after_commit_;
  TransactionCache transaction_cache_;
  bool caching_ = false;
  const volatile uint32_t* wal_index_ = nullptr;  // region 0 of the file's WAL index, once mapped
  uint32_t header_at_begin_[kWalHeaderBytes / 4] = {};
  bool read_open_ = false;
};

// Process-wide settings, made once before the first connection (sqlite3_config is only allowed before
// SQLite initialises): no memory statistics. With them on (the library's default), every allocation
// and free of every connection takes one global mutex to keep the counters, which the server's
// threads then queue on; turning them off raised reads on reader connections by 15-25 % (registry
// look-ups, 2026-11-23). Nothing here reads sqlite3_memory_used. And the tracked page cache
// (page_cache.h). If the library was already initialised (a tool that opened a database first),
// these calls fail harmlessly and the defaults stay.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    // page_cache.h: spares each commit a walk over the writer's whole page cache.
    (void)InstallTrackedPageCache();
  });
}

Result<std::unique_ptr<SqliteConnection>> Connect(const std::string& path, bool readonly, int cache_mib) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  // WalBufferVfsName: the WAL frames of a commit go to the OS in a few writes (wal_buffer_vfs.h).
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, WalBufferVfsName());
  auto conn = std::make_unique<SqliteConnection>(db);  // owns db even on failure
  if (rc != SQLITE_OK) return Unavailable("cannot open " + path + ": " + sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  TL_RETURN_IF_ERROR(conn->Simple("PRAGMA journal_mode=WAL"));
  TL_RETURN_IF_ERROR(conn->Simple("PRAGMA synchronous=FULL"));
  TL_RETURN_IF_ERROR(conn->Simple("PRAGMA foreign_keys=ON"));
  // Negative: KiB (SQLite allocates the cache as it fills, so a small database never uses it all).
  const std::string cache = "PRAGMA cache_size=-" + std::to_string(int64_t{std::max(1, cache_mib)} * 1024);
  TL_RETURN_IF_ERROR(conn->Simple(cache.c_str()));
  // Savepoints' statement journals stay in memory instead of spilling to a temporary file (large
  // works avoid savepoints: WriteLarge).
  TL_RETURN_IF_ERROR(conn->Simple("PRAGMA temp_store=MEMORY"));
  if (readonly) TL_RETURN_IF_ERROR(conn->Simple("PRAGMA query_only=ON"));
  return conn;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, std::unique_ptr<SqliteConnection> writer,
                 std::vector<std::unique_ptr<SqliteConnection>> readers,
                 std::unique_ptr<SqliteConnection> checkpointer)
      : path_(std::move(path)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        checkpointer_(std::move(checkpointer)) {
    for (auto& r : readers_) idle_.push_back(r.get());
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  std::string Describe() const override { return "sqlite:" + path_; }

  // Group commit: writers queue their work; the writer thread takes everything queued (up to
  // kMaxBatch), runs each work in one transaction, each inside its own savepoint (so a failing work
  // rolls back alone), and commits once. The flush to disk happens behind the writer: its connection
  // commits with synchronous=NORMAL (in WAL mode: the frames are written, not synced) and hands the
  // batch to the syncer thread, which fdatasyncs the WAL file — one flush for every batch committed
  // since its last one — while the writer already runs the next batch. Only then does each writer
  // learn its outcome, from the acknowledger thread while the syncer flushes the next batches: Write
  // returns (its caller alone is woken), WriteAsync's callback runs. So an
  // acknowledged write is on disk, as with synchronous=FULL, but the writer never waits for the disk.
  // What this allows: another connection may read a committed write a millisecond or two before it
  // is on disk (after a power cut such a write is gone, and its writer was never told it succeeded);
  // a kill -9 loses nothing committed, since the operating system holds the written frames.
  //
  // A savepoint per work costs the writer two statements and journals every page the work changes.
  // A batch whose works are all rerunnable (WriteRerunnable, WriteAsyncRerunnable) runs without them:
  // when one of its works fails, the whole transaction is rolled back and the batch runs again, each
  // work in its savepoint, so the failure still stays the failing work's own.
  Status Write(const Work& work) override { return WriteAndWait(work, false, false); }
  Status WriteLarge(const Work& work) override { return WriteAndWait(work, true, false); }
  Status WriteRerunnable(const Work& work) override { return WriteAndWait(work, false, true); }

  Status WriteAndWait(const Work& work, bool alone, bool rerunnable) {
    struct Waiter {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      Status result;
    } waiter;
    Enqueue([&work](Session& s) { return work(s); },
            [&waiter](Status st) {
              std::lock_guard lock(waiter.mu);
              waiter.result = std::move(st);
              waiter.done = true;
              waiter.cv.notify_one();  // under the lock: `waiter` lives on the caller's stack
            },
            alone, rerunnable);
    std::unique_lock lock(waiter.mu);
    waiter.cv.wait(lock, [&] { return waiter.done; });
    return std::move(waiter.result);
  }

  void WriteAsync(Work work, std::function<void(Status)> done) override {
    Enqueue(std::move(work), std::move(done));
  }
  void WriteAsyncRerunnable(Work work, std::function<void(Status)> done) override {
    Enqueue(std::move(work), std::move(done), false, true);
  }

  ~SqliteDatabase() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_one();
    if (writer_thread_.joinable()) writer_thread_.join();
    {
      std::lock_guard lock(sync_mu_);
      sync_stopping_ = true;  // after the writer: it has handed over its last batch
    }
    sync_cv_.notify_one();
    if (syncer_thread_.joinable()) syncer_thread_.join();
    {
      std::lock_guard lock(ack_mu_);
      ack_stopping_ = true;  // after the syncer: it has handed over its last flushed batches
    }
    ack_cv_.notify_one();
    if (acknowledger_thread_.joinable()) acknowledger_thread_.join();
    if (wal_fd_ >= 0) ::close(wal_fd_);
    checkpointing_.Stop();
  }

  // Checkpoints run on a thread and connection of their own instead of inside the writer's COMMIT
  // (SQLite's automatic checkpoint took a tenth of the single writer's time under load: reading the
  // WAL's frames back, writing them to the database file and syncing it). The writer's WAL hook wakes
  // the checkpointer (a PeriodicTask: also once a second, which costs nothing with nothing to copy)
  // once the WAL holds kCheckpointPages not yet copied; a PASSIVE checkpoint never blocks the writer.
  // The WAL only starts over when a write begins after everything in it was copied, which under
  // steady writes rarely happens on its own: past kRestartPages the writer copies what is left
  // itself (SQLite's default behaviour) once that is at most kInlineCopyPages (until then it wakes
  // the checkpointer to copy the bulk; past twice kRestartPages it copies whatever is left, since
  // commits larger than that, such as NGSI-LD batches, would otherwise never leave so few), and the
  // WAL starts over. Checkpoints every 1,000 pages and a restart every 8,000 (before 2026-11-24)
  // gave lifecycle runs 4-11% fewer dossiers a second in alternating runs: each pass syncs the WAL
  // and the database file, and a page changed again and again is copied once per pass.
  static constexpr int kCheckpointPages = 16000;  // 64 MiB of 4 KiB pages
  static constexpr int kRestartPages = 32000;
  static constexpr int kInlineCopyPages = 1000;

  void StartWriter() {
    sqlite3_wal_hook(writer_->handle(), &SqliteDatabase::OnWalCommit, this);
    checkpointing_.Start(
        std::chrono::seconds(1), [this] { Checkpoint(); }, false, "tl-db-checkpt");
    acknowledger_thread_ = std::thread([this] {
      NameThisThread("tl-db-ack");
      AcknowledgerLoop();
    });
    syncer_thread_ = std::thread([this] {
      NameThisThread("tl-db-syncer");
      SyncerLoop();
    });
    writer_thread_ = std::thread([this] {
      NameThisThread("tl-db-writer");
      WriterLoop();
    });
  }

  static int OnWalCommit(void* self_ptr, sqlite3* db, const char* name, int pages) {
    auto* self = static_cast<SqliteDatabase*>(self_ptr);
    if (pages < self->last_wal_pages_) self->copied_frames_.store(0);  // the WAL started over
    self->last_wal_pages_ = pages;
    if (pages < kRestartPages) self->next_inline_checkpoint_ = kRestartPages;
    const int uncopied = pages - std::min(pages, self->copied_frames_.load());
    if (pages >= self->next_inline_checkpoint_ && (uncopied <= kInlineCopyPages || pages >= 2 * kRestartPages)) {
      // Busy: the checkpointer is at work; try again after the next commit. Done but with frames
      // left (readers still on older snapshots keep them): a checkpoint by the writer on every
      // commit meanwhile (SQLite's own habit) would sort the whole WAL each time, so the next one
      // waits for another kInlineCopyPages. Idle readers' kept reads end first: a reader still on
      // the WAL (even on its newest snapshot) stops it from starting over, and under load some reader
      // always is, so before 2026-11-24 the WAL never started over (1.3 GB after 15 s of the
      // lifecycle benchmark, every flush an append). Reads in flight are short; a read that begins
      // once everything is copied reads the database file alone and does not stop the restart.
      self->SweepIdleReads(/*stale_only=*/false);
      int log_frames = 0, copied_frames = 0;
      int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied_frames);
      if (rc == SQLITE_OK) {
        self->copied_frames_.store(copied_frames);
        if (copied_frames < log_frames) self->next_inline_checkpoint_ = pages + kInlineCopyPages;
      }
    } else if (uncopied >= kCheckpointPages || (pages >= self->next_inline_checkpoint_ && uncopied > 0)) {
      // Enough frames not yet copied (copied_frames_ restarts from 0 with the WAL, just above), or
      // too many left for the writer to copy before the WAL can start over.
      self->checkpointing_.Wake();
    }
    return SQLITE_OK;
  }

  void Checkpoint() {
    SweepIdleReads(/*stale_only=*/false);
    // A failure (SQLITE_BUSY while another process checkpoints) is retried on the next run.
    int log_frames = 0, copied_frames = 0;
    if (sqlite3_wal_checkpoint_v2(checkpointer_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                  &copied_frames) == SQLITE_OK) {
      copied_frames_.store(copied_frames);
    }
  }

  // A reader's read transaction stays open after its work while the WAL index can be watched, and
  // the next work on that connection runs in it when the header shows no commit since it began: no
  // BEGIN, no read lock (an fcntl on the shared-memory file and a mutex shared by every connection
  // of the process), no check of the page cache. Public status look-ups: 5.4 → 3.4 system calls per
  // request, measured with strace (2026-11-23). Otherwise it is ended and a new one begun. Reads are
  // as fresh as before: any commit that returned before the work started is seen.
  Status Read(const Work& work) override {
    SqliteConnection* conn = nullptr;
    {
      std::unique_lock lock(pool_mu_);
      if (idle_.empty()) waits_++;
      pool_cv_.wait(lock, [&] { return !idle_.empty(); });
      conn = idle_.back();
      idle_.pop_back();
      in_use_++;
    }
    struct Release {
      SqliteDatabase* self;
      SqliteConnection* c;
      ~Release() {
        {
          std::lock_guard lock(self->pool_mu_);
          self->idle_.push_back(c);
          self->in_use_--;
        }
        self->pool_cv_.notify_one();
      }
    } release{this, conn};
    conn->after_commit().Clear();
    if (!conn->ReadIsCurrent()) {
      if (conn->read_open()) conn->EndRead(false).IgnoreError();
      TL_RETURN_IF_ERROR(conn->BeginRead());
    } else {
      snapshots_reused_++;
    }
    Status st = work(*conn);
    if (!st.ok()) {
      conn->EndRead(true).IgnoreError();
      rolled_back_++;
      conn->after_commit().Clear();
      return st;
    }
    // Kept open for the next work on this connection (which ends it if a commit came since, as does
    // SweepIdleReads); ended at once when the WAL index cannot be watched (ReadIsCurrent is then
    // false), or when a commit came during this work (the next work could not reuse it, and it would
    // hold back the checkpoint).
    if (!conn->ReadIsCurrent()) st = conn->EndRead(false);
    if (st.ok()) {
      committed_++;
      conn->after_commit().RunAndClear();
    } else {
      rolled_back_++;
      conn->after_commit().Clear();
    }
    return st;
  }

  // Ends the read transactions idle readers keep open (with `stale_only`, those on a snapshot older
  // than the newest commit). A kept snapshot holds a read mark on the WAL: the checkpoint copies
  // frames only up to the oldest snapshot in use, and the WAL starts over only when no reader holds a
  // mark. So the syncer runs this after each flush (stale only: the commits it flushed made them so)
  // and the checkpointer before each pass, at least once a second (all of them). A reader in use is
  // skipped; its next work ends or renews its own.
  void SweepIdleReads(bool stale_only) {
    // Taken out of the pool under its lock and ended outside it (each end is a system call or two that
    // readers asking for a connection should not wait on), then put back.
    std::vector<SqliteConnection*> ending;
    {
      std::lock_guard lock(pool_mu_);
      for (auto it = idle_.begin(); it != idle_.end();) {
        if ((*it)->read_open() && !(stale_only && (*it)->ReadIsCurrent())) {
          ending.push_back(*it);
          it = idle_.erase(it);
        } else {
          ++it;
        }
      }
      in_use_ += static_cast<int64_t>(ending.size());
    }
    if (ending.empty()) return;
    for (auto* c : ending) c->EndRead(false).IgnoreError();
    {
      std::lock_guard lock(pool_mu_);
      // Stale ones at the cold end; current ones (their cache still holds) back at the warm end, in
      // the order they were in.
      idle_.insert(stale_only ? idle_.begin() : idle_.end(), ending.begin(), ending.end());
      in_use_ -= static_cast<int64_t>(ending.size());
    }
    pool_cv_.notify_all();
  }

  Status Ping() override {
    return Read([](Session& s) { return s.Query("SELECT 1").status(); });
  }

  PoolStats Stats() const override {
    PoolStats st;
    st.connections_total = static_cast<int64_t>(readers_.size()) + 1;
    st.connections_in_use = in_use_.load();
    st.transactions_committed = committed_.load();
    st.transactions_rolled_back = rolled_back_.load();
    st.waits_for_connection = waits_.load();
    st.write_batches = batches_.load();
    st.write_batch_reruns = reruns_.load();
    st.flushes = flushes_.load();
    st.read_snapshots_reused = snapshots_reused_.load();
    return st;
  }

 private:
  struct Pending {
    Work work;
    std::function<void(Status)> done;
    Status result;
    bool alone = false;       // runs in a transaction of its own (WriteLarge)
    bool rerunnable = false;  // may run again after a rollback (WriteRerunnable, WriteAsyncRerunnable)
  };
  static constexpr size_t kMaxBatch = 512;

  void Enqueue(Work work, std::function<void(Status)> done, bool alone = false, bool rerunnable = false) {
    bool wake;
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) {
        done(Unavailable("the store is closing"));
        return;
      }
      wake = queue_.empty();
      queue_.push_back(Pending{std::move(work), std::move(done), Status::Ok(), alone, rerunnable});
    }
    if (wake) queue_cv_.notify_one();
  }

  void WriterLoop() {
    std::vector<Pending> batch;
    while (true) {
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every queued work has run
        while (!queue_.empty() && batch.size() < kMaxBatch) {
          if (queue_.front().alone && !batch.empty()) break;  // a large work starts a batch of its own
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (batch.back().alone) break;  // and ends it
        }
      }
      if (RunBatch(batch)) {
        {
          std::lock_guard lock(sync_mu_);
          to_sync_.push_back(std::move(batch));
        }
        sync_cv_.notify_one();
      } else {
        Acknowledge(batch, Status::Ok());  // nothing was committed: nothing to wait for
      }
      batch = {};
    }
  }

  // Tells each work's caller its outcome; `durable` not OK fails the works that had succeeded.
  static void Acknowledge(std::vector<Pending>& batch, const Status& durable) {
    for (Pending& p : batch) {
      try {
        p.done(p.result.ok() && !durable.ok() ? durable : std::move(p.result));
      } catch (...) {
        // A callback's failure is its own; the thread goes on.
      }
    }
  }

  // Flushes back to back: the acknowledgements of what a flush covered (the callbacks, which render
  // answers, and the end of stale reads) run on the acknowledger's thread while the next flush is
  // under way. On the syncer's own thread they held back the next flush (a lifecycle run spent ~2 ms
  // between flushes of ~1.7 ms each, its callbacks and the other threads sharing two cores).
  void SyncerLoop() {
    while (true) {
      std::deque<std::vector<Pending>> batches;
      {
        std::unique_lock lock(sync_mu_);
        sync_cv_.wait(lock, [&] { return sync_stopping_ || !to_sync_.empty(); });
        if (to_sync_.empty()) return;  // stopping, and every committed batch was handed on
        batches.swap(to_sync_);
      }
      // Every frame of these batches was written before this call, so one flush covers them all.
      Status durable = SyncWal();
      {
        std::lock_guard lock(ack_mu_);
        for (auto& batch : batches) to_ack_.emplace_back(std::move(batch), durable);
      }
      ack_cv_.notify_one();
    }
  }

  void AcknowledgerLoop() {
    while (true) {
      std::deque<std::pair<std::vector<Pending>, Status>> flushed;
      {
        std::unique_lock lock(ack_mu_);
        ack_cv_.wait(lock, [&] { return ack_stopping_ || !to_ack_.empty(); });
        if (to_ack_.empty()) return;  // stopping, and every flushed batch was acknowledged
        flushed.swap(to_ack_);
      }
      for (auto& [batch, durable] : flushed) Acknowledge(batch, durable);
      // These commits made every idle reader's kept snapshot stale; let go of them now rather than at
      // the checkpointer's next pass (after the acknowledgements, which must not wait on it).
      SweepIdleReads(/*stale_only=*/true);
    }
  }

  // fdatasync of the WAL file, through a descriptor of the syncer's own (a flush covers the file,
  // whichever descriptor wrote it). The WAL exists from the first connection on: SQLite creates it
  // when a database in WAL mode is opened, and deletes it only when the last connection closes.
  Status SyncWal() {
    if (wal_fd_ < 0) {
      const std::string wal = path_ + "-wal";
      wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
      if (wal_fd_ < 0) return Internal("cannot open " + wal + " to flush it: " + std::strerror(errno));
      // Its directory entry too, once, so that the file itself survives a power cut.
      std::string dir = std::filesystem::path(wal).parent_path().string();
      int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
      }
    }
    if (::fdatasync(wal_fd_) != 0) {
      return Internal(std::string("the write was committed but flushing it to disk failed: ") + std::strerror(errno));
    }
    flushes_++;
    return Status::Ok();
  }

  // Runs the batch in one transaction; true when it committed (some of its works may have failed).
  bool RunBatch(std::vector<Pending>& batch) {
    in_use_++;
    batches_++;
    Status begin = writer_->Simple("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (Pending& p : batch) p.result = begin;
      in_use_--;
      return false;
    }
    int succeeded = 0;
    CommitCallbacks& after_commit = writer_->after_commit();
    after_commit.Clear();
    TransactionCache& cache = writer_->batch_cache();
    cache.Clear();
    writer_->set_caching(true);
    struct CachingOff {
      SqliteConnection* c;
      ~CachingOff() {
        c->batch_cache().Clear();
        c->set_caching(false);
      }
    } caching_off{writer_.get()};
    // A work alone in its transaction (always so for WriteLarge) needs no savepoint: when it fails,
    // the whole transaction is rolled back.
    const bool alone = batch.size() == 1;
    auto run = [](Pending& p, Session& s) -> Status {
      try {
        return p.work(s);
      } catch (const std::exception& e) {
        return Internal(std::string("storage work threw: ") + e.what());
      }
    };
    // Rerunnable works together: no savepoints unless one fails (Write's comment). After a rerun the
    // next batches keep their savepoints: when works fail often (a client sending stale versions over
    // and over), each failure would otherwise run a whole batch twice.
    bool savepoints = !alone;
    if (savepoints && savepoint_batches_left_ > 0) {
      savepoint_batches_left_--;
    } else if (savepoints && std::all_of(batch.begin(), batch.end(), [](const Pending& p) { return p.rerunnable; })) {
      savepoints = false;
      for (Pending& p : batch) {
        p.result = run(p, *writer_);
        if (p.result.ok()) {
          succeeded++;
          continue;
        }
        // Its statements so far cannot be taken back alone: everything is, and the batch runs again.
        savepoints = true;
        succeeded = 0;
        reruns_++;
        savepoint_batches_left_ = kSavepointBatchesAfterRerun;
        after_commit.Clear();
        cache.Clear();
        writer_->Simple("ROLLBACK").IgnoreError();
        Status again = writer_->Simple("BEGIN IMMEDIATE");
        if (!again.ok()) {
          for (Pending& q : batch) q.result = again;
          in_use_--;
          return false;
        }
        break;
      }
    }
    for (Pending& p : batch) {
      if (!savepoints && !alone) break;  // ran above, every work succeeded
      Status sp = alone ? Status::Ok() : writer_->Simple("SAVEPOINT work");
      if (!sp.ok()) {
        p.result = sp;
        continue;
      }
      const size_t mark = after_commit.Mark();
      const size_t cache_mark = cache.Mark();
      Status st = run(p, *writer_);
      if (st.ok()) {
        if (!alone) st = writer_->Simple("RELEASE work");
        if (st.ok()) succeeded++;
      } else if (!alone) {
        after_commit.DropFrom(mark);
        cache.DropFrom(cache_mark);
        writer_->Simple("ROLLBACK TO work").IgnoreError();
        writer_->Simple("RELEASE work").IgnoreError();
        rolled_back_++;
      }
      p.result = st;
    }
    if (alone && !batch.front().result.ok()) {
      after_commit.Clear();
      writer_->Simple("ROLLBACK").IgnoreError();
      rolled_back_++;
      in_use_--;
      return false;
    }
    // The values the works shared are written once, inside the transaction, before it commits.
    Status commit = cache.Flush(*writer_);
    if (commit.ok()) commit = writer_->Simple("COMMIT");
    if (!commit.ok()) {
      after_commit.Clear();
      writer_->Simple("ROLLBACK").IgnoreError();
      for (Pending& p : batch) {
        if (p.result.ok()) {
          p.result = commit;
          rolled_back_++;
        }
      }
      in_use_--;
      return false;
    } else {
      committed_ += succeeded;
      try {
        after_commit.RunAndClear();
      } catch (...) {
        // A cache's callback failing must not stop the writer: at worst the cache misses.
        after_commit.Clear();
      }
    }
    in_use_--;
    return true;
  }

  std::string path_;
  std::unique_ptr<SqliteConnection> writer_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  std::unique_ptr<SqliteConnection> checkpointer_;
  PeriodicTask checkpointing_;  // stopped in the destructor, before the connections close
  static constexpr int kSavepointBatchesAfterRerun = 16;
  int savepoint_batches_left_ = 0;                        // the writer thread's alone (RunBatch)
  int next_inline_checkpoint_ = kRestartPages;            // the writer thread's alone (its WAL hook)
  int last_wal_pages_ = 0;                                // likewise
  std::atomic<int> copied_frames_{0};                    // by the checkpointer's last pass
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;
  // The committed batches waiting for the syncer's flush, in commit order.
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<std::vector<Pending>> to_sync_;
  bool sync_stopping_ = false;
  std::thread syncer_thread_;
  // The flushed batches (with the flush's outcome) waiting for their callbacks, in commit order.
  std::mutex ack_mu_;
  std::condition_variable ack_cv_;
  std::deque<std::pair<std::vector<Pending>, Status>> to_ack_;
  bool ack_stopping_ = false;
  std::thread acknowledger_thread_;
  int wal_fd_ = -1;  // the syncer thread's alone
  std::atomic<int64_t> flushes_{0};
  std::atomic<int64_t> batches_{0}, reruns_{0};
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<SqliteConnection*> idle_;
  std::atomic<int64_t> in_use_{0}, committed_{0}, rolled_back_{0}, waits_{0}, snapshots_reused_{0};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path, int readers, SqliteCacheSizes caches) {
  TL_ASSIGN_OR_RETURN(auto writer, Connect(path, false, caches.writer_mib));
  // The writer's commits are flushed by the syncer thread before anyone is told (see Write).
  TL_RETURN_IF_ERROR(writer->Simple("PRAGMA synchronous=NORMAL"));
  std::vector<std::unique_ptr<SqliteConnection>> pool;
  for (int i = 0; i < std::max(1, readers); ++i) {
    TL_ASSIGN_OR_RETURN(auto r, Connect(path, true, caches.reader_mib));
    pool.push_back(std::move(r));
  }
  TL_ASSIGN_OR_RETURN(auto checkpointer, Connect(path, false, 2));  // copies WAL frames; reads little
  auto db = std::make_unique<SqliteDatabase>(path, std::move(writer), std::move(pool), std::move(checkpointer));
  db->StartWriter();
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace tl::storage
