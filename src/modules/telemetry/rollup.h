// Temporal aggregation and rollups of telemetry series (NGSI-LD temporal aggregation, ETSI GS CIM 009).
//
// A query names an interval [start, end), a period (`aggrPeriodDuration`, an ISO 8601 duration such as
// PT1M, PT1H, P1D, P1M; PT0S or P0D for the whole interval) and methods (`aggrMethods`: totalCount,
// distinctCount, sum, avg, min, max, stddev, sumsq). Periods are aligned to the interval's start:
// period i is [start + i·period, start + (i+1)·period), the last one cut at `end`. Weeks, days, hours,
// minutes and seconds are fixed lengths (a day is 24 h: Vietnam has no daylight saving time); years
// and months are calendar months counted on the wall clock at a fixed UTC offset (+420 minutes for
// Hà Nội), so P1M from local midnight of the 1st ends at local midnight of the next 1st, and a day of
// the month past the target month's end is clamped to its last day.
//
// An Aggregate keeps count, sum, sum of squares, min and max, which is what every method except
// distinctCount needs and what merges exactly: 1-minute rollup records re-aggregate into hours, hours
// into days, and a chunk lying inside one period contributes its stored summary without being
// decoded. distinctCount needs the values themselves and is not provided here. stddev is the sample
// standard deviation (n − 1, as PostgreSQL's stddev), 0 for fewer than two values.
//
// Retention: raw samples, 1-minute and 1-hour rollups are kept for their own durations
// (RetentionPolicy); a query is best answered from the coarsest tier whose records fit its periods.
//
// Thread-safety: PeriodGrid, Aggregate, RollupRecord and the free functions are values and pure
// functions, safe from any thread; an Aggregator is used by one thread at a time.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "modules/telemetry/chunk.h"

namespace tl::telemetry {

inline constexpr int64_t kMillisPerMinute = 60'000;
inline constexpr int64_t kMillisPerHour = 3'600'000;
inline constexpr int64_t kMillisPerDay = 86'400'000;
// Times the aggregation accepts: 0001-01-01T00:00Z to 10000-01-01T00:00Z.
inline constexpr int64_t kMinTimeMs = -62'135'596'800'000;
inline constexpr int64_t kMaxTimeMs = 253'402'300'800'000;

// A parsed aggrPeriodDuration: calendar months plus a fixed number of milliseconds.
struct AggregationPeriod {
  int64_t months = 0;  // years × 12 + months
  int64_t millis = 0;  // weeks, days, hours, minutes, seconds (milliseconds allowed: PT0.5S)

  bool whole_interval() const { return months == 0 && millis == 0; }
  friend bool operator==(const AggregationPeriod&, const AggregationPeriod&) = default;
};

// "P[nY][nM][nW][nD][T[nH][nM][n[.fff]S]]" with non-negative integers (a fraction only on seconds, to
// the millisecond), at least one component, designators in that order. InvalidArgument with field
// "aggrPeriodDuration" otherwise.
Result<AggregationPeriod> ParseAggregationPeriod(std::string_view text);
inline constexpr AggregationPeriod kOneMinute{0, kMillisPerMinute};
inline constexpr AggregationPeriod kOneHour{0, kMillisPerHour};

enum class AggregationMethod { kTotalCount, kDistinctCount, kSum, kAvg, kMin, kMax, kStddev, kSumsq };

// The NGSI-LD names, case-sensitive: "totalCount", "distinctCount", "sum", "avg", "min", "max",
// "stddev", "sumsq". InvalidArgument with field "aggrMethods" otherwise.
Result<AggregationMethod> ParseAggregationMethod(std::string_view name);
// A comma-separated list ("avg,max"); repeated names count once, order is kept.
Result<std::vector<AggregationMethod>> ParseAggregationMethods(std::string_view list);
const char* AggregationMethodName(AggregationMethod method);

// Count, sum, sum of squares, min and max of a set of values; merging two is exact for count, min and
// max, and adds sums in double.
struct Aggregate {
  uint64_t count = 0;
  double sum = 0;
  double sumsq = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();

  void Add(double v) {
    ++count;
    sum += v;
    sumsq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  void Merge(const Aggregate& other);
  static Aggregate FromSummary(const ChunkSummary& summary);

  bool empty() const { return count == 0; }
  double avg() const { return count == 0 ? 0 : sum / static_cast<double>(count); }
  double variance() const;  // sample variance; 0 for fewer than two values
  double stddev() const;
  // The value of `method`; nullopt for distinctCount and for any method but totalCount when empty.
  std::optional<double> Value(AggregationMethod method) const;

  friend bool operator==(const Aggregate&, const Aggregate&) = default;
};

// One period's aggregate; also the stored form of 1-minute and 1-hour rollups.
struct RollupRecord {
  int64_t start_ms = 0;  // inclusive
  int64_t end_ms = 0;    // exclusive
  Aggregate agg;

  friend bool operator==(const RollupRecord&, const RollupRecord&) = default;
};

// The periods of a query: [start, end) cut by `period` from `start`.
class PeriodGrid {
 public:
  // InvalidArgument unless kMinTimeMs <= start < end <= kMaxTimeMs, the period's parts are
  // non-negative and below 10,000 years, and |utc_offset_minutes| <= 18 h.
  static Result<PeriodGrid> Make(int64_t start_ms, int64_t end_ms, AggregationPeriod period,
                                 int32_t utc_offset_minutes = 0);

  int64_t start_ms() const { return start_; }
  int64_t end_ms() const { return end_; }
  const AggregationPeriod& period() const { return period_; }
  int32_t utc_offset_minutes() const { return offset_minutes_; }
  bool Contains(int64_t t_ms) const { return t_ms >= start_ && t_ms < end_; }

  // The index of the period holding `t_ms`; requires Contains(t_ms).
  int64_t IndexOf(int64_t t_ms) const;
  // Bounds of period `index` (>= 0), cut to [start, end].
  int64_t StartOf(int64_t index) const;
  int64_t EndOf(int64_t index) const { return StartOf(index + 1); }
  // Whether every period boundary (and `end`, unless it is kMaxTimeMs) falls on a multiple of
  // `granularity_ms` since the epoch, so that records of that granularity each lie in one period.
  bool AlignedTo(int64_t granularity_ms) const;

 private:
  PeriodGrid(int64_t start, int64_t end, AggregationPeriod period, int32_t offset)
      : start_(start), end_(end), period_(period), offset_minutes_(offset) {}
  int64_t UnclampedStartOf(int64_t index) const;

  int64_t start_;
  int64_t end_;
  AggregationPeriod period_;
  int32_t offset_minutes_;
};

// Accumulates samples, chunks and rollup records of ONE series into the periods of a grid. Input may
// come in any order; what falls outside [start, end) is ignored.
class Aggregator {
 public:
  explicit Aggregator(PeriodGrid grid) : grid_(grid) {}

  // Non-finite values are ignored.
  void Add(int64_t t_ms, double v);
  void Add(std::span<const Sample> samples) {
    for (const Sample& s : samples) Add(s.t_ms, s.v);
  }
  // Takes the chunk's summary when the chunk lies inside one period, decodes it otherwise.
  // InvalidArgument (field "chunk") for a corrupt chunk; then some of its samples may have been added.
  Status AddChunk(std::string_view chunk);
  // Merges a record that lies inside one period (a record entirely outside the grid is ignored).
  // InvalidArgument if it straddles a period boundary or the grid's bounds: such records cannot
  // answer this query (use a finer tier).
  Status AddRollup(const RollupRecord& record);

  // The non-empty periods in time order, each with its bounds; the aggregator is left empty.
  std::vector<RollupRecord> Take();

  const PeriodGrid& grid() const { return grid_; }
  // How many chunks were taken by their summary and how many were decoded.
  uint64_t chunks_summarized() const { return chunks_summarized_; }
  uint64_t chunks_decoded() const { return chunks_decoded_; }

 private:
  struct Bucket {
    int64_t index;
    Aggregate agg;
  };
  Aggregate& BucketFor(int64_t t_ms);

  PeriodGrid grid_;
  std::vector<Bucket> buckets_;  // sorted by index
  size_t current_ = 0;           // the bucket of the last Add, valid when current_lo_ < current_hi_
  int64_t current_lo_ = 0;
  int64_t current_hi_ = 0;
  uint64_t chunks_summarized_ = 0;
  uint64_t chunks_decoded_ = 0;
};

// Fixed-length rollups (such as 1-minute or 1-hour records) of samples or a chunk, with periods
// aligned on multiples of `period_ms` since the epoch shifted by `align_ms` (0: UTC boundaries).
// InvalidArgument if period_ms <= 0 or a time is outside [kMinTimeMs, kMaxTimeMs).
Result<std::vector<RollupRecord>> RollupSamples(std::span<const Sample> samples, int64_t period_ms,
                                                int64_t align_ms = 0);
Result<std::vector<RollupRecord>> RollupChunk(std::string_view chunk, int64_t period_ms, int64_t align_ms = 0);

// Where a series' history is kept, from finest to coarsest.
enum class Tier { kRaw, kMinute, kHour };
const char* TierName(Tier tier);
// The length of a tier's records (0 for raw samples).
int64_t TierGranularityMs(Tier tier);

// How long each tier is kept. kForever keeps it indefinitely.
struct RetentionPolicy {
  static constexpr int64_t kForever = std::numeric_limits<int64_t>::max();
  int64_t raw_ms = 30 * kMillisPerDay;
  int64_t minute_ms = 365 * kMillisPerDay;
  int64_t hour_ms = kForever;

  // InvalidArgument unless 0 < raw_ms <= minute_ms <= hour_ms.
  Status Validate() const;
  int64_t KeepMs(Tier tier) const;
  // The oldest time a tier still holds at `now_ms`: its samples, or its records' starts, before this
  // may be deleted. kMinTimeMs when kept forever.
  int64_t RetainedSince(Tier tier, int64_t now_ms) const;
};

// The coarsest tier whose records each fit in one period of `grid` (kRaw when no rollup does). With
// the policy's nesting (hours kept at least as long as minutes, minutes as raw) it is also the tier
// that reaches furthest back; whether it reaches the grid's start is the caller's check with
// RetainedSince, and samples newer than the last rollup still come from kRaw.
Tier CoarsestTierFor(const PeriodGrid& grid);

}  // namespace tl::telemetry
