// Telemetry history (src/modules/telemetry/history.h) on the project's storage, beside raw SQLite:
//   1. ingestion through AppendBatch: SERIES simulator-like series (air quality, traffic, water level,
//      parking, street-light power), every one reporting once a minute at its own second of the
//      minute, TICKS minutes, batches of about BATCH measurements; each batch durable (one
//      transaction) before the next. Generating the values is not timed. Figures: appends alone, and
//      appends plus the Maintain() that folds, seals and rolls up what they left.
//   2. on-disk bytes per measurement after that: the database file after closing (SQLite), or the
//      sum of the telemetry tables' pg_total_relation_size (PostgreSQL).
//   3. aggregation of AGG_SENSORS sensors × AGG_DAYS days (one sample every AGG_INTERVAL_S) into
//      1-hour periods (avg, min, max, count for each), after Maintain(): first and median of 5 runs.
// With --threads N (default 2), step 1 is repeated into a fresh store from N threads at once (each
// appending batches of its share of the series; wall time, generating the values included).
// Baselines in the same run (raw SQLite, same PRAGMAs as the store: WAL, synchronous=FULL): the same
// samples as plain (series, t, v) rows inserted in one transaction with a prepared statement, the
// file it makes, and the same aggregation as one GROUP BY over those rows.
//
//   telemetry_bench --dir DIR [--series 10000] [--ticks 1440] [--batch 10000] [--agg-sensors 1000]
//                   [--agg-days 30] [--agg-interval-s 60] [--postgres URL] [--skip-sqlite]
//                   [--fold-after N]   (TelemetryOptions::fold_after_samples) [--keep] [--threads 2]
//
// THANGLONG_BENCH_POSTGRES_URL (or --postgres) also runs 1-3 on PostgreSQL (its own schema, dropped
// after). Prints one "name<TAB>value<TAB>unit" line per figure; progress goes to stderr.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "modules/telemetry/history.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace {

using tl::telemetry::Measurement;
using tl::telemetry::TelemetryStore;
namespace fs = std::filesystem;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'767'225'600'000 - 7 * kHour;  // 2026-01-01T00:00+07:00

void Print(const std::string& name, double value, const char* unit) {
  std::printf("%s\t%.6g\t%s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}
void Log(const std::string& s) {
  std::fprintf(stderr, "[telemetry_bench] %s\n", s.c_str());
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "telemetry_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const tl::Status& st, const char* what) {
  if (!st.ok()) Die(std::string(what) + ": " + st.ToString());
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Round(double v, int decimals) {
  double p = std::pow(10.0, decimals);
  return std::round(v * p) / p;
}
double LocalHour(int64_t t) {
  return static_cast<double>(((t + 7 * kHour) % kDay + kDay) % kDay) / kHour;
}

// ---- Simulator-like series ---------------------------------------------------------------------------

enum class Kind { kPm25, kNo2, kSpeed, kIntensity, kWater, kParking, kLight };

struct Series {
  std::string entity;
  const char* attribute;
  Kind kind;
  int64_t phase_ms;  // the second of the minute it reports at
  double state = 0;
  double level = 0;
};

// 40% street lights (power, W), 20% traffic (speed and intensity), 20% air (PM2.5, NO2), 10% parking,
// 10% flood gauges, as the city simulator of issue 5 §6 spreads them.
std::vector<Series> MakeSeries(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Series> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int r = i % 10;
    Series s;
    s.phase_ms = static_cast<int64_t>(rng() % 60) * 1000;
    if (r < 4) {
      s = {"urn:ngsi-ld:Streetlight:hn-" + std::to_string(i), "powerConsumption", Kind::kLight, s.phase_ms};
      s.level = 80 + static_cast<double>(rng() % 70);
    } else if (r == 4) {
      s = {"urn:ngsi-ld:TrafficFlowObserved:hn-" + std::to_string(i), "averageVehicleSpeed", Kind::kSpeed, s.phase_ms};
    } else if (r == 5) {
      s = {"urn:ngsi-ld:TrafficFlowObserved:hn-" + std::to_string(i), "intensity", Kind::kIntensity, s.phase_ms};
      s.level = 10 + static_cast<double>(rng() % 40);
    } else if (r == 6) {
      s = {"urn:ngsi-ld:AirQualityObserved:hn-" + std::to_string(i), "pm25", Kind::kPm25, s.phase_ms};
      s.level = 30 + static_cast<double>(rng() % 60);
    } else if (r == 7) {
      s = {"urn:ngsi-ld:AirQualityObserved:hn-" + std::to_string(i), "no2", Kind::kNo2, s.phase_ms};
      s.level = 20 + static_cast<double>(rng() % 40);
    } else if (r == 8) {
      s = {"urn:ngsi-ld:OffStreetParking:hn-" + std::to_string(i), "availableSpotNumber", Kind::kParking, s.phase_ms};
      s.level = 50 + static_cast<double>(rng() % 300);
      s.state = s.level;
    } else {
      s = {"urn:ngsi-ld:WaterObserved:hn-" + std::to_string(i), "height", Kind::kWater, s.phase_ms};
      s.level = 300 + static_cast<double>(rng() % 300);
    }
    out.push_back(std::move(s));
  }
  return out;
}

double NextValue(Series& s, int64_t t, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0, 1);
  const double h = LocalHour(t);
  switch (s.kind) {
    case Kind::kLight: {  // on from ~18:00 to ~06:00, mains ripple of a watt or two
      bool on = h >= 18 || h < 6;
      return on ? std::round(s.level + 1.5 * noise(rng)) : 0;
    }
    case Kind::kSpeed: {
      double rush = std::exp(-std::pow((h - 8) / 1.2, 2)) + std::exp(-std::pow((h - 17.5) / 1.5, 2));
      s.state = 0.8 * s.state + 1.5 * noise(rng);
      return Round(std::clamp(45 - 25 * rush + s.state, 3.0, 80.0), 1);
    }
    case Kind::kIntensity: {
      double day = std::exp(-std::pow((h - 8) / 2.0, 2)) + std::exp(-std::pow((h - 17.5) / 2.5, 2)) + 0.3;
      return std::max(0.0, std::round(s.level * day + 3 * noise(rng)));
    }
    case Kind::kPm25:
    case Kind::kNo2: {
      s.state = 0.995 * s.state + 0.05 * noise(rng);
      double diurnal = 1 + 0.25 * std::cos(2 * std::numbers::pi * (h - 21) / 24);
      return Round(std::max(1.0, s.level * diurnal * std::exp(s.state) + 0.8 * noise(rng)), 1);
    }
    case Kind::kParking: {
      double target = (h > 8 && h < 18) ? 0.1 * s.level : s.level;
      s.state += 0.02 * (target - s.state) + 0.7 * noise(rng);
      return std::clamp(std::round(s.state), 0.0, s.level);
    }
    case Kind::kWater: {
      s.state = 0.999 * s.state + 0.3 * noise(rng);
      return std::round(s.level + 20 * std::sin(static_cast<double>(t) / (14.0 * kDay) * 2 * std::numbers::pi) +
                        s.state);
    }
  }
  return 0;
}

// Fills `batch` with ticks starting at `tick` until it holds at least `target` measurements; returns
// the next tick.
int64_t NextBatch(std::vector<Series>& series, int64_t tick, int64_t ticks, int64_t tick_ms, size_t target,
                  std::mt19937_64& rng, std::vector<Measurement>& batch) {
  batch.clear();
  while (tick < ticks && batch.size() < target) {
    for (Series& s : series) {
      int64_t t = kStart + tick * tick_ms + s.phase_ms % tick_ms;
      batch.push_back({"", s.entity, s.attribute, t, NextValue(s, t, rng)});
    }
    ++tick;
  }
  return tick;
}

// ---- The store ---------------------------------------------------------------------------------------

struct Store {
  std::unique_ptr<tl::storage::Database> db;
  std::unique_ptr<TelemetryStore> telemetry;
};

Store OpenStore(const std::string& url, const std::string& dir, int64_t fold_after) {
  auto db = tl::storage::Open(url, dir, 4);
  if (!db.ok()) Die(db.status().ToString());
  auto applied = tl::storage::ApplyMigrations(**db, TelemetryStore::Migrations((*db)->dialect()));
  if (!applied.ok()) Die(applied.status().ToString());
  tl::telemetry::TelemetryOptions options;
  options.fold_after_samples = fold_after;
  auto store = TelemetryStore::Open(db->get(), options);
  if (!store.ok()) Die(store.status().ToString());
  return {std::move(*db), std::move(*store)};
}

struct Ingested {
  int64_t measurements = 0;
  double append_s = 0;
  double maintain_s = 0;
  int64_t end_ms = 0;
};

Ingested Ingest(TelemetryStore& store, std::vector<Series> series, int64_t ticks, int64_t tick_ms, size_t batch_size,
                uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Measurement> batch;
  Ingested r;
  int64_t last_report = 0;
  for (int64_t tick = 0; tick < ticks;) {
    tick = NextBatch(series, tick, ticks, tick_ms, batch_size, rng, batch);
    auto t0 = std::chrono::steady_clock::now();
    Check(store.AppendBatch(batch), "AppendBatch");
    r.append_s += Seconds(t0);
    r.measurements += static_cast<int64_t>(batch.size());
    if (r.measurements - last_report >= 2'000'000) {
      last_report = r.measurements;
      Log(std::to_string(r.measurements) + " measurements, " + std::to_string(r.measurements / r.append_s) + "/s");
    }
  }
  r.end_ms = kStart + ticks * tick_ms;
  auto t0 = std::chrono::steady_clock::now();
  auto report = store.Maintain(r.end_ms + kMinute);
  if (!report.ok()) Die("Maintain: " + report.status().ToString());
  r.maintain_s = Seconds(t0);
  if (store.failed_inline_folds() > 0) Die("inline folds failed");
  return r;
}

// The same stream from `threads` threads, each appending the batches of its share of the series;
// measurements/s over the wall time, generating the values included.
double IngestThreaded(TelemetryStore& store, const std::vector<Series>& all, int64_t ticks, int64_t tick_ms,
                      size_t batch_size, int threads, uint64_t seed) {
  std::vector<std::vector<Series>> shares(static_cast<size_t>(threads));
  for (size_t i = 0; i < all.size(); ++i) shares[i % shares.size()].push_back(all[i]);
  std::atomic<int64_t> total{0};
  std::atomic<bool> failed{false};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(w));
      std::vector<Measurement> batch;
      std::vector<Series>& mine = shares[static_cast<size_t>(w)];
      for (int64_t tick = 0; tick < ticks && !failed;) {
        tick = NextBatch(mine, tick, ticks, tick_ms, batch_size, rng, batch);
        if (!store.AppendBatch(batch).ok()) failed = true;
        total += static_cast<int64_t>(batch.size());
      }
    });
  }
  for (auto& t : workers) t.join();
  if (failed) Die("AppendBatch failed");
  return static_cast<double>(total.load()) / Seconds(t0);
}

struct AggTiming {
  double first_ms = 0;
  double median_ms = 0;
  uint64_t periods = 0;
  uint64_t rollup_records = 0;
};

AggTiming TimeAggregation(TelemetryStore& store, const std::vector<Series>& series, int64_t start, int64_t end) {
  std::vector<tl::telemetry::SeriesKey> keys;
  for (const Series& s : series) keys.push_back({"", s.entity, s.attribute});
  tl::telemetry::AggregationQuery q{start, end, tl::telemetry::kOneHour, 0};
  std::vector<double> times;
  AggTiming r;
  for (int i = 0; i < 6; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto result = store.AggregateSeries(keys, q);
    if (!result.ok()) Die("AggregateSeries: " + result.status().ToString());
    // What an API would answer: avg, min, max, totalCount per period.
    double checksum = 0;
    uint64_t periods = 0;
    for (const auto& s : result->series) {
      for (const auto& rec : s) {
        checksum += rec.agg.avg() + rec.agg.min + rec.agg.max + static_cast<double>(rec.agg.count);
        ++periods;
      }
    }
    times.push_back(Seconds(t0) * 1000);
    if (checksum == -1) Log("impossible");
    r.periods = periods;
    r.rollup_records = result->rollup_records;
  }
  r.first_ms = times[0];
  std::vector<double> warm(times.begin() + 1, times.end());
  std::sort(warm.begin(), warm.end());
  r.median_ms = warm[warm.size() / 2];
  return r;
}

// ---- Raw SQLite baseline -----------------------------------------------------------------------------

struct RawSqlite {
  sqlite3* db = nullptr;
  explicit RawSqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("sqlite3_open");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("PRAGMA cache_size=-16000");
  }
  ~RawSqlite() { sqlite3_close(db); }
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) Die(std::string(sql) + ": " + (err ? err : ""));
  }
};

// Inserts the same samples as plain rows in one transaction; returns the seconds taken (values not timed).
double RawInsert(const std::string& path, std::vector<Series> series, int64_t ticks, int64_t tick_ms, size_t batch_size,
                 uint64_t seed) {
  RawSqlite raw(path);
  raw.Exec("CREATE TABLE samples (series INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL)");
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(raw.db, "INSERT INTO samples (series, t, v) VALUES (?, ?, ?)", -1, &stmt, nullptr) !=
      SQLITE_OK) {
    Die("prepare");
  }
  std::mt19937_64 rng(seed);
  std::vector<Measurement> batch;
  double seconds = 0;
  auto t0 = std::chrono::steady_clock::now();
  raw.Exec("BEGIN");
  seconds += Seconds(t0);
  for (int64_t tick = 0; tick < ticks;) {
    tick = NextBatch(series, tick, ticks, tick_ms, batch_size, rng, batch);
    t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < batch.size(); ++i) {
      sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(i % series.size()) + 1);
      sqlite3_bind_int64(stmt, 2, batch[i].t_ms);
      sqlite3_bind_double(stmt, 3, batch[i].v);
      if (sqlite3_step(stmt) != SQLITE_DONE) Die("step");
      sqlite3_reset(stmt);
    }
    seconds += Seconds(t0);
  }
  t0 = std::chrono::steady_clock::now();
  raw.Exec("COMMIT");
  seconds += Seconds(t0);
  sqlite3_finalize(stmt);
  return seconds;
}

// The same 1-hour aggregation as one GROUP BY over the plain rows; returns milliseconds (best of 3).
double RawAggregate(const std::string& path, int64_t start, int64_t end) {
  RawSqlite raw(path);
  sqlite3_stmt* stmt = nullptr;
  const char* sql =
      "SELECT series, (t - ?1) / 3600000 AS period, COUNT(*), AVG(v), MIN(v), MAX(v) FROM samples "
      "WHERE t >= ?1 AND t < ?2 GROUP BY series, period";
  if (sqlite3_prepare_v2(raw.db, sql, -1, &stmt, nullptr) != SQLITE_OK) Die("prepare aggregate");
  double best = 1e18;
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    sqlite3_bind_int64(stmt, 1, start);
    sqlite3_bind_int64(stmt, 2, end);
    int64_t rows = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) ++rows;
    sqlite3_reset(stmt);
    best = std::min(best, Seconds(t0) * 1000);
    if (rows == 0) Die("baseline aggregation found nothing");
  }
  sqlite3_finalize(stmt);
  return best;
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  int64_t n = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto size = fs::file_size(path + suffix, ec);
    if (!ec) n += static_cast<int64_t>(size);
  }
  return n;
}

// Pages in use (without the free list) × page size.
int64_t LiveSqliteBytes(const std::string& path) {
  RawSqlite raw(path);
  auto one = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(raw.db, sql, -1, &stmt, nullptr);
    int64_t v = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    return v;
  };
  return (one("PRAGMA page_count") - one("PRAGMA freelist_count")) * one("PRAGMA page_size");
}

int64_t PostgresBytes(tl::storage::Database& db) {
  int64_t bytes = 0;
  Check(db.Read([&](tl::storage::Session& s) -> tl::Status {
    TL_ASSIGN_OR_RETURN(auto rs,
                        s.Query("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c "
                                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
                                "AND c.relname LIKE 'telemetry%'"));
    bytes = rs.rows[0].Int(0);
    return tl::Status::Ok();
  }),
        "relation sizes");
  return bytes;
}

struct Options {
  std::string dir;
  std::string postgres;
  int series = 10'000;
  int64_t ticks = 1440;
  size_t batch = 10'000;
  int agg_sensors = 1000;
  int agg_days = 30;
  int64_t agg_interval_s = 60;
  bool sqlite = true;
  int64_t fold_after = tl::telemetry::TelemetryOptions{}.fold_after_samples;
  bool keep = false;  // keep the PostgreSQL schema (the SQLite files stay in DIR anyway)
  int threads = 2;    // also ingest from this many threads at once (1: not)
};

void Run(const Options& o, bool postgres) {
  const std::string backend = postgres ? "postgres" : "sqlite";
  const std::string p = backend + ".";
  // PostgreSQL: a schema of its own for each of the three stores.
  std::string url, threads_url, agg_url;
  std::vector<std::string> schemas;
  if (postgres) {
    auto admin = tl::storage::Open(o.postgres, "", 1);
    if (!admin.ok()) Die(admin.status().ToString());
    for (const char* part : {"ingest", "threads", "aggregate"}) {
      std::string schema = "telemetry_bench_" + std::to_string(getpid()) + "_" + part;
      Check((*admin)->Write([&](tl::storage::Session& s) { return s.ExecScript("CREATE SCHEMA " + schema); }),
            "schema");
      schemas.push_back(schema);
    }
    const std::string sep = o.postgres.find('?') == std::string::npos ? "?" : "&";
    url = o.postgres + sep + "options=-csearch_path%3D" + schemas[0];
    threads_url = o.postgres + sep + "options=-csearch_path%3D" + schemas[1];
    agg_url = o.postgres + sep + "options=-csearch_path%3D" + schemas[2];
  }
  const std::string ingest_dir = o.dir + "/" + backend + "-ingest";
  const std::string agg_dir = o.dir + "/" + backend + "-aggregate";

  // 1 and 2: ingestion and bytes.
  Log(backend + ": ingesting " + std::to_string(o.series) + " series × " + std::to_string(o.ticks) + " minutes");
  Ingested in;
  int64_t pg_bytes = 0;
  int64_t pg_bytes_vacuumed = 0;
  {
    Store store = OpenStore(url, ingest_dir, o.fold_after);
    in = Ingest(*store.telemetry, MakeSeries(o.series, 1), o.ticks, kMinute, o.batch, 2);
    if (postgres) {
      pg_bytes = PostgresBytes(*store.db);
      // Reads run outside a transaction block on PostgreSQL, where VACUUM may run.
      Check(store.db->Read([](tl::storage::Session& s) { return s.ExecScript("VACUUM"); }), "VACUUM");
      pg_bytes_vacuumed = PostgresBytes(*store.db);
    }
  }
  const double n = static_cast<double>(in.measurements);
  Print(p + "measurements", n, "measurements");
  Print(p + "append_rate", n / in.append_s, "measurements/s");
  Print(p + "append_and_maintain_rate", n / (in.append_s + in.maintain_s), "measurements/s");
  Print(p + "maintain_after_ingest", in.maintain_s * 1000, "ms");
  if (postgres) {
    Print(p + "bytes_per_measurement", static_cast<double>(pg_bytes) / n, "B");
    Print(p + "bytes_per_measurement_after_vacuum", static_cast<double>(pg_bytes_vacuumed) / n, "B");
  } else {
    const std::string file = ingest_dir + "/thanglong.db";
    Print(p + "bytes_per_measurement", static_cast<double>(FileBytes(file)) / n, "B");
    Print(p + "live_bytes_per_measurement", static_cast<double>(LiveSqliteBytes(file)) / n, "B");
  }

  if (o.threads > 1) {
    Store store = OpenStore(threads_url, ingest_dir + "-threads", o.fold_after);
    double rate = IngestThreaded(*store.telemetry, MakeSeries(o.series, 1), o.ticks, kMinute, o.batch, o.threads, 5);
    Print(p + "append_rate_" + std::to_string(o.threads) + "_threads", rate, "measurements/s");
  }

  // 3: aggregation.
  const int64_t tick_ms = o.agg_interval_s * 1000;
  const int64_t agg_ticks = o.agg_days * kDay / tick_ms;
  Log(backend + ": " + std::to_string(o.agg_sensors) + " sensors × " + std::to_string(o.agg_days) + " days every " +
      std::to_string(o.agg_interval_s) + " s");
  std::vector<Series> sensors = MakeSeries(o.agg_sensors, 3);
  // Air quality, traffic and water only: sensors that measure all day.
  for (size_t i = 0; i < sensors.size(); ++i) {
    if (sensors[i].kind == Kind::kLight) {
      sensors[i].kind = Kind::kPm25;
      sensors[i].attribute = "pm25";
      sensors[i].entity = "urn:ngsi-ld:AirQualityObserved:agg-" + std::to_string(i);
      sensors[i].level = 30 + static_cast<double>(i % 60);
    }
  }
  {
    Store store = OpenStore(agg_url, agg_dir, o.fold_after);
    Ingested agg = Ingest(*store.telemetry, sensors, agg_ticks, tick_ms, o.batch, 4);
    Print(p + "aggregate.samples", static_cast<double>(agg.measurements), "measurements");
    Print(p + "aggregate.ingest_rate", agg.measurements / (agg.append_s + agg.maintain_s), "measurements/s");
    AggTiming t = TimeAggregation(*store.telemetry, sensors, kStart, kStart + o.agg_days * kDay);
    Print(p + "aggregate.periods", static_cast<double>(t.periods), "periods");
    Print(p + "aggregate.rollup_records", static_cast<double>(t.rollup_records), "records");
    Print(p + "aggregate.first_ms", t.first_ms, "ms");
    Print(p + "aggregate.median_ms", t.median_ms, "ms");
  }

  if (postgres) {
    auto admin = tl::storage::Open(o.postgres, "", 1);
    for (const std::string& schema : schemas) {
      if (o.keep) {
        Log("kept schema " + schema);
      } else if (admin.ok()) {
        (*admin)
            ->Write([&](tl::storage::Session& s) { return s.ExecScript("DROP SCHEMA " + schema + " CASCADE"); })
            .IgnoreError();
      }
    }
    return;
  }
  // Baselines: raw SQLite, the same samples.
  {
    const std::string file = o.dir + "/raw-ingest.db";
    double s = RawInsert(file, MakeSeries(o.series, 1), o.ticks, kMinute, o.batch, 2);
    Print("raw_sqlite.insert_rate", n / s, "rows/s");
    Print("raw_sqlite.bytes_per_row", static_cast<double>(FileBytes(file)) / n, "B");
    fs::remove(file);
  }
  {
    const std::string file = o.dir + "/raw-aggregate.db";
    double s = RawInsert(file, sensors, agg_ticks, tick_ms, o.batch, 4);
    const double rows = static_cast<double>(agg_ticks) * o.agg_sensors;
    Print("raw_sqlite.aggregate.insert_rate", rows / s, "rows/s");
    Print("raw_sqlite.aggregate.bytes_per_row", static_cast<double>(FileBytes(file)) / rows, "B");
    Print("raw_sqlite.aggregate.group_by_ms", RawAggregate(file, kStart, kStart + o.agg_days * kDay), "ms");
    fs::remove(file);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const char* pg = std::getenv("THANGLONG_BENCH_POSTGRES_URL")) o.postgres = pg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--dir")
      o.dir = next();
    else if (a == "--postgres")
      o.postgres = next();
    else if (a == "--series")
      o.series = std::stoi(next());
    else if (a == "--ticks")
      o.ticks = std::stoll(next());
    else if (a == "--batch")
      o.batch = static_cast<size_t>(std::stoll(next()));
    else if (a == "--agg-sensors")
      o.agg_sensors = std::stoi(next());
    else if (a == "--agg-days")
      o.agg_days = std::stoi(next());
    else if (a == "--agg-interval-s")
      o.agg_interval_s = std::stoll(next());
    else if (a == "--skip-sqlite")
      o.sqlite = false;
    else if (a == "--fold-after")
      o.fold_after = std::stoll(next());
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--threads")
      o.threads = std::stoi(next());
    else
      Die("unknown argument " + a);
  }
  if (o.dir.empty()) Die("--dir DIR is required (an empty directory for the databases)");
  if (o.series <= 0 || o.ticks <= 0 || o.batch == 0 || o.agg_sensors <= 0 || o.agg_days <= 0 || o.agg_interval_s <= 0) {
    Die("sizes must be positive");
  }
  fs::create_directories(o.dir);
  Print("series", o.series, "series");
  Print("ticks", static_cast<double>(o.ticks), "minutes");
  Print("batch", static_cast<double>(o.batch), "measurements");
  Print("aggregate.sensors", o.agg_sensors, "series");
  Print("aggregate.days", o.agg_days, "days");
  Print("aggregate.interval", static_cast<double>(o.agg_interval_s), "s");
  if (o.sqlite) Run(o, false);
  if (!o.postgres.empty()) Run(o, true);
  return 0;
}
