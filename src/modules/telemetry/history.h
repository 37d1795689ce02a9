// Telemetry history (issue 5 §3): every measurement of every attribute of every entity, kept as time
// series in compressed chunks, with 1-minute and 1-hour rollups and retention, on the project's
// storage (SQLite or PostgreSQL). docs/telemetry.md describes the layout; in short:
//
//   telemetry_series   (tenant, entity id, attribute) → series id
//   telemetry_log      the write-ahead log: each AppendBatch adds one segment per shard (series id
//                      mod 16) in one transaction (history_format.h), so an acknowledged measurement
//                      is durable when AppendBatch returns OK (AppendInSession writes the same
//                      segments through the caller's transaction: entity_history.h)
//   telemetry_heads    one open chunk per series (chunk.h), re-encoded as the log is folded into it
//   telemetry_chunks   sealed chunks with their summary columns, keyed by (series, first_ms, seq);
//                      never updated; on PostgreSQL partitioned by month of first_ms (partitions
//                      made on demand)
//   telemetry_pending  the sealed chunks not yet added to the 1-hour tier
//   telemetry_hours    1-hour records of sealed chunks, one row per series and 30 days
//   telemetry_minutes  1-minute records of raw chunks that expired, one row per series and day
//
// Folding (Fold, and AppendBatch every `fold_after_samples` appended by this process) moves the log
// into the heads; a head is sealed into a chunk when it holds `chunk_samples`, when its span would
// pass kChunkSpanMs, or (Maintain) when it is older than that. Samples older than their series' head's
// last time are late: they become chunks of their own, so chunks of a series may overlap in time and
// every read merges them. Nothing is dropped and equal times are all kept, in arrival order.
//
// Maintain(now) folds the log, seals old heads, adds sealed chunks to the 1-hour tier, and turns raw
// chunks older than the raw retention into 1-minute records before deleting them (1-minute records
// are built when the raw samples they summarise expire: until then the chunks answer the same
// questions and the tier would only double the storage). Then it deletes 1-minute and 1-hour records
// past their retention, and on PostgreSQL drops emptied month partitions.
//
// Reads see one snapshot (SQLite: a read transaction; PostgreSQL: REPEATABLE READ) of log, heads,
// chunks and rollups, so a concurrent fold never shows a sample twice or not at all. Aggregation
// takes the coarsest tier whose records fit the periods (CoarsestTierFor): 1-hour records for chunks
// already rolled up plus the raw data not yet rolled, 1-minute records plus the raw chunks still kept,
// or raw chunks alone (then nothing older than the raw retention).
//
// Several processes may share one database (PostgreSQL scale-out, or the CLI beside a server):
// folding, sealing, rolling up and expiring read, compute, then apply their changes in one
// transaction that checks every row they were based on (log rows deleted exactly once, head and
// rollup rows at the version read, pending rows and chunks deleted only once); on a conflict the
// step is redone from the database. No process keeps state another one needs: the only memory is a cache
// of series ids (which never change) and of known partitions.
//
// Errors: InvalidArgument for bad arguments; Internal when stored bytes fail their checks (a corrupt
// chunk, log segment or rollup block; folding stops at such a row until it is repaired); storage
// errors as the backend reports them.
//
// Thread-safety: a TelemetryStore is safe to share between threads. Appends run concurrently;
// folding and maintenance are serialised within the process (an inline fold is skipped while
// another runs). An inline fold runs on the appending thread after its batch is durable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "modules/telemetry/chunk.h"
#include "modules/telemetry/rollup.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::telemetry {

// The longest time a chunk spans (last_ms − first_ms); reads look this far back for chunks.
inline constexpr int64_t kChunkSpanMs = 7 * kMillisPerDay;
// Rollup rows: a day of 1-minute records, 30 days of 1-hour records.
inline constexpr int64_t kMinuteBucketMs = kMillisPerDay;
inline constexpr int64_t kHourBucketMs = 30 * kMillisPerDay;
// Longest tenant, entity id and attribute name accepted, in bytes.
inline constexpr size_t kMaxKeyPartBytes = 1024;

struct SeriesKey {
  std::string tenant;  // the NGSILD-Tenant; empty for the default tenant
  std::string entity_id;
  std::string attribute;

  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

// One measurement for AppendBatch. The views must stay valid for the duration of the call.
struct Measurement {
  std::string_view tenant;
  std::string_view entity_id;
  std::string_view attribute;
  int64_t t_ms = 0;  // milliseconds since the Unix epoch, within [kMinTimeMs, kMaxTimeMs)
  double v = 0;      // finite
};

struct TelemetryOptions {
  RetentionPolicy retention;
  // Samples per sealed chunk (a few hundred amortise a chunk's ~20-byte header and its row).
  uint32_t chunk_samples = 256;
  // A process folds the log after appending this many measurements since its last fold (0: only
  // Fold() and Maintain() fold). Bounds the log, which reads decode in full for the shards they need.
  int64_t fold_after_samples = 500'000;
};

struct AggregationQuery {
  int64_t start_ms = 0;  // inclusive
  int64_t end_ms = 0;    // exclusive
  AggregationPeriod period;
  int32_t utc_offset_minutes = 0;  // for calendar periods (P1M, P1Y); +420 for Hà Nội
};

struct AggregationResult {
  Tier tier = Tier::kRaw;  // where the records came from (raw data not yet rolled up is always added)
  // For each requested series in order, its non-empty periods in time order (RollupRecord::agg gives
  // every method through Aggregate::Value).
  std::vector<std::vector<RollupRecord>> series;
  uint64_t rollup_records = 0;     // 1-minute or 1-hour records merged
  uint64_t chunks_summarized = 0;  // chunks taken by their summary, without decoding
  uint64_t chunks_decoded = 0;
  uint64_t log_samples = 0;  // samples still in the log
};

struct MaintenanceReport {
  int64_t folded_samples = 0;
  int64_t sealed_heads = 0;
  int64_t rolled_chunks = 0;   // added to the 1-hour tier
  int64_t expired_chunks = 0;  // raw chunks past retention, turned into 1-minute records and deleted
  int64_t expired_minute_rows = 0;
  int64_t expired_hour_rows = 0;
  int64_t dropped_partitions = 0;  // PostgreSQL
};

class TelemetryStore {
 public:
  // Migration 950. The schema differs per dialect (PostgreSQL partitions the chunks), so the
  // caller passes the database's.
  static std::vector<storage::Migration> Migrations(storage::Dialect dialect);

  // InvalidArgument for bad options. Does not apply migrations. `db` must outlive the store.
  static Result<std::unique_ptr<TelemetryStore>> Open(storage::Database* db, TelemetryOptions options = {});

  TelemetryStore(const TelemetryStore&) = delete;
  TelemetryStore& operator=(const TelemetryStore&) = delete;
  ~TelemetryStore();

  // Appends measurements in one transaction; OK means every one of them is durable. All or nothing:
  // InvalidArgument (field "measurements[i].t", ".v", ".entity_id", ...) for the first bad one.
  // Series are created on first use.
  Status AppendBatch(std::span<const Measurement> batch);
  Status Append(const Measurement& m) { return AppendBatch({&m, 1}); }
  // The same append through the caller's transaction (`session`, e.g. an entity write's): the
  // measurements are durable exactly when that transaction commits, and gone if it rolls back.
  // Series created here are not cached until read back from committed data; there is no inline
  // fold (Maintain or a later AppendBatch folds). Same validation and errors as AppendBatch.
  Status AppendInSession(storage::Session& session, std::span<const Measurement> batch);

  // The samples of a series with from_ms <= t < to_ms in time order (equal times in arrival order);
  // with last_n, only the last n of them. An unknown series has none.
  Result<std::vector<Sample>> ReadRaw(const SeriesKey& key, int64_t from_ms, int64_t to_ms,
                                      std::optional<uint32_t> last_n = std::nullopt) const;

  // Aggregates each series over the periods of `query` (see AggregationResult). From 256 series on,
  // the work is split over two threads, each half read from its own snapshot.
  Result<AggregationResult> AggregateSeries(std::span<const SeriesKey> series, const AggregationQuery& query) const;

  // The attributes of an entity that have history, sorted.
  Result<std::vector<std::string>> ListAttributes(std::string_view tenant, std::string_view entity_id) const;

  // Folds the whole log into heads and chunks now; returns the samples folded.
  Result<int64_t> Fold();
  // Idempotent; safe to run from several processes at once (see above).
  Result<MaintenanceReport> Maintain(int64_t now_ms);
  // Runs Maintain(clock->NowMillis()) every `interval` on a thread of its own (core/periodic.h) until
  // StopMaintenance() or destruction; failures go to `on_error`. Every serving process may run it.
  void StartMaintenance(const Clock* clock, std::chrono::milliseconds interval,
                        std::function<void(const Status&)> on_error);
  void StopMaintenance() { maintainer_.Stop(); }

  const TelemetryOptions& options() const { return options_; }
  // Inline folds that failed (the appends themselves had succeeded; the log is folded later).
  int64_t failed_inline_folds() const { return failed_inline_folds_.load(); }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using SeriesCache = std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>>;
  struct FoldPlan;
  struct LoadedHead;

  TelemetryStore(storage::Database* db, TelemetryOptions options);

  // Ids of `keys` (cache key form), creating missing series when `create`; 0 for unknown ones.
  Result<std::vector<int64_t>> ResolveSeries(const std::vector<std::string>& keys, bool create) const;
  // The same through `s`, without touching the cache.
  static Result<std::vector<int64_t>> SeriesIdsIn(storage::Session& s, const std::vector<std::string>& keys,
                                                  bool create);
  // Validates `batch` and appends its log segment rows (5 values each) to `rows`; series ids are
  // resolved through `session`, or in a transaction of their own when it is null.
  Status LogRowsOf(std::span<const Measurement> batch, storage::Session* session,
                   std::vector<storage::Value>& rows) const;
  static Status InsertLogRows(storage::Session& s, const std::vector<storage::Value>& rows);
  Status ReadSnapshot(const storage::Database::Work& work) const;
  Status EnsurePartitions(const std::set<int64_t>& months);

  Result<int64_t> FoldSome(int64_t max_log_id, bool& more);
  Result<int64_t> SealOldHeads(int64_t now_ms, bool& more);
  Result<int64_t> RollUpSome(bool& more);
  Result<int64_t> ExpireSome(int64_t now_ms, bool& more);
  Status ExpireRollups(int64_t now_ms, MaintenanceReport& report);
  Result<int64_t> FoldLocked(int64_t max_log_id);
  struct PartCounts {
    uint64_t rollup_records = 0;
    uint64_t log_samples = 0;
  };
  // Reads the data of `ids` (a part of a request, whose aggregators are slots first_slot onwards)
  // from one snapshot into their aggregators.
  Status AggregatePart(const PeriodGrid& grid, Tier tier, std::span<const storage::Value> ids, size_t first_slot,
                       const std::unordered_map<int64_t, size_t>& slot, std::vector<Aggregator>& aggregators,
                       PartCounts& counts) const;

  storage::Database* db_;
  TelemetryOptions options_;
  bool postgres_;
  mutable std::shared_mutex cache_mu_;
  mutable SeriesCache cache_;
  std::mutex partitions_mu_;
  std::set<int64_t> known_months_;  // PostgreSQL partitions known to exist (months since 0000-01)
  std::mutex maintenance_mu_;       // folding and maintenance, one at a time in this process
  std::atomic<int64_t> appended_since_fold_{0};
  std::atomic<int64_t> failed_inline_folds_{0};
  PeriodicTask maintainer_;  // last: stopped before the members it uses are destroyed
};

// "tenant\x1f entity\x1f attribute": the form of a series key in the id cache.
std::string SeriesCacheKey(std::string_view tenant, std::string_view entity_id, std::string_view attribute);

}  // namespace tl::telemetry
