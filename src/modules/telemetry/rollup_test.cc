#include "modules/telemetry/rollup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace tl::telemetry {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int32_t kHanoiOffset = 7 * 60;

PeriodGrid MustGrid(int64_t start, int64_t end, AggregationPeriod period, int32_t offset = 0) {
  auto grid = PeriodGrid::Make(start, end, period, offset);
  EXPECT_TRUE(grid.ok()) << grid.status().ToString();
  return *grid;
}

void ExpectNearAggregate(const Aggregate& got, const Aggregate& want) {
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.min, want.min);
  EXPECT_EQ(got.max, want.max);
  EXPECT_NEAR(got.sum, want.sum, 1e-9 * std::max(1.0, std::fabs(want.sum)));
  EXPECT_NEAR(got.sumsq, want.sumsq, 1e-9 * std::max(1.0, std::fabs(want.sumsq)));
}

void ExpectNearRecords(const std::vector<RollupRecord>& got, const std::vector<RollupRecord>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "record " << i);
    EXPECT_EQ(got[i].start_ms, want[i].start_ms);
    EXPECT_EQ(got[i].end_ms, want[i].end_ms);
    ExpectNearAggregate(got[i].agg, want[i].agg);
  }
}

// Hourly-ish PM2.5 with one decimal over `hours`, plus a few per-minute bursts.
std::vector<Sample> Series(std::mt19937_64& rng, int hours) {
  std::vector<Sample> out;
  double x = 60;
  for (int64_t t = kT0; t < kT0 + hours * kMillisPerHour; t += 60'000 * (1 + int64_t(rng() % 90))) {
    x = std::max(0.0, x + std::normal_distribution<double>(0, 3)(rng));
    out.push_back({t, std::round(x * 10) / 10});
  }
  return out;
}

// ---- aggrPeriodDuration ----------------------------------------------------------------------------

TEST(RollupTest, ParsesPeriods) {
  struct Case {
    const char* text;
    int64_t months;
    int64_t millis;
  };
  const Case cases[] = {
      {"PT1M", 0, 60'000},
      {"PT1H", 0, 3'600'000},
      {"P1D", 0, 86'400'000},
      {"P1W", 0, 7 * 86'400'000},
      {"PT15M", 0, 900'000},
      {"PT1H30M", 0, 5'400'000},
      {"P1DT12H", 0, 129'600'000},
      {"P1M", 1, 0},
      {"P1Y", 12, 0},
      {"P1Y2M3DT4H5M6S", 14, ((3 * 24 + 4) * 60 + 5) * 60'000 + 6'000},
      {"PT0.5S", 0, 500},
      {"PT1,25S", 0, 1'250},
      {"PT0.001S", 0, 1},
      {"PT1.5000S", 0, 1'500},
      {"PT0S", 0, 0},
      {"P0D", 0, 0},
      {"PT90S", 0, 90'000},
  };
  for (const Case& c : cases) {
    auto p = ParseAggregationPeriod(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status().ToString();
    EXPECT_EQ(p->months, c.months) << c.text;
    EXPECT_EQ(p->millis, c.millis) << c.text;
  }
  EXPECT_TRUE(ParseAggregationPeriod("PT0S")->whole_interval());
  EXPECT_EQ(*ParseAggregationPeriod("PT1M"), kOneMinute);
  EXPECT_EQ(*ParseAggregationPeriod("PT1H"), kOneHour);
}

TEST(RollupTest, RejectsBadPeriods) {
  for (const char* text : {"",        "bogus",
                           "P",       "PT",
                           "1D",      "p1d",
                           "P1d",     "P1H",
                           "PT1D",    "P1DT",
                           "P1D1D",   "PT1S1M",
                           "P1M1Y",   "P-1D",
                           "P+1D",    "PT1.5M",
                           "P1.5D",   "PT0.0001S",
                           "PT1.S",   "PT.5S",
                           "P1DT1H ", " PT1H",
                           "PT1HT1M", "P99999999999999Y",
                           "P10001Y", "PT9999999999999999999S",
                           "P1X"}) {
    auto p = ParseAggregationPeriod(text);
    ASSERT_FALSE(p.ok()) << '"' << text << '"';
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().field(), "aggrPeriodDuration");
  }
}

TEST(RollupTest, ParsesMethods) {
  EXPECT_EQ(*ParseAggregationMethod("avg"), AggregationMethod::kAvg);
  EXPECT_EQ(*ParseAggregationMethod("totalCount"), AggregationMethod::kTotalCount);
  auto list = ParseAggregationMethods("avg,max,avg,sumsq");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<AggregationMethod>{AggregationMethod::kAvg, AggregationMethod::kMax,
                                                   AggregationMethod::kSumsq}));
  for (const char* bad : {"bogus", "", "avg,", ",avg", "AVG", "avg, max", "count"}) {
    auto r = ParseAggregationMethods(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "aggrMethods");
  }
  for (auto m : {AggregationMethod::kTotalCount, AggregationMethod::kDistinctCount, AggregationMethod::kSum,
                 AggregationMethod::kAvg, AggregationMethod::kMin, AggregationMethod::kMax, AggregationMethod::kStddev,
                 AggregationMethod::kSumsq}) {
    EXPECT_EQ(*ParseAggregationMethod(AggregationMethodName(m)), m);
  }
}

// ---- Aggregate -------------------------------------------------------------------------------------

TEST(RollupTest, AggregateMethods) {
  Aggregate a;
  EXPECT_EQ(a.Value(AggregationMethod::kTotalCount), 0.0);
  EXPECT_FALSE(a.Value(AggregationMethod::kAvg).has_value());
  for (double v : {2, 4, 4, 4}) a.Add(v);
  Aggregate b;
  for (double v : {5, 5, 7, 9}) b.Add(v);
  a.Merge(b);
  EXPECT_EQ(a.count, 8u);
  EXPECT_EQ(*a.Value(AggregationMethod::kSum), 40);
  EXPECT_EQ(*a.Value(AggregationMethod::kAvg), 5);
  EXPECT_EQ(*a.Value(AggregationMethod::kMin), 2);
  EXPECT_EQ(*a.Value(AggregationMethod::kMax), 9);
  EXPECT_EQ(*a.Value(AggregationMethod::kSumsq), 232);
  EXPECT_NEAR(*a.Value(AggregationMethod::kStddev), std::sqrt(32.0 / 7), 1e-12);
  EXPECT_FALSE(a.Value(AggregationMethod::kDistinctCount).has_value());
  Aggregate one;
  one.Add(3);
  EXPECT_EQ(one.stddev(), 0);
  Aggregate empty;
  a.Merge(empty);
  EXPECT_EQ(a.count, 8u);
  EXPECT_EQ(a.min, 2);
}

// ---- PeriodGrid ------------------------------------------------------------------------------------

TEST(RollupTest, FixedPeriodsAlignToTheStart) {
  const int64_t start = kT0 + 30 * kMillisPerMinute;  // 00:30
  PeriodGrid g = MustGrid(start, start + 3 * kMillisPerHour + 15 * kMillisPerMinute, kOneHour);
  EXPECT_EQ(g.IndexOf(start), 0);
  EXPECT_EQ(g.IndexOf(start + kMillisPerHour - 1), 0);
  EXPECT_EQ(g.IndexOf(start + kMillisPerHour), 1);
  EXPECT_EQ(g.StartOf(1), start + kMillisPerHour);
  EXPECT_EQ(g.EndOf(2), start + 3 * kMillisPerHour);
  EXPECT_EQ(g.IndexOf(g.end_ms() - 1), 3);
  EXPECT_EQ(g.EndOf(3), g.end_ms()) << "the last period is cut at the end";
  EXPECT_EQ(g.StartOf(1'000'000'000), g.end_ms());
  EXPECT_FALSE(g.Contains(start - 1));
  EXPECT_FALSE(g.Contains(g.end_ms()));

  EXPECT_FALSE(PeriodGrid::Make(start, start, kOneHour).ok());
  EXPECT_FALSE(PeriodGrid::Make(kMinTimeMs - 1, start, kOneHour).ok());
  EXPECT_FALSE(PeriodGrid::Make(start, kMaxTimeMs + 1, kOneHour).ok());
  EXPECT_FALSE(PeriodGrid::Make(start, start + 1, {0, -1}).ok());
  EXPECT_FALSE(PeriodGrid::Make(start, start + 1, kOneHour, 19 * 60).ok());
}

TEST(RollupTest, WholeIntervalIsOnePeriod) {
  PeriodGrid g = MustGrid(kT0, kT0 + 10 * kMillisPerDay, *ParseAggregationPeriod("PT0S"));
  EXPECT_EQ(g.IndexOf(kT0), 0);
  EXPECT_EQ(g.IndexOf(kT0 + 10 * kMillisPerDay - 1), 0);
  EXPECT_EQ(g.EndOf(0), kT0 + 10 * kMillisPerDay);
  Aggregator agg(g);
  agg.Add(kT0 + 5, 1);
  agg.Add(kT0 + 9 * kMillisPerDay, 3);
  auto records = agg.Take();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].start_ms, kT0);
  EXPECT_EQ(records[0].end_ms, kT0 + 10 * kMillisPerDay);
  EXPECT_EQ(records[0].agg.avg(), 2);
}

TEST(RollupTest, CalendarMonthsAtHanoiTime) {
  // 2026-01-01T00:00+07:00 is 2025-12-31T17:00Z; months end at local midnight of the 1st.
  const int64_t start = kT0 - 7 * kMillisPerHour;
  const int64_t year_end = start + 365 * kMillisPerDay;
  PeriodGrid g = MustGrid(start, year_end, *ParseAggregationPeriod("P1M"), kHanoiOffset);
  EXPECT_EQ(g.StartOf(1), start + 31 * kMillisPerDay);           // 1 February local
  EXPECT_EQ(g.StartOf(2), start + (31 + 28) * kMillisPerDay);    // 1 March local (2026 is not leap)
  EXPECT_EQ(g.StartOf(11), start + (365 - 31) * kMillisPerDay);  // 1 December local
  EXPECT_EQ(g.EndOf(11), year_end);
  EXPECT_EQ(g.IndexOf(start + 31 * kMillisPerDay - 1), 0);
  EXPECT_EQ(g.IndexOf(start + 31 * kMillisPerDay), 1);
  EXPECT_EQ(g.IndexOf(year_end - 1), 11);
  for (int64_t t = start; t < year_end; t += 7 * kMillisPerHour + 13) {
    int64_t k = g.IndexOf(t);
    ASSERT_LE(g.StartOf(k), t);
    ASSERT_GT(g.EndOf(k), t);
  }
  // From 31 January, months clamp to the last day: 28 February, then 31 March.
  const int64_t jan31 = start + 30 * kMillisPerDay;
  PeriodGrid clamped = MustGrid(jan31, year_end, {1, 0}, kHanoiOffset);
  EXPECT_EQ(clamped.StartOf(1), start + (31 + 27) * kMillisPerDay);
  EXPECT_EQ(clamped.StartOf(2), start + (31 + 28 + 30) * kMillisPerDay);
  // P1M1D: a month and a day per period.
  PeriodGrid mixed = MustGrid(start, year_end, *ParseAggregationPeriod("P1M1D"), kHanoiOffset);
  EXPECT_EQ(mixed.StartOf(1), start + 32 * kMillisPerDay);
  EXPECT_EQ(mixed.StartOf(2), start + (31 + 28 + 2) * kMillisPerDay);
}

// ---- Aggregator ------------------------------------------------------------------------------------

// The reference: each sample into floor((t - start) / period).
std::vector<RollupRecord> BruteForce(const std::vector<Sample>& samples, int64_t start, int64_t end, int64_t period) {
  std::map<int64_t, Aggregate> buckets;
  for (const Sample& s : samples) {
    if (s.t_ms < start || s.t_ms >= end) continue;
    buckets[(s.t_ms - start) / period].Add(s.v);
  }
  std::vector<RollupRecord> out;
  for (const auto& [k, agg] : buckets) {
    out.push_back({start + k * period, std::min(end, start + (k + 1) * period), agg});
  }
  return out;
}

TEST(RollupTest, AggregatesSamplesInAnyOrder) {
  std::mt19937_64 rng(1);
  std::vector<Sample> samples = Series(rng, 72);
  const int64_t start = kT0 + 90 * kMillisPerMinute;
  const int64_t end = kT0 + 60 * kMillisPerHour + 17;
  auto want = BruteForce(samples, start, end, kMillisPerHour);

  Aggregator in_order(MustGrid(start, end, kOneHour));
  in_order.Add(samples);
  in_order.Add(kT0 + 2 * kMillisPerHour, std::nan(""));  // ignored
  ExpectNearRecords(in_order.Take(), want);

  std::shuffle(samples.begin(), samples.end(), rng);
  Aggregator shuffled(MustGrid(start, end, kOneHour));
  shuffled.Add(samples);
  ExpectNearRecords(shuffled.Take(), want);
  EXPECT_TRUE(shuffled.Take().empty()) << "Take empties the aggregator";
}

TEST(RollupTest, ChunksInsideOnePeriodUseTheirSummary) {
  std::mt19937_64 rng(2);
  std::vector<Sample> samples = Series(rng, 48);
  // Chunks of 10 samples: some fall inside one day, the one spanning midnight must be decoded.
  std::vector<std::string> chunks;
  for (size_t i = 0; i < samples.size(); i += 10) {
    std::vector<Sample> part(samples.begin() + i, samples.begin() + std::min(samples.size(), i + 10));
    chunks.push_back(*EncodeChunk(part));
  }
  PeriodGrid days = MustGrid(kT0, kT0 + 2 * kMillisPerDay, *ParseAggregationPeriod("P1D"));
  Aggregator from_chunks(days);
  for (const std::string& c : chunks) ASSERT_TRUE(from_chunks.AddChunk(c).ok());
  EXPECT_GT(from_chunks.chunks_summarized(), 0u);
  EXPECT_GT(from_chunks.chunks_decoded(), 0u);
  EXPECT_EQ(from_chunks.chunks_summarized() + from_chunks.chunks_decoded(), chunks.size());
  ExpectNearRecords(from_chunks.Take(), BruteForce(samples, kT0, kT0 + 2 * kMillisPerDay, kMillisPerDay));

  // A query covering part of the series decodes the chunks at its edges and skips the others.
  const int64_t from = kT0 + 20 * kMillisPerHour + 5;
  const int64_t to = kT0 + 30 * kMillisPerHour;
  Aggregator part(MustGrid(from, to, kOneHour));
  for (const std::string& c : chunks) ASSERT_TRUE(part.AddChunk(c).ok());
  ExpectNearRecords(part.Take(), BruteForce(samples, from, to, kMillisPerHour));

  std::string bad = chunks[0];
  bad[5] ^= 1;
  Aggregator corrupt(days);
  Status s = corrupt.AddChunk(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "chunk");
}

TEST(RollupTest, MinuteRollupsReaggregateIntoHoursAndDays) {
  std::mt19937_64 rng(3);
  std::vector<Sample> samples = Series(rng, 24 * 3);
  auto minutes = RollupSamples(samples, kMillisPerMinute);
  ASSERT_TRUE(minutes.ok());
  for (const RollupRecord& r : *minutes) {
    ASSERT_EQ(r.start_ms % kMillisPerMinute, 0);
    ASSERT_EQ(r.end_ms - r.start_ms, kMillisPerMinute);
  }
  auto hours = RollupSamples(samples, kMillisPerHour);
  ASSERT_TRUE(hours.ok());

  const int64_t end = kT0 + 3 * kMillisPerDay;
  Aggregator hours_from_minutes(MustGrid(kT0, end, kOneHour));
  for (const RollupRecord& r : *minutes) ASSERT_TRUE(hours_from_minutes.AddRollup(r).ok());
  ExpectNearRecords(hours_from_minutes.Take(), *hours);

  // Days at Hà Nội time from hours; the first and last local days are cut by the data's bounds.
  const int64_t local_midnight = kT0 - 7 * kMillisPerHour;
  Aggregator days(MustGrid(local_midnight, local_midnight + 4 * kMillisPerDay, *ParseAggregationPeriod("P1D")));
  for (const RollupRecord& r : *hours) ASSERT_TRUE(days.AddRollup(r).ok());
  ExpectNearRecords(days.Take(),
                    BruteForce(samples, local_midnight, local_midnight + 4 * kMillisPerDay, kMillisPerDay));

  // Hours cannot answer periods that cut through them.
  Aggregator half_hours(MustGrid(kT0, end, *ParseAggregationPeriod("PT30M")));
  EXPECT_EQ(half_hours.AddRollup((*hours)[0]).code(), StatusCode::kInvalidArgument);
  Aggregator offset(MustGrid(kT0 + 1, end, kOneHour));
  EXPECT_EQ(offset.AddRollup((*hours)[0]).code(), StatusCode::kInvalidArgument);
  Aggregator later(MustGrid(kT0 + 5 * kMillisPerDay, kT0 + 6 * kMillisPerDay, kOneHour));
  EXPECT_TRUE(later.AddRollup((*hours)[0]).ok()) << "records outside the interval are ignored";
  EXPECT_TRUE(later.Take().empty());
  EXPECT_FALSE(later.AddRollup({kT0, kT0, {}}).ok());
}

TEST(RollupTest, RollupChunkMatchesRollupSamples) {
  std::mt19937_64 rng(4);
  std::vector<Sample> samples = Series(rng, 30);
  std::string chunk = *EncodeChunk(samples);
  for (int64_t period : {kMillisPerMinute, 15 * kMillisPerMinute, kMillisPerHour, kMillisPerDay}) {
    auto from_chunk = RollupChunk(chunk, period, 7 * kMillisPerHour);
    auto from_samples = RollupSamples(samples, period, 7 * kMillisPerHour);
    ASSERT_TRUE(from_chunk.ok());
    ASSERT_TRUE(from_samples.ok());
    ExpectNearRecords(*from_chunk, *from_samples);
  }
  EXPECT_FALSE(RollupSamples(samples, 0).ok());
  EXPECT_TRUE(RollupSamples({}, kMillisPerMinute)->empty());
}

// ---- Tiers and retention ---------------------------------------------------------------------------

TEST(RollupTest, CoarsestTier) {
  const int64_t day = 20 * kMillisPerDay;
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kT0 + day, kOneHour)), Tier::kHour);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kT0 + day, *ParseAggregationPeriod("P1D"))), Tier::kHour);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0 - 7 * kMillisPerHour, kT0 + day, {1, 0}, kHanoiOffset)), Tier::kHour);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0 + 30 * kMillisPerMinute, kT0 + day, kOneHour)), Tier::kMinute);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kT0 + day, *ParseAggregationPeriod("PT15M"))), Tier::kMinute);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kT0 + day, *ParseAggregationPeriod("PT90S"))), Tier::kRaw);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0 + 5, kT0 + day, kOneMinute)), Tier::kRaw);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kT0 + day + kMillisPerMinute, {})), Tier::kMinute);
  EXPECT_EQ(CoarsestTierFor(MustGrid(kT0, kMaxTimeMs, {})), Tier::kHour);
  EXPECT_EQ(TierGranularityMs(Tier::kMinute), kMillisPerMinute);
  EXPECT_STREQ(TierName(Tier::kHour), "1h");
}

TEST(RollupTest, Retention) {
  RetentionPolicy policy;
  EXPECT_TRUE(policy.Validate().ok());
  EXPECT_EQ(policy.RetainedSince(Tier::kRaw, kT0), kT0 - 30 * kMillisPerDay);
  EXPECT_EQ(policy.RetainedSince(Tier::kMinute, kT0), kT0 - 365 * kMillisPerDay);
  EXPECT_EQ(policy.RetainedSince(Tier::kHour, kT0), kMinTimeMs);
  policy.raw_ms = 400 * kMillisPerDay;
  EXPECT_FALSE(policy.Validate().ok());
  policy.raw_ms = 0;
  EXPECT_FALSE(policy.Validate().ok());
  RetentionPolicy huge{.raw_ms = RetentionPolicy::kForever - 1,
                       .minute_ms = RetentionPolicy::kForever - 1,
                       .hour_ms = RetentionPolicy::kForever};
  EXPECT_TRUE(huge.Validate().ok());
  EXPECT_EQ(huge.RetainedSince(Tier::kRaw, kT0), kMinTimeMs);
}

}  // namespace
}  // namespace tl::telemetry
