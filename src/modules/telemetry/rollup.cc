#include "modules/telemetry/rollup.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/civil_date.h"

namespace tl::telemetry {
namespace {

constexpr int64_t kMaxPeriodMonths = 10'000 * 12;
constexpr int64_t kMaxPeriodMillis = 10'000 * 366 * kMillisPerDay;
constexpr int64_t kAverageMonthMs = 2'629'746'000;  // 365.2425 days / 12
constexpr int32_t kMaxOffsetMinutes = 18 * 60;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t FloorMod(int64_t a, int64_t b) {
  return a - FloorDiv(a, b) * b;
}

Status BadPeriod(std::string_view text, const char* why) {
  return InvalidArgument("aggrPeriodDuration \"" + std::string(text.substr(0, 64)) + "\" " + why, "aggrPeriodDuration");
}

// The grid of fixed periods of `period_ms` (aligned on `align_ms` modulo the period) covering
// [first_ms, last_ms].
Result<PeriodGrid> CoveringGrid(int64_t first_ms, int64_t last_ms, int64_t period_ms, int64_t align_ms) {
  if (period_ms <= 0 || period_ms > kMaxPeriodMillis) return InvalidArgument("rollup period out of range", "period");
  if (first_ms < kMinTimeMs || last_ms >= kMaxTimeMs) {
    return InvalidArgument("time outside the years 1 to 9999", "t");
  }
  int64_t align = FloorMod(align_ms, period_ms);
  int64_t start = FloorDiv(first_ms - align, period_ms) * period_ms + align;
  int64_t end = FloorDiv(last_ms - align, period_ms) * period_ms + align + period_ms;
  return PeriodGrid::Make(std::max(start, kMinTimeMs), std::min(end, kMaxTimeMs), {0, period_ms});
}

}  // namespace

// ---- Periods ---------------------------------------------------------------------------------------

Result<AggregationPeriod> ParseAggregationPeriod(std::string_view text) {
  if (text.size() < 3 || text[0] != 'P') return BadPeriod(text, "is not an ISO 8601 duration such as PT1H");
  // Designator slots in their required order: Y M W D, then after T: H M S.
  AggregationPeriod p;
  size_t i = 1;
  int next_slot = 0;
  bool in_time = false;
  bool time_has_component = false;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return BadPeriod(text, "has two T separators");
      in_time = true;
      next_slot = 4;
      ++i;
      continue;
    }
    int64_t value = 0;
    size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (value > 1'000'000'000'000) return BadPeriod(text, "is too long");
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i == digits) return BadPeriod(text, "has a designator without a number");
    int64_t fraction_ms = 0;
    bool has_fraction = false;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      has_fraction = true;
      ++i;
      size_t fraction_digits = i;
      int64_t scale = 100;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (scale == 0 && text[i] != '0') return BadPeriod(text, "is finer than a millisecond");
        fraction_ms += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == fraction_digits) return BadPeriod(text, "has a decimal point without digits");
    }
    if (i == text.size()) return BadPeriod(text, "has a number without a designator");
    char designator = text[i++];
    int slot = -1;
    if (!in_time) {
      slot = designator == 'Y' ? 0 : designator == 'M' ? 1 : designator == 'W' ? 2 : designator == 'D' ? 3 : -1;
    } else {
      slot = designator == 'H' ? 4 : designator == 'M' ? 5 : designator == 'S' ? 6 : -1;
    }
    if (slot < 0) return BadPeriod(text, "has an unknown or misplaced designator");
    if (slot < next_slot) return BadPeriod(text, "has components out of order or repeated");
    next_slot = slot + 1;
    if (has_fraction && slot != 6) return BadPeriod(text, "has a fraction on a component other than seconds");
    if (in_time) time_has_component = true;
    static constexpr int64_t kSlotMillis[] = {
        0, 0, 7 * kMillisPerDay, kMillisPerDay, kMillisPerHour, kMillisPerMinute, 1000};
    int64_t add = 0;
    if (slot <= 1) {
      if (__builtin_mul_overflow(value, slot == 0 ? 12 : 1, &add) || __builtin_add_overflow(p.months, add, &p.months) ||
          p.months > kMaxPeriodMonths) {
        return BadPeriod(text, "is too long");
      }
    } else {
      if (__builtin_mul_overflow(value, kSlotMillis[slot], &add) || __builtin_add_overflow(add, fraction_ms, &add) ||
          __builtin_add_overflow(p.millis, add, &p.millis) || p.millis > kMaxPeriodMillis) {
        return BadPeriod(text, "is too long");
      }
    }
  }
  if (next_slot == 0) return BadPeriod(text, "has no component");
  if (in_time && !time_has_component) return BadPeriod(text, "has a T without a time component");
  return p;
}

// ---- Methods ---------------------------------------------------------------------------------------

namespace {
struct MethodName {
  AggregationMethod method;
  const char* name;
};
constexpr MethodName kMethodNames[] = {
    {AggregationMethod::kTotalCount, "totalCount"},
    {AggregationMethod::kDistinctCount, "distinctCount"},
    {AggregationMethod::kSum, "sum"},
    {AggregationMethod::kAvg, "avg"},
    {AggregationMethod::kMin, "min"},
    {AggregationMethod::kMax, "max"},
    {AggregationMethod::kStddev, "stddev"},
    {AggregationMethod::kSumsq, "sumsq"},
};
}  // namespace

Result<AggregationMethod> ParseAggregationMethod(std::string_view name) {
  for (const MethodName& m : kMethodNames) {
    if (name == m.name) return m.method;
  }
  return InvalidArgument("unknown aggregation method \"" + std::string(name.substr(0, 64)) +
                             "\" (totalCount, distinctCount, sum, avg, min, max, stddev, sumsq)",
                         "aggrMethods");
}

Result<std::vector<AggregationMethod>> ParseAggregationMethods(std::string_view list) {
  std::vector<AggregationMethod> out;
  size_t pos = 0;
  while (true) {
    size_t comma = list.find(',', pos);
    std::string_view item = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    TL_ASSIGN_OR_RETURN(AggregationMethod m, ParseAggregationMethod(item));
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

const char* AggregationMethodName(AggregationMethod method) {
  for (const MethodName& m : kMethodNames) {
    if (m.method == method) return m.name;
  }
  return "unknown";
}

// ---- Aggregate -------------------------------------------------------------------------------------

void Aggregate::Merge(const Aggregate& other) {
  count += other.count;
  sum += other.sum;
  sumsq += other.sumsq;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
}

Aggregate Aggregate::FromSummary(const ChunkSummary& summary) {
  Aggregate a;
  if (summary.count == 0) return a;
  a.count = summary.count;
  a.sum = summary.sum;
  a.sumsq = summary.sumsq;
  a.min = summary.min;
  a.max = summary.max;
  return a;
}

double Aggregate::variance() const {
  if (count < 2) return 0;
  auto n = static_cast<double>(count);
  double v = (sumsq - sum * (sum / n)) / (n - 1);
  return v > 0 ? v : 0;  // rounding can take it just below zero
}

double Aggregate::stddev() const {
  return std::sqrt(variance());
}

std::optional<double> Aggregate::Value(AggregationMethod method) const {
  if (method == AggregationMethod::kTotalCount) return static_cast<double>(count);
  if (count == 0) return std::nullopt;
  switch (method) {
    case AggregationMethod::kSum:
      return sum;
    case AggregationMethod::kAvg:
      return avg();
    case AggregationMethod::kMin:
      return min;
    case AggregationMethod::kMax:
      return max;
    case AggregationMethod::kStddev:
      return stddev();
    case AggregationMethod::kSumsq:
      return sumsq;
    case AggregationMethod::kTotalCount:
    case AggregationMethod::kDistinctCount:
      break;
  }
  return std::nullopt;
}

// ---- PeriodGrid ------------------------------------------------------------------------------------

Result<PeriodGrid> PeriodGrid::Make(int64_t start_ms, int64_t end_ms, AggregationPeriod period,
                                    int32_t utc_offset_minutes) {
  if (start_ms < kMinTimeMs || end_ms > kMaxTimeMs || start_ms >= end_ms) {
    return InvalidArgument("the interval must be non-empty and within the years 1 to 9999", "timeAt");
  }
  if (period.months < 0 || period.millis < 0 || period.months > kMaxPeriodMonths || period.millis > kMaxPeriodMillis) {
    return InvalidArgument("aggregation period out of range", "aggrPeriodDuration");
  }
  if (utc_offset_minutes < -kMaxOffsetMinutes || utc_offset_minutes > kMaxOffsetMinutes) {
    return InvalidArgument("UTC offset out of range", "utcOffset");
  }
  return PeriodGrid(start_ms, end_ms, period, utc_offset_minutes);
}

int64_t PeriodGrid::UnclampedStartOf(int64_t index) const {
  if (period_.months == 0) return start_ + index * period_.millis;
  const int64_t offset_ms = int64_t{offset_minutes_} * kMillisPerMinute;
  const int64_t local = start_ + offset_ms;
  const int64_t days = FloorDiv(local, kMillisPerDay);
  const int64_t ms_of_day = local - days * kMillisPerDay;
  CivilDate date = CivilDateFromDays(days);
  int64_t months = int64_t{date.year} * 12 + (date.month - 1) + index * period_.months;
  CivilDate target;
  target.year = static_cast<int>(FloorDiv(months, 12));
  target.month = static_cast<int>(FloorMod(months, 12)) + 1;
  target.day = std::min(date.day, DaysInMonth(target.year, target.month));
  return DaysSinceEpoch(target) * kMillisPerDay + ms_of_day - offset_ms + index * period_.millis;
}

int64_t PeriodGrid::StartOf(int64_t index) const {
  if (index <= 0) return start_;
  if (period_.whole_interval()) return end_;
  if (period_.months == 0) {
    int64_t offset = 0;
    if (__builtin_mul_overflow(index, period_.millis, &offset) || offset >= end_ - start_) return end_;
    return start_ + offset;
  }
  // The shortest a period can be; beyond this many, the boundary is past `end` (and arithmetic on
  // the index could overflow).
  const int64_t shortest = period_.months * 28 * kMillisPerDay + period_.millis;
  if (index > (end_ - start_) / shortest + 1) return end_;
  return std::min(UnclampedStartOf(index), end_);
}

int64_t PeriodGrid::IndexOf(int64_t t_ms) const {
  if (period_.whole_interval()) return 0;
  if (period_.months == 0) return (t_ms - start_) / period_.millis;
  int64_t k = (t_ms - start_) / (period_.months * kAverageMonthMs + period_.millis);
  while (k > 0 && StartOf(k) > t_ms) --k;
  while (StartOf(k + 1) <= t_ms) ++k;
  return k;
}

bool PeriodGrid::AlignedTo(int64_t granularity_ms) const {
  if (FloorMod(start_, granularity_ms) != 0) return false;
  if (end_ != kMaxTimeMs && FloorMod(end_, granularity_ms) != 0) return false;
  if (period_.millis % granularity_ms != 0) return false;
  return period_.months == 0 || kMillisPerDay % granularity_ms == 0;
}

// ---- Aggregator ------------------------------------------------------------------------------------

Aggregate& Aggregator::BucketFor(int64_t t_ms) {
  if (t_ms >= current_lo_ && t_ms < current_hi_) return buckets_[current_].agg;
  const int64_t k = grid_.IndexOf(t_ms);
  if (buckets_.empty() || buckets_.back().index < k) {
    buckets_.push_back({k, {}});
    current_ = buckets_.size() - 1;
  } else {
    auto it = std::lower_bound(buckets_.begin(), buckets_.end(), k,
                               [](const Bucket& b, int64_t index) { return b.index < index; });
    if (it == buckets_.end() || it->index != k) it = buckets_.insert(it, {k, {}});
    current_ = static_cast<size_t>(it - buckets_.begin());
  }
  current_lo_ = grid_.StartOf(k);
  current_hi_ = grid_.EndOf(k);
  return buckets_[current_].agg;
}

void Aggregator::Add(int64_t t_ms, double v) {
  if (!std::isfinite(v)) return;
  if (t_ms >= current_lo_ && t_ms < current_hi_) {
    buckets_[current_].agg.Add(v);
    return;
  }
  if (!grid_.Contains(t_ms)) return;
  BucketFor(t_ms).Add(v);
}

Status Aggregator::AddChunk(std::string_view chunk) {
  TL_ASSIGN_OR_RETURN(ChunkReader reader, ChunkReader::Open(chunk));
  const ChunkSummary& s = reader.summary();
  if (s.count == 0 || s.last_ms < grid_.start_ms() || s.first_ms >= grid_.end_ms()) return Status::Ok();
  if (grid_.Contains(s.first_ms) && grid_.Contains(s.last_ms) &&
      grid_.IndexOf(s.first_ms) == grid_.IndexOf(s.last_ms)) {
    BucketFor(s.first_ms).Merge(Aggregate::FromSummary(s));
    ++chunks_summarized_;
    return Status::Ok();
  }
  ++chunks_decoded_;
  Sample x;
  while (reader.Next(x)) Add(x.t_ms, x.v);
  return reader.status();
}

Status Aggregator::AddRollup(const RollupRecord& record) {
  if (record.end_ms <= record.start_ms) return InvalidArgument("rollup record with an empty interval", "rollup");
  if (record.agg.count == 0) return Status::Ok();
  if (record.end_ms <= grid_.start_ms() || record.start_ms >= grid_.end_ms()) return Status::Ok();
  if (record.start_ms < grid_.start_ms() || record.end_ms > grid_.end_ms()) {
    return InvalidArgument("rollup record straddles the bounds of the interval", "rollup");
  }
  // BucketFor leaves the bucket's bounds in [current_lo_, current_hi_) (an empty bucket it may have
  // made for a refused record is dropped by Take).
  Aggregate& bucket = record.start_ms >= current_lo_ && record.start_ms < current_hi_ ? buckets_[current_].agg
                                                                                      : BucketFor(record.start_ms);
  if (record.end_ms > current_hi_) return InvalidArgument("rollup record straddles a period boundary", "rollup");
  bucket.Merge(record.agg);
  return Status::Ok();
}

std::vector<RollupRecord> Aggregator::Take() {
  std::vector<RollupRecord> out;
  out.reserve(buckets_.size());
  for (const Bucket& b : buckets_) {
    if (b.agg.count > 0) out.push_back({grid_.StartOf(b.index), grid_.EndOf(b.index), b.agg});
  }
  buckets_.clear();
  current_ = 0;
  current_lo_ = 0;
  current_hi_ = 0;
  return out;
}

Result<std::vector<RollupRecord>> RollupSamples(std::span<const Sample> samples, int64_t period_ms, int64_t align_ms) {
  if (samples.empty()) return std::vector<RollupRecord>{};
  auto [lo, hi] = std::minmax_element(samples.begin(), samples.end(),
                                      [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
  TL_ASSIGN_OR_RETURN(PeriodGrid grid, CoveringGrid(lo->t_ms, hi->t_ms, period_ms, align_ms));
  Aggregator aggregator(grid);
  aggregator.Add(samples);
  return aggregator.Take();
}

Result<std::vector<RollupRecord>> RollupChunk(std::string_view chunk, int64_t period_ms, int64_t align_ms) {
  TL_ASSIGN_OR_RETURN(ChunkSummary summary, ReadChunkSummary(chunk));
  if (summary.count == 0) return std::vector<RollupRecord>{};
  TL_ASSIGN_OR_RETURN(PeriodGrid grid, CoveringGrid(summary.first_ms, summary.last_ms, period_ms, align_ms));
  Aggregator aggregator(grid);
  TL_RETURN_IF_ERROR(aggregator.AddChunk(chunk));
  return aggregator.Take();
}

// ---- Tiers and retention ---------------------------------------------------------------------------

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kRaw:
      return "raw";
    case Tier::kMinute:
      return "1m";
    case Tier::kHour:
      return "1h";
  }
  return "unknown";
}

int64_t TierGranularityMs(Tier tier) {
  switch (tier) {
    case Tier::kRaw:
      return 0;
    case Tier::kMinute:
      return kMillisPerMinute;
    case Tier::kHour:
      return kMillisPerHour;
  }
  return 0;
}

Status RetentionPolicy::Validate() const {
  if (raw_ms <= 0 || minute_ms < raw_ms || hour_ms < minute_ms) {
    return InvalidArgument(
        "retention must keep 1-hour rollups at least as long as 1-minute ones, and those at "
        "least as long as raw samples (> 0)",
        "retention");
  }
  return Status::Ok();
}

int64_t RetentionPolicy::KeepMs(Tier tier) const {
  switch (tier) {
    case Tier::kRaw:
      return raw_ms;
    case Tier::kMinute:
      return minute_ms;
    case Tier::kHour:
      return hour_ms;
  }
  return raw_ms;
}

int64_t RetentionPolicy::RetainedSince(Tier tier, int64_t now_ms) const {
  int64_t keep = KeepMs(tier);
  int64_t since = 0;
  if (keep == kForever || __builtin_sub_overflow(now_ms, keep, &since) || since < kMinTimeMs) return kMinTimeMs;
  return since;
}

Tier CoarsestTierFor(const PeriodGrid& grid) {
  if (grid.AlignedTo(kMillisPerHour)) return Tier::kHour;
  if (grid.AlignedTo(kMillisPerMinute)) return Tier::kMinute;
  return Tier::kRaw;
}

}  // namespace tl::telemetry
