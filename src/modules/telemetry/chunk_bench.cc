// Telemetry chunk codec on realistic series: bytes per sample (against 16 bytes for a raw time and
// double, and against plain Gorilla), encode and decode throughput on one core, and the temporal
// aggregation of 1,000 sensors × 30 days into 1-hour periods.
//
//   telemetry_codec_bench [PM25_CSV] [--chunk N] [--seconds S]
//
// PM25_CSV is one of the US Embassy Hà Nội files (/work/shared/data/air-quality/hanoi-pm25-*.csv:
// "Raw Conc." hourly, -999 for missing, local time UTC+7); without it the PM2.5 series is synthetic.
// Prints one "name<TAB>value<TAB>unit" line per figure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/civil_date.h"
#include "modules/telemetry/chunk.h"
#include "modules/telemetry/rollup.h"

namespace {

using tl::telemetry::Aggregator;
using tl::telemetry::ChunkEncoder;
using tl::telemetry::ChunkEncoderOptions;
using tl::telemetry::Sample;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'767'225'600'000 - 7 * kHour;  // 2026-01-01T00:00+07:00

void Print(const std::string& name, double value, const char* unit) {
  std::printf("%s\t%.6g\t%s\n", name.c_str(), value, unit);
}

double Round(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

// Hour of day in Hà Nội for a UTC time.
double LocalHour(int64_t t) {
  return static_cast<double>(((t + 7 * kHour) % kDay + kDay) % kDay) / kHour;
}

// ---- Series ----------------------------------------------------------------------------------------

// US Embassy hourly PM2.5 ("Raw Conc.", one decimal), skipping missing readings.
std::vector<Sample> ReadPm25Csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<Sample> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    if (f.size() < 11) continue;
    double v = std::strtod(f[10].c_str(), nullptr);
    if (v < 0) continue;  // -999: missing
    tl::CivilDate d{std::atoi(f[3].c_str()), std::atoi(f[4].c_str()), std::atoi(f[5].c_str())};
    int64_t t = tl::DaysSinceEpoch(d) * kDay + std::atoi(f[6].c_str()) * kHour - 7 * kHour;
    if (!out.empty() && t < out.back().t_ms) continue;
    out.push_back({t, v});
  }
  return out;
}

// Hourly PM2.5 with one decimal: a seasonal level, a diurnal swing and AR(1) weather; ~1% missing.
std::vector<Sample> SyntheticPm25(std::mt19937_64& rng, int days, int64_t jitter_ms = 0) {
  std::normal_distribution<double> noise(0, 1);
  std::uniform_int_distribution<int64_t> jitter(-jitter_ms, jitter_ms);
  std::vector<Sample> out;
  double weather = 0;
  for (int64_t h = 0; h < days * 24; ++h) {
    weather = 0.93 * weather + 0.25 * noise(rng);
    if (rng() % 100 == 0) continue;
    int64_t t = kStart + h * kHour;
    double season = 55 + 35 * std::cos(2 * std::numbers::pi * static_cast<double>(h) / (365.0 * 24));
    double diurnal = 1 + 0.25 * std::cos(2 * std::numbers::pi * (LocalHour(t) - 21) / 24);
    double v = std::max(1.0, season * diurnal * std::exp(0.45 * weather));
    out.push_back({t + (jitter_ms > 0 ? jitter(rng) : 0), Round(v, 1)});
  }
  return out;
}

// Average speed (km/h, one decimal) every minute, slowing in the rush hours.
std::vector<Sample> TrafficSpeed(std::mt19937_64& rng, int days) {
  std::normal_distribution<double> noise(0, 1);
  std::vector<Sample> out;
  double x = 0;
  for (int64_t m = 0; m < days * 1440; ++m) {
    int64_t t = kStart + m * kMinute;
    double h = LocalHour(t);
    double rush = std::exp(-std::pow((h - 8) / 1.2, 2)) + std::exp(-std::pow((h - 17.5) / 1.5, 2));
    x = 0.8 * x + 1.5 * noise(rng);
    out.push_back({t, Round(std::clamp(45 - 25 * rush + x, 3.0, 80.0), 1)});
  }
  return out;
}

// River level in whole centimetres every 15 minutes: slow tide-like swing plus rain events.
std::vector<Sample> WaterLevel(std::mt19937_64& rng, int days) {
  std::normal_distribution<double> noise(0, 0.6);
  std::vector<Sample> out;
  double rain = 0;
  for (int64_t q = 0; q < days * 96; ++q) {
    int64_t t = kStart + q * 15 * kMinute;
    if (rng() % 2000 == 0) rain += 80 + static_cast<double>(rng() % 150);
    rain *= 0.995;
    double v = 420 + 30 * std::sin(2 * std::numbers::pi * static_cast<double>(q) / (96 * 14.0)) + rain + noise(rng);
    out.push_back({t, std::round(v)});
  }
  return out;
}

// Free spaces of a 180-space car park every 5 minutes (an integer), full in office hours.
std::vector<Sample> ParkingFree(std::mt19937_64& rng, int days) {
  std::vector<Sample> out;
  double free_spaces = 150;
  for (int64_t i = 0; i < days * 288; ++i) {
    int64_t t = kStart + i * 5 * kMinute;
    double h = LocalHour(t);
    double target = (h > 8 && h < 18) ? 12 : 150;
    free_spaces += 0.08 * (target - free_spaces) + std::normal_distribution<double>(0, 2)(rng);
    out.push_back({t, std::clamp(std::round(free_spaces), 0.0, 180.0)});
  }
  return out;
}

// A street light's on/off state, recorded when it changes: near 18:00 on and 06:00 off (light sensor,
// whole seconds).
std::vector<Sample> StreetLight(std::mt19937_64& rng, int days) {
  std::vector<Sample> out;
  for (int64_t d = 0; d < days; ++d) {
    int64_t midnight = kStart + d * kDay;
    out.push_back({midnight + (5 * 3600 + 45 * 60 + static_cast<int64_t>(rng() % 1800)) * 1000, 0});
    out.push_back({midnight + (17 * 3600 + 45 * 60 + static_cast<int64_t>(rng() % 1800)) * 1000, 1});
  }
  return out;
}

// ---- Measurement -----------------------------------------------------------------------------------

template <typename F>
double RatePerSecond(double seconds, size_t items_per_call, F&& call) {
  auto start = std::chrono::steady_clock::now();
  size_t calls = 0;
  double elapsed = 0;
  do {
    call();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(calls * items_per_call) / elapsed;
}

std::vector<std::string> EncodeAll(const std::vector<Sample>& series, size_t chunk, ChunkEncoderOptions options = {}) {
  std::vector<std::string> chunks;
  ChunkEncoder encoder(options);
  for (const Sample& s : series) {
    if (!encoder.Append(s.t_ms, s.v).ok()) std::abort();
    if (encoder.count() == chunk) chunks.push_back(encoder.Finish());
  }
  if (!encoder.empty()) chunks.push_back(encoder.Finish());
  return chunks;
}

size_t TotalBytes(const std::vector<std::string>& chunks) {
  size_t n = 0;
  for (const std::string& c : chunks) n += c.size();
  return n;
}

struct Totals {
  size_t samples = 0;
  size_t bytes = 0;
};

void BenchSeries(const std::string& name, const std::vector<Sample>& series, size_t chunk, double seconds,
                 Totals& totals) {
  std::vector<std::string> chunks = EncodeAll(series, chunk);
  std::vector<std::string> gorilla = EncodeAll(series, chunk, {.plain_gorilla = true});
  const double n = static_cast<double>(series.size());
  Print(name + ".samples", n, "samples");
  Print(name + ".bytes_per_sample", static_cast<double>(TotalBytes(chunks)) / n, "B");
  Print(name + ".gorilla_bytes_per_sample", static_cast<double>(TotalBytes(gorilla)) / n, "B");
  Print(name + ".compression_vs_raw16", 16 * n / static_cast<double>(TotalBytes(chunks)), "x");
  std::map<std::string, int> schemes;
  for (const std::string& c : chunks) {
    auto s = tl::telemetry::ReadChunkSummary(c);
    if (!s.ok()) std::abort();
    ++schemes[tl::telemetry::ValueSchemeName(s->scheme)];
  }
  for (const auto& [scheme, count] : schemes) Print(name + ".chunks." + scheme, count, "chunks");

  Print(name + ".encode_rate", RatePerSecond(seconds, series.size(), [&] { EncodeAll(series, chunk).swap(chunks); }),
        "samples/s");
  std::vector<Sample> out;
  Print(name + ".decode_rate",
        RatePerSecond(seconds, series.size(),
                      [&] {
                        for (const std::string& c : chunks) {
                          if (!tl::telemetry::DecodeChunkInto(c, out).ok()) std::abort();
                        }
                      }),
        "samples/s");
  Print(name + ".gorilla_decode_rate",
        RatePerSecond(seconds, series.size(),
                      [&] {
                        for (const std::string& c : gorilla) {
                          if (!tl::telemetry::DecodeChunkInto(c, out).ok()) std::abort();
                        }
                      }),
        "samples/s");
  totals.samples += series.size();
  totals.bytes += TotalBytes(chunks);
}

// 1,000 PM2.5 sensors × 30 days, hourly, in chunks; aggregated per sensor into 1-hour and 1-day periods.
void BenchAggregation(size_t chunk, double seconds) {
  std::vector<std::vector<std::string>> sensors;
  size_t samples = 0;
  for (int i = 0; i < 1000; ++i) {
    std::mt19937_64 rng(1000 + static_cast<uint64_t>(i));
    std::vector<Sample> series = SyntheticPm25(rng, 30);
    samples += series.size();
    sensors.push_back(EncodeAll(series, chunk));
  }
  Print("aggregate.sensors", 1000, "series");
  Print("aggregate.samples", static_cast<double>(samples), "samples");
  for (const char* period : {"PT1H", "P1D"}) {
    auto p = tl::telemetry::ParseAggregationPeriod(period);
    auto grid = tl::telemetry::PeriodGrid::Make(kStart, kStart + 30 * kDay, *p, 7 * 60);
    if (!grid.ok()) std::abort();
    double best = 1e9;
    size_t records = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    do {
      auto start = std::chrono::steady_clock::now();
      records = 0;
      for (const auto& chunks : sensors) {
        Aggregator agg(*grid);
        for (const std::string& c : chunks) {
          if (!agg.AddChunk(c).ok()) std::abort();
        }
        records += agg.Take().size();
      }
      best =
          std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    } while (std::chrono::steady_clock::now() < deadline);
    Print(std::string("aggregate.") + period + ".records", static_cast<double>(records), "records");
    Print(std::string("aggregate.") + period + ".time", best, "ms");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv;
  size_t chunk = 256;
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
      chunk = static_cast<size_t>(std::atol(argv[++i]));
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (argv[i][0] != '-') {
      csv = argv[i];
    } else {
      std::fprintf(stderr, "usage: %s [PM25_CSV] [--chunk N] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  if (chunk == 0 || chunk > tl::telemetry::kMaxChunkSamples) {
    std::fprintf(stderr, "--chunk must be 1..%u\n", tl::telemetry::kMaxChunkSamples);
    return 2;
  }
  Print("chunk_samples", static_cast<double>(chunk), "samples");
  Print("raw_bytes_per_sample", 16, "B");
  std::mt19937_64 rng(20260101);
  Totals totals;
  std::vector<Sample> pm25;
  if (!csv.empty()) {
    pm25 = ReadPm25Csv(csv);
    if (pm25.empty()) {
      std::fprintf(stderr, "no PM2.5 readings in %s\n", csv.c_str());
      return 1;
    }
  }
  BenchSeries(pm25.empty() ? "pm25_hourly_synthetic" : "pm25_hourly_real",
              pm25.empty() ? SyntheticPm25(rng, 365) : pm25, chunk, seconds, totals);
  BenchSeries("pm25_hourly_jitter500ms", SyntheticPm25(rng, 365, 500), chunk, seconds, totals);
  BenchSeries("traffic_speed_1min", TrafficSpeed(rng, 30), chunk, seconds, totals);
  BenchSeries("water_level_15min_cm", WaterLevel(rng, 365), chunk, seconds, totals);
  BenchSeries("parking_free_5min", ParkingFree(rng, 365), chunk, seconds, totals);
  BenchSeries("streetlight_onoff", StreetLight(rng, 3650), chunk, seconds, totals);
  Print("all.bytes_per_sample", static_cast<double>(totals.bytes) / static_cast<double>(totals.samples), "B");
  BenchAggregation(chunk, seconds);
  return 0;
}
