// The telemetry history store on both backends: appends and reads, late samples, aggregation against
// a brute-force computation on every tier, retention and rollups, reopening, concurrent folders, and
// acknowledged batches surviving SIGKILL of the appending process. Also the log segment and rollup
// block formats.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "modules/telemetry/history.h"
#include "modules/telemetry/history_format.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::telemetry {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

double Round1(double v) {
  return std::round(v * 10) / 10;
}

// ---- Formats -----------------------------------------------------------------------------------------

TEST(LogSegmentTest, RoundTripsDecimalAndRawValues) {
  std::mt19937_64 rng(1);
  for (int raw = 0; raw < 2; ++raw) {
    std::vector<LogEntry> entries;
    for (int64_t s = 1; s <= 40; ++s) {
      for (int i = 0; i < 7; ++i) {
        double v = Round1(std::normal_distribution<double>(50, 20)(rng));
        if (raw) v += 1e-7 * static_cast<double>(rng() % 1000);
        entries.push_back({s * 3, kT0 + static_cast<int64_t>(rng() % 100000) - 50000, v});
      }
    }
    if (!raw) {
      EXPECT_LT(EncodeLogSegment(entries).size(), entries.size() * 6);
    }
    entries.push_back({999, kMinTimeMs, -0.5});
    entries.push_back({1000, kMaxTimeMs - 1, 1e300 * (raw ? 1 : 0)});
    std::string data = EncodeLogSegment(entries);
    std::vector<LogEntry> out{{7, 7, 7}};
    ASSERT_TRUE(DecodeLogSegment(data, out).ok());
    ASSERT_EQ(out.size(), entries.size() + 1);
    EXPECT_TRUE(std::equal(entries.begin(), entries.end(), out.begin() + 1));
  }
}

TEST(LogSegmentTest, RejectsCorruption) {
  std::vector<LogEntry> entries{{1, kT0, 1.5}, {1, kT0 + 1000, 2.5}, {2, kT0, 3}};
  std::string data = EncodeLogSegment(entries);
  std::vector<LogEntry> out;
  for (size_t i = 0; i < data.size() * 8; ++i) {
    std::string bad = data;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    Status st = DecodeLogSegment(bad, out);
    EXPECT_FALSE(st.ok()) << "bit " << i;
    EXPECT_EQ(st.field(), "segment");
    EXPECT_TRUE(out.empty());
  }
  for (size_t n = 0; n < data.size(); ++n) EXPECT_FALSE(DecodeLogSegment(data.substr(0, n), out).ok());
}

std::vector<RollupRecord> SomeRecords(int64_t bucket, int64_t g, bool raw, std::mt19937_64& rng) {
  std::vector<RollupRecord> records;
  for (int64_t idx = 0; idx < 1440; idx += 1 + static_cast<int64_t>(rng() % 3)) {
    RollupRecord r{bucket + idx * g, bucket + (idx + 1) * g, {}};
    int n = rng() % 4 == 0 ? 1 + static_cast<int>(rng() % 30) : 1;
    for (int i = 0; i < n; ++i) {
      double v = Round1(std::normal_distribution<double>(30, 10)(rng));
      r.agg.Add(raw ? v / 3 : v);
    }
    records.push_back(r);
  }
  return records;
}

TEST(RollupBlockTest, RoundTripsRecords) {
  std::mt19937_64 rng(2);
  const int64_t bucket = kT0;
  for (int raw = 0; raw < 2; ++raw) {
    std::vector<RollupRecord> records = SomeRecords(bucket, kMillisPerMinute, raw, rng);
    auto data = EncodeRollupBlock(bucket, kMillisPerMinute, records);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    std::vector<RollupRecord> out;
    ASSERT_TRUE(DecodeRollupBlock(*data, bucket, kMillisPerMinute, out).ok());
    ASSERT_EQ(out.size(), records.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const Aggregate& a = out[i].agg;
      const Aggregate& e = records[i].agg;
      EXPECT_EQ(out[i].start_ms, records[i].start_ms);
      EXPECT_EQ(out[i].end_ms, records[i].end_ms);
      EXPECT_EQ(a.count, e.count);
      EXPECT_EQ(a.min, e.min);  // bit-exact
      EXPECT_EQ(a.max, e.max);
      if (raw || e.count == 1) {  // raw sums, or a one-value record: bit-exact
        EXPECT_EQ(a.sum, e.sum);
        EXPECT_EQ(a.sumsq, e.sumsq);
      } else {
        // The exact decimal sums, which the doubles approximate.
        EXPECT_EQ(a.sum, std::nearbyint(e.sum * 10) / 10);
        EXPECT_EQ(a.sumsq, std::nearbyint(e.sumsq * 100) / 100);
        EXPECT_NEAR(a.sum, e.sum, 1e-12 * std::fabs(e.sum));
      }
    }
    if (!raw) {
      EXPECT_LT(data->size(), records.size() * 6);  // was ~8 with raw sums
    }
  }
}

TEST(RollupBlockTest, OneValueRecordsCostAboutAByte) {
  std::vector<RollupRecord> records;
  double v = 40;
  std::mt19937_64 rng(3);
  for (int64_t i = 0; i < 1440; ++i) {
    v = Round1(v + std::normal_distribution<double>(0, 0.5)(rng));
    Aggregate a;
    a.Add(v);
    records.push_back({kT0 + i * kMillisPerMinute, kT0 + (i + 1) * kMillisPerMinute, a});
  }
  auto data = EncodeRollupBlock(kT0, kMillisPerMinute, records);
  ASSERT_TRUE(data.ok());
  EXPECT_LT(data->size(), 1440 * 1.2);
}

TEST(RollupBlockTest, RejectsMisalignedRecordsAndCorruption) {
  Aggregate a;
  a.Add(1);
  EXPECT_FALSE(
      EncodeRollupBlock(kT0, kMillisPerHour, std::vector<RollupRecord>{{kT0 + 1, kT0 + 1 + kMillisPerHour, a}}).ok());
  EXPECT_FALSE(EncodeRollupBlock(kT0, kMillisPerHour,
                                 std::vector<RollupRecord>{{kT0 + kMillisPerHour, kT0 + 2 * kMillisPerHour, a},
                                                           {kT0, kT0 + kMillisPerHour, a}})
                   .ok());
  std::mt19937_64 rng(4);
  std::vector<RollupRecord> records = SomeRecords(kT0, kMillisPerHour, false, rng);
  records.resize(20);
  std::string data = *EncodeRollupBlock(kT0, kMillisPerHour, records);
  std::vector<RollupRecord> out;
  for (size_t i = 0; i < data.size() * 8; ++i) {
    std::string bad = data;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    EXPECT_FALSE(DecodeRollupBlock(bad, kT0, kMillisPerHour, out).ok()) << "bit " << i;
    EXPECT_TRUE(out.empty());
  }
}

TEST(RollupBlockTest, MergeAddsRecordsOfTheSamePeriod) {
  Aggregate one, two;
  one.Add(1);
  two.Add(5);
  two.Add(7);
  std::vector<RollupRecord> a{{0, 10, one}, {20, 30, one}};
  std::vector<RollupRecord> b{{10, 20, two}, {20, 30, two}};
  auto m = MergeRollupRecords(a, b);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].agg, two);
  EXPECT_EQ(m[2].agg.count, 3u);
  EXPECT_EQ(m[2].agg.min, 1);
  EXPECT_EQ(m[2].agg.max, 7);
  EXPECT_EQ(m[2].agg.sum, 13);
}

// ---- The store, on each backend ----------------------------------------------------------------------

// Owns the strings a batch of Measurements points to.
struct Batch {
  std::vector<std::string> entities;
  std::vector<Measurement> items;
  void Add(const std::string& entity, const char* attribute, int64_t t, double v, const char* tenant = "") {
    entities.push_back(entity);
    items.push_back({tenant, {}, attribute, t, v});
  }
  std::span<const Measurement> Get() {
    for (size_t i = 0; i < items.size(); ++i) items[i].entity_id = entities[i];
    return items;
  }
};

std::string Sensor(int i) {
  return "urn:ngsi-ld:AirQualityObserved:hn-" + std::to_string(i);
}

std::vector<RollupRecord> BruteForce(const std::vector<Sample>& samples, const PeriodGrid& grid) {
  std::map<int64_t, Aggregate> by_index;
  for (const Sample& s : samples) {
    if (grid.Contains(s.t_ms)) by_index[grid.IndexOf(s.t_ms)].Add(s.v);
  }
  std::vector<RollupRecord> out;
  for (const auto& [index, agg] : by_index) out.push_back({grid.StartOf(index), grid.EndOf(index), agg});
  return out;
}

void ExpectSameAggregates(const std::vector<RollupRecord>& expected, const std::vector<RollupRecord>& actual,
                          const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i) {
    const RollupRecord& e = expected[i];
    const RollupRecord& a = actual[i];
    ASSERT_EQ(a.start_ms, e.start_ms) << what << " period " << i;
    EXPECT_EQ(a.end_ms, e.end_ms) << what;
    EXPECT_EQ(a.agg.count, e.agg.count) << what << " period " << i;
    EXPECT_EQ(a.agg.min, e.agg.min) << what;
    EXPECT_EQ(a.agg.max, e.agg.max) << what;
    EXPECT_NEAR(a.agg.sum, e.agg.sum, 1e-9 * std::max(1.0, std::fabs(e.agg.sum))) << what;
    EXPECT_NEAR(a.agg.sumsq, e.agg.sumsq, 1e-9 * std::max(1.0, e.agg.sumsq)) << what;
  }
}

std::vector<Sample> Sorted(std::vector<Sample> v) {
  std::stable_sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.t_ms < b.t_ms; });
  return v;
}

// Same samples, as multisets (equal times may come back in any order between chunks).
void ExpectSameSamples(std::vector<Sample> expected, std::vector<Sample> actual, const std::string& what) {
  auto key = [](const Sample& a, const Sample& b) { return a.t_ms != b.t_ms ? a.t_ms < b.t_ms : a.v < b.v; };
  std::sort(expected.begin(), expected.end(), key);
  std::sort(actual.begin(), actual.end(), key);
  ASSERT_EQ(actual.size(), expected.size()) << what;
  EXPECT_TRUE(actual == expected) << what;
}

class HistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<testing::ScratchStore>(GetParam());
    db_ = scratch_->Open(4);
    ASSERT_NE(db_, nullptr);
    auto applied = storage::ApplyMigrations(*db_, TelemetryStore::Migrations(db_->dialect()));
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  std::unique_ptr<TelemetryStore> MakeStore(TelemetryOptions options = {}) {
    auto store = TelemetryStore::Open(db_.get(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::vector<Sample> ReadAll(TelemetryStore& store, const std::string& entity, const char* attribute = "pm25",
                              const char* tenant = "") {
    auto r = store.ReadRaw({tenant, entity, attribute}, kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Sample>{};
  }

  std::unique_ptr<testing::ScratchStore> scratch_;
  std::unique_ptr<storage::Database> db_;
};

TEST_P(HistoryTest, AppendedSamplesReadBackFromLogHeadsAndChunks) {
  TelemetryOptions options;
  options.chunk_samples = 50;
  options.fold_after_samples = 0;
  auto store = MakeStore(options);
  std::map<int, std::vector<Sample>> expected;
  std::mt19937_64 rng(5);
  for (int round = 0; round < 6; ++round) {
    Batch batch;
    for (int s = 0; s < 12; ++s) {
      for (int i = 0; i < 30; ++i) {
        int64_t t = kT0 + (round * 30 + i) * 60'000 + s;
        double v = s % 3 == 0 ? Round1(std::normal_distribution<double>(35, 8)(rng))
                              : std::normal_distribution<double>(20, 4)(rng);
        batch.Add(Sensor(s), "pm25", t, v);
        expected[s].push_back({t, v});
      }
    }
    ASSERT_TRUE(store->AppendBatch(batch.Get()).ok());
    for (int s = 0; s < 12; ++s) EXPECT_EQ(ReadAll(*store, Sensor(s)), expected[s]) << "round " << round;
    if (round % 2 == 1) {
      auto folded = store->Fold();
      ASSERT_TRUE(folded.ok()) << folded.status().ToString();
      EXPECT_EQ(*folded, 2 * 12 * 30);
    }
  }
  for (int s = 0; s < 12; ++s) EXPECT_EQ(ReadAll(*store, Sensor(s)), expected[s]);
  // A range, and the last n of it.
  const auto& e = expected[4];
  auto range = store->ReadRaw({"", Sensor(4), "pm25"}, e[37].t_ms, e[150].t_ms);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, std::vector<Sample>(e.begin() + 37, e.begin() + 150));
  auto last = store->ReadRaw({"", Sensor(4), "pm25"}, e[37].t_ms, e[150].t_ms, 5);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, std::vector<Sample>(e.begin() + 145, e.begin() + 150));
  // Unknown series, tenants and attributes are separate series.
  EXPECT_TRUE(ReadAll(*store, Sensor(99)).empty());
  EXPECT_TRUE(ReadAll(*store, Sensor(1), "pm10").empty());
  EXPECT_TRUE(ReadAll(*store, Sensor(1), "pm25", "other").empty());
  auto attrs = store->ListAttributes("", Sensor(1));
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(*attrs, std::vector<std::string>{"pm25"});
}

TEST_P(HistoryTest, LateAndDuplicateSamplesAreKept) {
  TelemetryOptions options;
  options.chunk_samples = 20;
  options.fold_after_samples = 0;
  auto store = MakeStore(options);
  std::vector<Sample> expected;
  auto append = [&](int64_t t, double v) {
    Measurement m{"", "urn:x:1", "level", t, v};
    ASSERT_TRUE(store->Append(m).ok());
    expected.push_back({t, v});
  };
  for (int i = 0; i < 100; ++i) append(kT0 + i * 1000, i);
  ASSERT_TRUE(store->Fold().ok());
  // Older than the head's last time, some equal to existing times, one far in the past.
  for (int i = 0; i < 30; ++i) append(kT0 + i * 3000 + 500, 1000 + i);
  append(kT0 + 50'000, 77);
  append(kT0 - 20 * kMillisPerDay, -1);  // still within the raw retention
  EXPECT_EQ(Sorted(ReadAll(*store, "urn:x:1", "level")), ReadAll(*store, "urn:x:1", "level"));
  ExpectSameSamples(expected, ReadAll(*store, "urn:x:1", "level"), "before folding");
  ASSERT_TRUE(store->Fold().ok());
  ExpectSameSamples(expected, ReadAll(*store, "urn:x:1", "level"), "after folding");
  // New in-order samples still go to the head after late ones were folded.
  for (int i = 100; i < 130; ++i) append(kT0 + i * 1000, i);
  auto report = store->Maintain(kT0 + 200'000);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ExpectSameSamples(expected, ReadAll(*store, "urn:x:1", "level"), "after maintenance");
  auto r = store->ReadRaw({"", "urn:x:1", "level"}, kT0 + 50'000, kT0 + 50'001);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);  // the original and the duplicate
}

TEST_P(HistoryTest, RejectsBadMeasurementsWithoutStoringAny) {
  auto store = MakeStore();
  auto bad = [&](Measurement m, const std::string& field) {
    std::vector<Measurement> batch{{"", "urn:ok", "a", kT0, 1}, m};
    Status st = store->AppendBatch(batch);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(st.field(), field);
  };
  bad({"", "urn:x", "a", kT0, std::nan("")}, "measurements[1].v");
  bad({"", "urn:x", "a", kT0, INFINITY}, "measurements[1].v");
  bad({"", "urn:x", "a", kMaxTimeMs, 1}, "measurements[1].t");
  bad({"", "", "a", kT0, 1}, "measurements[1].entity_id");
  bad({"", "urn:x", "", kT0, 1}, "measurements[1].attribute");
  bad({"", "urn:\x1fx", "a", kT0, 1}, "measurements[1].entity_id");
  bad({"t\n", "urn:x", "a", kT0, 1}, "measurements[1].tenant");
  bad({"", "urn:\xff", "a", kT0, 1}, "measurements[1].entity_id");
  EXPECT_TRUE(ReadAll(*store, "urn:ok", "a").empty());
  EXPECT_TRUE(store->AppendBatch({}).ok());
}

TEST_P(HistoryTest, AFoldWrittenInPartsIsRedoneWithoutDoublingWhatTheHeadsHold) {
  TelemetryOptions options;
  options.fold_after_samples = 0;
  auto store = MakeStore(options);
  // More series than one fold transaction writes, so the fold commits its heads in parts.
  const int kSeries = 2600;
  Batch first;
  for (int s = 0; s < kSeries; ++s) {
    first.Add(Sensor(s), "pm25", kT0 + s, s);
    first.Add(Sensor(s), "pm25", kT0 + 60'000 + s, s + 0.5);
  }
  ASSERT_TRUE(store->AppendBatch(first.Get()).ok());
  auto exec = [&](const char* sql) {
    ASSERT_TRUE(db_->Write([&](storage::Session& s) { return s.Exec(sql).status(); }).ok()) << sql;
  };
  auto count = [&](const char* sql) {
    int64_t n = -1;
    EXPECT_TRUE(db_->Read([&](storage::Session& s) -> Status {
                     TL_ASSIGN_OR_RETURN(auto rs, s.Query(sql));
                     n = rs.rows[0].Int(0);
                     return Status::Ok();
                   }).ok());
    return n;
  };
  exec("CREATE TABLE log_copy AS SELECT * FROM telemetry_log");
  auto folded = store->Fold();
  ASSERT_TRUE(folded.ok()) << folded.status().ToString();
  EXPECT_EQ(*folded, 2 * kSeries);
  EXPECT_EQ(count("SELECT COUNT(*) FROM telemetry_heads"), kSeries);
  EXPECT_EQ(count("SELECT COUNT(*) FROM telemetry_log"), 0);

  // As if the fold had died after writing the heads and before deleting the log rows: the rows are
  // back, and the next fold must not add their samples a second time.
  exec("INSERT INTO telemetry_log SELECT * FROM log_copy");
  Batch second;
  for (int s = 0; s < kSeries; s += 100) second.Add(Sensor(s), "pm25", kT0 + 120'000 + s, -1);
  ASSERT_TRUE(store->AppendBatch(second.Get()).ok());
  ASSERT_TRUE(store->Fold().ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM telemetry_log"), 0);
  for (int s : {0, 1, 1234, 2047, 2048, 2599}) {
    std::vector<Sample> expected{{kT0 + s, static_cast<double>(s)}, {kT0 + 60'000 + s, s + 0.5}};
    if (s % 100 == 0) expected.push_back({kT0 + 120'000 + s, -1});
    EXPECT_EQ(ReadAll(*store, Sensor(s)), expected) << s;
  }
  EXPECT_EQ(count("SELECT SUM(count) FROM telemetry_heads"), 2 * kSeries + kSeries / 100);
}

TEST_P(HistoryTest, CorruptStoredDataIsAnInternalErrorNotTheCallers) {
  auto store = MakeStore();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->Append({"", "urn:x", "a", kT0 + i, 1.5}).ok());
  ASSERT_TRUE(store->Fold().ok());
  ASSERT_TRUE(db_->Write([](storage::Session& s) {
                   return s
                       .Exec("UPDATE telemetry_heads SET data = ?",
                             {storage::Blob{std::string("\x40\x01\x02\x03\x04\x05")}})
                       .status();
                 })
                  .ok());
  auto raw = store->ReadRaw({"", "urn:x", "a"}, kMinTimeMs, kMaxTimeMs);
  EXPECT_EQ(raw.status().code(), StatusCode::kInternal) << raw.status().ToString();
  std::vector<SeriesKey> keys{{"", "urn:x", "a"}};
  auto agg = store->AggregateSeries(keys, {kT0, kT0 + kMillisPerDay, kOneHour, 0});
  EXPECT_EQ(agg.status().code(), StatusCode::kInternal);
  ASSERT_TRUE(store->Append({"", "urn:x", "a", kT0 + 100, 2}).ok());  // appends still work
  EXPECT_EQ(store->Fold().status().code(), StatusCode::kInternal);    // but that series cannot be folded
}

struct Dataset {
  std::vector<std::string> entities;
  std::vector<std::vector<Sample>> samples;
};

// `series` sensors, one sample every `step_ms` with jitter, some samples appended late (out of order).
Dataset AppendDataset(TelemetryStore& store, int series, int64_t from, int64_t to, int64_t step_ms, uint64_t seed) {
  Dataset d;
  std::mt19937_64 rng(seed);
  d.samples.resize(static_cast<size_t>(series));
  for (int s = 0; s < series; ++s) d.entities.push_back(Sensor(100 + s));
  std::vector<std::pair<int, Sample>> late;
  Batch batch;
  for (int64_t t = from; t < to; t += step_ms) {
    for (int s = 0; s < series; ++s) {
      int64_t when = t + static_cast<int64_t>(rng() % 1000);
      double v =
          Round1(40 + 15 * std::sin(static_cast<double>(when) / 3.6e6) + std::normal_distribution<double>(0, 3)(rng));
      d.samples[static_cast<size_t>(s)].push_back({when, v});
      if (rng() % 50 == 0) {
        late.push_back({s, {when, v}});
        continue;
      }
      batch.Add(d.entities[static_cast<size_t>(s)], "pm25", when, v);
    }
    if (batch.items.size() >= 2000) {
      EXPECT_TRUE(store.AppendBatch(batch.Get()).ok());
      batch = Batch{};
    }
  }
  for (const auto& [s, x] : late) batch.Add(d.entities[static_cast<size_t>(s)], "pm25", x.t_ms, x.v);
  EXPECT_TRUE(store.AppendBatch(batch.Get()).ok());
  return d;
}

void ExpectAggregationsMatch(TelemetryStore& store, const Dataset& d, int64_t start, int64_t end, const char* period,
                             int32_t offset, Tier tier, const std::string& what) {
  std::vector<SeriesKey> keys;
  for (const auto& e : d.entities) keys.push_back({"", e, "pm25"});
  keys.push_back({"", "urn:unknown", "pm25"});
  AggregationQuery q{start, end, *ParseAggregationPeriod(period), offset};
  auto r = store.AggregateSeries(keys, q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tier, tier) << what << " " << period;
  ASSERT_EQ(r->series.size(), keys.size());
  EXPECT_TRUE(r->series.back().empty());
  auto grid = *PeriodGrid::Make(start, end, q.period, offset);
  for (size_t i = 0; i < d.entities.size(); ++i) {
    ExpectSameAggregates(BruteForce(d.samples[i], grid), r->series[i],
                         what + " " + period + " series " + std::to_string(i));
  }
}

TEST_P(HistoryTest, AggregationEqualsBruteForceOnEveryTier) {
  TelemetryOptions options;
  options.chunk_samples = 64;
  options.fold_after_samples = 3000;
  auto store = MakeStore(options);
  const int64_t from = kT0, to = kT0 + 6 * kMillisPerDay;
  Dataset d = AppendDataset(*store, 5, from, to, 5 * 60'000, 6);
  auto check = [&](const std::string& what) {
    ExpectAggregationsMatch(*store, d, from, to, "PT1H", 0, Tier::kHour, what);
    ExpectAggregationsMatch(*store, d, from - 7 * kMillisPerHour, to, "P1D", 420, Tier::kHour, what);
    ExpectAggregationsMatch(*store, d, from, to, "P1M", 420, Tier::kHour, what);
    ExpectAggregationsMatch(*store, d, from, to, "PT0S", 0, Tier::kHour, what);
    ExpectAggregationsMatch(*store, d, from + 15 * 60'000, to - kMillisPerHour, "PT15M", 0, Tier::kMinute, what);
    ExpectAggregationsMatch(*store, d, from + 1234, to, "PT7M", 0, Tier::kRaw, what);
  };
  check("log and heads");
  ASSERT_TRUE(store->Fold().ok());
  check("folded");
  auto report = store->Maintain(to + kMillisPerDay);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->rolled_chunks, 0);
  check("rolled up");
  // Once the open heads are sealed too, the 1-hour tier answers without decoding anything.
  ASSERT_TRUE(store->Maintain(to + 8 * kMillisPerDay).ok());
  check("sealed");
  std::vector<SeriesKey> keys{{"", d.entities[0], "pm25"}};
  auto r = store->AggregateSeries(keys, {from, to, kOneHour, 0});
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->rollup_records, 100u);
  EXPECT_EQ(r->chunks_decoded, 0u);
}

TEST_P(HistoryTest, ManySeriesAggregateInTwoPartsLikeBruteForce) {
  TelemetryOptions options;
  options.chunk_samples = 40;
  options.fold_after_samples = 0;
  auto store = MakeStore(options);
  const int64_t from = kT0, to = kT0 + 2 * kMillisPerDay;
  Dataset d = AppendDataset(*store, 300, from, from + kMillisPerDay, 30 * 60'000, 9);
  ASSERT_TRUE(store->Maintain(from + kMillisPerDay).ok());                               // chunks, heads, 1-hour rows
  Dataset more = AppendDataset(*store, 300, from + kMillisPerDay, to, 30 * 60'000, 10);  // in the log
  for (size_t i = 0; i < d.entities.size(); ++i) {
    d.samples[i].insert(d.samples[i].end(), more.samples[i].begin(), more.samples[i].end());
  }
  ExpectAggregationsMatch(*store, d, from, to, "PT1H", 0, Tier::kHour, "300 series");
  ExpectAggregationsMatch(*store, d, from + 60'000, to, "PT30M", 0, Tier::kMinute, "300 series");
  // A series asked for twice gets the same periods twice.
  std::vector<SeriesKey> keys;
  for (const auto& e : d.entities) keys.push_back({"", e, "pm25"});
  keys.push_back(keys.front());
  auto r = store->AggregateSeries(keys, {from, to, kOneHour, 0});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->series.back(), r->series.front());
  EXPECT_GT(r->log_samples, 0u);
}

TEST_P(HistoryTest, RetentionDeletesRawAndRollupsStillAnswer) {
  TelemetryOptions options;
  options.chunk_samples = 128;
  options.retention.raw_ms = 20 * kMillisPerDay;
  options.retention.minute_ms = 40 * kMillisPerDay;
  auto store = MakeStore(options);
  const int64_t from = kT0, to = kT0 + 70 * kMillisPerDay;  // January to mid-March
  const int64_t now = to + kMillisPerHour;
  Dataset d = AppendDataset(*store, 3, from, to, 30 * 60'000, 7);
  auto report = store->Maintain(now);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->expired_chunks, 0);
  if (GetParam() == "postgres") {
    EXPECT_GE(report->dropped_partitions, 1);
  }
  const int64_t raw_horizon = now - options.retention.raw_ms;
  const int64_t minute_horizon = now - options.retention.minute_ms;
  for (size_t i = 0; i < d.entities.size(); ++i) {
    std::vector<Sample> kept = ReadAll(*store, d.entities[i]);
    std::vector<Sample> recent;
    for (const Sample& s : d.samples[i]) {
      if (s.t_ms >= raw_horizon) recent.push_back(s);
    }
    std::vector<Sample> kept_recent;
    for (const Sample& s : kept) {
      EXPECT_GE(s.t_ms, raw_horizon - kChunkSpanMs);
      if (s.t_ms >= raw_horizon) kept_recent.push_back(s);
    }
    ExpectSameSamples(recent, kept_recent, "raw samples within retention");
    EXPECT_LT(kept.size(), d.samples[i].size() / 2);
  }
  // 1-hour records cover everything; 1-minute records what the minute retention keeps.
  ExpectAggregationsMatch(*store, d, from, now, "PT1H", 0, Tier::kHour, "after retention");
  ExpectAggregationsMatch(*store, d, from - 7 * kMillisPerHour, now, "P1D", 420, Tier::kHour, "after retention");
  ExpectAggregationsMatch(*store, d, minute_horizon, now, "PT10M", 0, Tier::kMinute, "after retention");
  // Idempotent.
  auto again = store->Maintain(now);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->folded_samples + again->sealed_heads + again->rolled_chunks + again->expired_chunks, 0);
  ExpectAggregationsMatch(*store, d, from, now, "PT1H", 0, Tier::kHour, "after a second maintenance");
  // A sample from long past the raw retention still counts once it arrives.
  Measurement old{"", d.entities[0], "pm25", kT0 + 5 * kMillisPerDay + 123, 999.5};
  ASSERT_TRUE(store->Append(old).ok());
  d.samples[0].push_back({old.t_ms, old.v});
  ExpectAggregationsMatch(*store, d, from, now, "PT1H", 0, Tier::kHour, "late sample before maintenance");
  ASSERT_TRUE(store->Maintain(now).ok());
  ExpectAggregationsMatch(*store, d, from, now, "PT1H", 0, Tier::kHour, "late sample after maintenance");
  // Minute records past their retention go too.
  auto later = store->Maintain(now + 100 * kMillisPerDay);
  ASSERT_TRUE(later.ok());
  EXPECT_GT(later->expired_minute_rows, 0);
  ExpectAggregationsMatch(*store, d, from, now, "PT1H", 0, Tier::kHour, "much later");
}

TEST_P(HistoryTest, ReopeningKeepsEverything) {
  TelemetryOptions options;
  options.chunk_samples = 40;
  options.fold_after_samples = 700;
  Dataset d;
  {
    auto store = MakeStore(options);
    d = AppendDataset(*store, 4, kT0, kT0 + 2 * kMillisPerDay, 10 * 60'000, 8);
    ASSERT_TRUE(store->Maintain(kT0 + kMillisPerDay).ok());
    Batch extra;  // left in the log
    for (int i = 0; i < 4; ++i) {
      extra.Add(d.entities[static_cast<size_t>(i)], "pm25", kT0 + 3 * kMillisPerDay, i);
      d.samples[static_cast<size_t>(i)].push_back({kT0 + 3 * kMillisPerDay, static_cast<double>(i)});
    }
    ASSERT_TRUE(store->AppendBatch(extra.Get()).ok());
  }
  db_.reset();
  db_ = scratch_->Open(2);
  ASSERT_NE(db_, nullptr);
  auto store = MakeStore(options);
  for (size_t i = 0; i < d.entities.size(); ++i)
    ExpectSameSamples(d.samples[i], ReadAll(*store, d.entities[i]), "reopened");
  ExpectAggregationsMatch(*store, d, kT0, kT0 + 4 * kMillisPerDay, "PT1H", 0, Tier::kHour, "reopened");
}

TEST_P(HistoryTest, ConcurrentAppendersAndFoldersLoseNothing) {
  TelemetryOptions options;
  options.chunk_samples = 30;
  options.fold_after_samples = 400;
  // Two stores over one database behave like two processes: separate caches and locks.
  auto a = MakeStore(options);
  auto b = MakeStore(options);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::vector<Sample>> expected(8);
  auto appender = [&](TelemetryStore* store, int first_series) {
    std::mt19937_64 rng(static_cast<uint64_t>(first_series));
    for (int round = 0; round < 60; ++round) {
      Batch batch;
      for (int s = first_series; s < first_series + 4; ++s) {
        for (int i = 0; i < 10; ++i) {
          // Mostly in order, now and then late.
          int64_t t = kT0 + (round * 10 + i) * 1000 - (rng() % 10 == 0 ? 300'000 : 0);
          double v = Round1(static_cast<double>(rng() % 1000) / 7);
          batch.Add(Sensor(s), "pm25", t, v);
          expected[static_cast<size_t>(s)].push_back({t, v});
        }
      }
      if (!store->AppendBatch(batch.Get()).ok()) failures++;
    }
  };
  auto folder = [&](TelemetryStore* store, bool maintain) {
    while (!done.load()) {
      auto st = maintain ? store->Maintain(kT0 + kMillisPerDay).status() : store->Fold().status();
      if (!st.ok()) {
        ADD_FAILURE() << st.ToString();
        failures++;
      }
    }
  };
  std::thread fa(folder, a.get(), true), fb(folder, b.get(), false);
  std::thread wa(appender, a.get(), 0), wb(appender, b.get(), 4);
  wa.join();
  wb.join();
  done = true;
  fa.join();
  fb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(a->failed_inline_folds() + b->failed_inline_folds(), 0);
  for (int s = 0; s < 8; ++s) {
    ExpectSameSamples(expected[static_cast<size_t>(s)], ReadAll(*b, Sensor(s)), "series " + std::to_string(s));
  }
  ASSERT_TRUE(a->Maintain(kT0 + 10 * kMillisPerDay).ok());
  for (int s = 0; s < 8; ++s) {
    ExpectSameSamples(expected[static_cast<size_t>(s)], ReadAll(*a, Sensor(s)),
                      "after maintenance " + std::to_string(s));
  }
}

// The child appends numbered batches and reports each acknowledged one on a pipe until it is killed.
[[noreturn]] void AppendUntilKilled(const testing::ScratchStore& scratch, int fd) {
  auto db = storage::Open(scratch.database_url(), scratch.data_dir(), 2);
  if (!db.ok()) _exit(3);
  TelemetryOptions options;
  options.chunk_samples = 50;
  options.fold_after_samples = 2000;  // folds happen while it is killed, too
  auto store = TelemetryStore::Open(db->get(), options);
  if (!store.ok()) _exit(4);
  for (int64_t b = 0;; ++b) {
    Batch batch;
    for (int s = 0; s < 20; ++s) {
      for (int i = 0; i < 10; ++i)
        batch.Add(Sensor(s), "pm25", kT0 + (b * 10 + i) * 1000, static_cast<double>(b % 1000));
    }
    if (!(*store)->AppendBatch(batch.Get()).ok()) _exit(5);
    if (write(fd, &b, sizeof b) != sizeof b) _exit(6);
  }
}

TEST_P(HistoryTest, AcknowledgedBatchesSurviveSigkill) {
  db_.reset();                                 // no connection (and no writer thread) crosses the fork
  std::map<int64_t, int> acknowledged_copies;  // batch → runs that had it acknowledged
  for (int run = 0; run < 3; ++run) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      AppendUntilKilled(*scratch_, fds[1]);
    }
    close(fds[1]);
    int64_t acknowledged = -1;
    int64_t b;
    const int64_t target = 40 + run * 60;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (acknowledged < target && std::chrono::steady_clock::now() < deadline &&
           read(fds[0], &b, sizeof b) == sizeof b) {
      acknowledged = b;
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read(fds[0], &b, sizeof b) == sizeof b) acknowledged = b;  // acknowledged before it died
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    ASSERT_GE(acknowledged, target) << "run " << run;
    for (int64_t t = 0; t <= acknowledged; ++t) acknowledged_copies[t]++;

    db_ = scratch_->Open(2);
    ASSERT_NE(db_, nullptr);
    auto store = MakeStore();
    for (int s = 0; s < 20; ++s) {
      // Every run appends batches 0, 1, 2, ... again: each acknowledged copy must be there.
      std::map<int64_t, int> copies;
      for (const Sample& x : ReadAll(*store, Sensor(s))) copies[x.t_ms]++;
      for (const auto& [t, n] : acknowledged_copies) {
        for (int i = 0; i < 10; ++i) {
          ASSERT_GE(copies[kT0 + (t * 10 + i) * 1000], n) << "run " << run << " batch " << t << " series " << s;
        }
      }
    }
    ASSERT_TRUE(store->Maintain(kT0 + kMillisPerDay).ok());
    std::map<int64_t, int> copies;
    for (const Sample& x : ReadAll(*store, Sensor(3))) copies[x.t_ms]++;
    for (const auto& [t, n] : acknowledged_copies) ASSERT_GE(copies[kT0 + t * 10 * 1000], n) << "after maintenance";
    store.reset();
    db_.reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, HistoryTest, ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tl::telemetry
