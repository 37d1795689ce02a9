#include "modules/telemetry/chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tl::telemetry {
namespace {

constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// Samples are equal when times are equal and values are the same bits, except that -0.0 is stored as
// 0.0.
void ExpectSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].t_ms, want[i].t_ms) << "sample " << i;
    ASSERT_EQ(std::bit_cast<uint64_t>(got[i].v), std::bit_cast<uint64_t>(want[i].v + 0.0))
        << "sample " << i << ": " << got[i].v << " != " << want[i].v;
  }
}

std::string MustEncode(const std::vector<Sample>& samples, ChunkEncoderOptions options = {}) {
  auto chunk = EncodeChunk(samples, options);
  EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
  return chunk.ok() ? *chunk : std::string();
}

ChunkSummary MustSummary(std::string_view chunk) {
  auto s = ReadChunkSummary(chunk);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : ChunkSummary{};
}

void ExpectRoundTrip(const std::vector<Sample>& samples, ChunkEncoderOptions options = {}) {
  std::string chunk = MustEncode(samples, options);
  auto decoded = DecodeChunk(chunk);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameSamples(*decoded, samples);

  auto reader = ChunkReader::Open(chunk);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<Sample> streamed;
  EXPECT_EQ(reader->remaining(), samples.size());
  Sample s;
  while (reader->Next(s)) streamed.push_back(s);
  ASSERT_TRUE(reader->status().ok()) << reader->status().ToString();
  EXPECT_EQ(reader->remaining(), 0u);
  ExpectSameSamples(streamed, samples);

  ChunkSummary summary = MustSummary(chunk);
  ASSERT_EQ(summary.count, samples.size());
  if (samples.empty()) return;
  EXPECT_EQ(summary.first_ms, samples.front().t_ms);
  EXPECT_EQ(summary.last_ms, samples.back().t_ms);
  EXPECT_FALSE(std::signbit(summary.min) && summary.min == 0);
  double min = samples[0].v, max = samples[0].v, sum = 0, sumsq = 0;
  for (const Sample& x : samples) {
    min = std::min(min, x.v);
    max = std::max(max, x.v);
    sum += x.v;
    sumsq += x.v * x.v;
  }
  EXPECT_EQ(summary.min, min);
  EXPECT_EQ(summary.max, max);
  EXPECT_EQ(summary.sumsq, sumsq);
  if (std::isfinite(sum)) {
    EXPECT_NEAR(summary.sum, sum, 1e-9 * std::max(1.0, std::fabs(sum)));
  }
}

// A random walk of decimals with `decimals` digits, one sample every `step_ms` (+- jitter).
std::vector<Sample> Walk(std::mt19937_64& rng, size_t n, int decimals, int64_t step_ms, int64_t jitter_ms, double start,
                         double sigma) {
  std::normal_distribution<double> noise(0, sigma);
  std::uniform_int_distribution<int64_t> jitter(-jitter_ms, jitter_ms);
  const double scale = std::pow(10.0, decimals);
  std::vector<Sample> out;
  double x = start;
  int64_t t = kT0;
  for (size_t i = 0; i < n; ++i) {
    x += noise(rng);
    t += step_ms + (jitter_ms > 0 ? jitter(rng) : 0);
    if (!out.empty() && t < out.back().t_ms) t = out.back().t_ms;
    out.push_back({t, std::round(x * scale) / scale});
  }
  return out;
}

TEST(ChunkTest, Crc32cKnownAnswer) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  std::string long_text(1000, 'a');
  // Slice-by-8 and byte-at-a-time must agree: compare against a split computation's definition.
  uint32_t crc = Crc32c(long_text);
  EXPECT_EQ(crc, Crc32c(std::string(1000, 'a')));
  EXPECT_NE(crc, Crc32c(std::string(999, 'a') + "b"));
}

TEST(ChunkTest, EmptyChunk) {
  ChunkEncoder encoder;
  EXPECT_TRUE(encoder.empty());
  std::string chunk = encoder.Finish();
  EXPECT_EQ(chunk.size(), 6u);  // header, count, CRC
  auto decoded = DecodeChunk(chunk);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
  EXPECT_EQ(MustSummary(chunk).count, 0u);
  ExpectRoundTrip({});
}

TEST(ChunkTest, SingleSamples) {
  const double values[] = {0.0,
                           -0.0,
                           1.5,
                           -273.15,
                           std::numbers::pi,
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::denorm_min(),
                           1e-300,
                           9007199254740991.0,
                           9007199254740992.0};
  const int64_t times[] = {0, kT0, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  for (double v : values) {
    for (int64_t t : times) {
      SCOPED_TRACE(testing::Message() << "t=" << t << " v=" << v);
      ExpectRoundTrip({{t, v}});
    }
  }
}

TEST(ChunkTest, ChoosesDecimalDigits) {
  struct Case {
    std::vector<double> values;
    ValueScheme xor_or_decimal;
    int decimals;
  };
  const Case cases[] = {
      {{12, 13, 13, 15, 11}, ValueScheme::kDecimalDelta, 0},
      {{35.2, 36.0, 34.9, 41.7}, ValueScheme::kDecimalDelta, 1},
      {{1.5, 2.25, 3}, ValueScheme::kDecimalDelta, 2},
      {{0.001, 0.002, 1.999}, ValueScheme::kDecimalDelta, 3},
      {{0.0001, 0.0002}, ValueScheme::kXor, 0},
      {{std::numbers::pi, std::numbers::e}, ValueScheme::kXor, 0},
      {{0.1 + 0.2, 0.3}, ValueScheme::kXor, 0},
      {{1, -0.0, 2}, ValueScheme::kDecimalDelta, 0},  // -0.0 is stored as 0.0
      {{1e20, 2e20}, ValueScheme::kXor, 0},           // beyond 2^53: not exact integers
  };
  for (const Case& c : cases) {
    std::vector<Sample> samples;
    for (size_t i = 0; i < c.values.size(); ++i) samples.push_back({kT0 + int64_t(i) * 1000, c.values[i]});
    std::string chunk = MustEncode(samples);
    ChunkSummary s = MustSummary(chunk);
    SCOPED_TRACE(testing::Message() << "first value " << c.values[0] << " scheme " << ValueSchemeName(s.scheme));
    if (c.xor_or_decimal == ValueScheme::kXor) {
      EXPECT_EQ(s.scheme, ValueScheme::kXor);
    } else {
      EXPECT_NE(s.scheme, ValueScheme::kXor);
    }
    EXPECT_EQ(s.decimals, c.decimals);
    ExpectRoundTrip(samples);
  }
}

TEST(ChunkTest, ConstantSeriesIsTiny) {
  std::vector<Sample> samples;
  for (int i = 0; i < 1000; ++i) samples.push_back({kT0 + i * 60'000, 42});
  std::string chunk = MustEncode(samples);
  ChunkSummary s = MustSummary(chunk);
  EXPECT_EQ(s.scheme, ValueScheme::kDecimalFrame);
  EXPECT_EQ(s.time_unit_ms, 3'600'000 / 60);
  EXPECT_LT(chunk.size(), 80u);  // 240 times a word, nothing for values
  EXPECT_EQ(s.time_scheme, TimeScheme::kSimple8b);
  ExpectRoundTrip(samples);
}

TEST(ChunkTest, TimeUnits) {
  struct Case {
    int64_t step;
    int64_t unit;
  };
  for (Case c : {Case{3'600'000, 3'600'000}, Case{900'000, 60'000}, Case{5'000, 1'000}, Case{1'500, 1}}) {
    std::vector<Sample> samples;
    for (int i = 0; i < 50; ++i) samples.push_back({kT0 + i * c.step, double(i % 7)});
    EXPECT_EQ(MustSummary(MustEncode(samples)).time_unit_ms, c.unit) << c.step;
    ExpectRoundTrip(samples);
  }
}

TEST(ChunkTest, RoundTripsRealisticSeries) {
  std::mt19937_64 rng(20260101);
  // Hourly PM2.5 with one decimal; per-minute speed; 15-minute water level in cm; jittered milliseconds.
  ExpectRoundTrip(Walk(rng, 720, 1, 3'600'000, 0, 60, 8));
  ExpectRoundTrip(Walk(rng, 1440, 1, 60'000, 0, 40, 2));
  ExpectRoundTrip(Walk(rng, 96, 0, 900'000, 0, 120, 1.5));
  ExpectRoundTrip(Walk(rng, 500, 2, 10'000, 250, 0, 0.3));
  ExpectRoundTrip(Walk(rng, 500, 3, 1'000, 999, -5, 0.05));
  ExpectRoundTrip(Walk(rng, 300, 1, 60'000, 0, 40, 2), {.plain_gorilla = true});
}

TEST(ChunkTest, RoundTripsArbitraryDoublesAndTimes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    size_t n = 1 + rng() % 300;
    std::vector<Sample> samples;
    int64_t t = static_cast<int64_t>(rng());
    int mode = static_cast<int>(rng() % 4);
    for (size_t i = 0; i < n; ++i) {
      double v = 0;
      switch (mode) {
        case 0:  // any finite bit pattern
          do v = std::bit_cast<double>(rng());
          while (!std::isfinite(v));
          break;
        case 1:  // repeats and small integers
          v = static_cast<double>(rng() % 3);
          break;
        case 2:  // large-magnitude decimals
          v = static_cast<double>(static_cast<int64_t>(rng() % (uint64_t{1} << 52)) - (int64_t{1} << 51)) / 1000;
          break;
        default:
          v = std::ldexp(static_cast<double>(rng() % 1000), static_cast<int>(rng() % 200) - 100);
      }
      samples.push_back({t, v});
      // Duplicates, small steps, and gaps up to the whole int64 range.
      uint64_t gap = 0;
      switch (rng() % 4) {
        case 0:
          gap = 0;
          break;
        case 1:
          gap = rng() % 1000;
          break;
        case 2:
          gap = rng() % 100'000'000'000;
          break;
        default:
          gap = rng() >> (rng() % 64);
      }
      uint64_t room = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(t);
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + std::min(gap, room));
    }
    SCOPED_TRACE(testing::Message() << "round " << round << " mode " << mode);
    ExpectRoundTrip(samples);
    ExpectRoundTrip(samples, {.plain_gorilla = true});
  }
}

TEST(ChunkTest, AppendChecks) {
  ChunkEncoder e;
  ASSERT_TRUE(e.Append(kT0, 1).ok());
  ASSERT_TRUE(e.Append(kT0, 2).ok()) << "equal times are kept";
  Status s = e.Append(kT0 - 1, 3);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "t");
  s = e.Append(kT0 + 1, std::nan(""));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "v");
  EXPECT_EQ(e.Append(kT0 + 1, std::numeric_limits<double>::infinity()).field(), "v");
  ChunkEncoder zero;
  ASSERT_TRUE(zero.Append(kT0, -0.0).ok());
  auto z = DecodeChunk(zero.Finish());
  ASSERT_TRUE(z.ok());
  EXPECT_FALSE(std::signbit((*z)[0].v)) << "-0.0 is stored as 0.0";
  EXPECT_FALSE(std::signbit((*DecodeChunk(*EncodeChunk(std::vector<Sample>{{kT0, -0.0}})))[0].v));
  EXPECT_EQ(e.count(), 2u);
  EXPECT_EQ(e.first_ms(), kT0);
  EXPECT_EQ(e.last_ms(), kT0);
  auto decoded = DecodeChunk(e.Finish());
  ASSERT_TRUE(decoded.ok());
  ExpectSameSamples(*decoded, {{kT0, 1}, {kT0, 2}});
  EXPECT_TRUE(e.empty()) << "Finish starts a new chunk";
  ASSERT_TRUE(e.Append(kT0 - 5, 1).ok()) << "a new chunk may start earlier";

  EXPECT_FALSE(EncodeChunk(std::vector<Sample>{{2, 1}, {1, 1}}).ok());
  EXPECT_FALSE(EncodeChunk(std::vector<Sample>{{1, 1}, {2, -std::numeric_limits<double>::infinity()}}).ok());
}

TEST(ChunkTest, ChunkIsFullAtTheLimit) {
  ChunkEncoder e;
  for (uint32_t i = 0; i < kMaxChunkSamples; ++i) ASSERT_TRUE(e.Append(kT0 + i, i % 10).ok());
  EXPECT_EQ(e.Append(kT0 + kMaxChunkSamples, 1).code(), StatusCode::kResourceExhausted);
  std::string chunk = e.Finish();
  auto decoded = DecodeChunk(chunk);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), kMaxChunkSamples);
  EXPECT_EQ((*decoded)[12345].v, 5);
}

TEST(ChunkTest, ChoosesTheSmallerTimeStream) {
  std::mt19937_64 rng(5);
  // Regular, or jittered by a few hundred milliseconds: zigzag Simple-8b is smaller.
  EXPECT_EQ(MustSummary(MustEncode(Walk(rng, 200, 1, 3'600'000, 0, 60, 8))).time_scheme, TimeScheme::kSimple8b);
  EXPECT_EQ(MustSummary(MustEncode(Walk(rng, 200, 1, 3'600'000, 400, 60, 8))).time_scheme, TimeScheme::kSimple8b);
  // Mostly regular with rare large irregularities: Gorilla's one-bit zero wins.
  std::vector<Sample> gaps;
  for (int i = 0; i < 200; ++i) gaps.push_back({kT0 + i * 1000 + (i % 50 == 0 ? 777 : 0), double(i % 2)});
  std::string chunk = MustEncode(gaps);
  EXPECT_EQ(MustSummary(chunk).time_scheme, TimeScheme::kGorilla);
  ExpectRoundTrip(gaps);
  EXPECT_EQ(MustSummary(MustEncode(gaps, {.plain_gorilla = true})).time_scheme, TimeScheme::kGorilla);
}

TEST(ChunkTest, DecimalBeatsGorilla) {
  std::mt19937_64 rng(42);
  std::vector<Sample> pm25 = Walk(rng, 256, 1, 3'600'000, 0, 60, 8);
  std::string decimal = MustEncode(pm25);
  std::string gorilla = MustEncode(pm25, {.plain_gorilla = true});
  EXPECT_EQ(MustSummary(gorilla).scheme, ValueScheme::kXor);
  EXPECT_LT(decimal.size() * 3, gorilla.size());
  EXPECT_LT(double(decimal.size()) / 256, 2.0) << "bytes per sample";
}

TEST(ChunkTest, StreetLightStateChanges) {
  // On near 18:00 and off near 06:00, at whole seconds: irregular times, 0/1 values.
  std::mt19937_64 rng(3);
  std::vector<Sample> samples;
  for (int day = 0; day < 128; ++day) {
    int64_t midnight = kT0 + int64_t(day) * 86'400'000;
    samples.push_back({midnight + (6 * 3600 + int64_t(rng() % 1200)) * 1000, 0});
    samples.push_back({midnight + (18 * 3600 + int64_t(rng() % 1200)) * 1000, 1});
  }
  std::string chunk = MustEncode(samples);
  EXPECT_EQ(MustSummary(chunk).time_unit_ms, 1000);
  EXPECT_LT(double(chunk.size()) / samples.size(), 3.0);
  ExpectRoundTrip(samples);
}

// ---- Corrupt input ---------------------------------------------------------------------------------

std::vector<std::string> SampleChunks() {
  std::mt19937_64 rng(99);
  std::vector<std::string> chunks;
  chunks.push_back(MustEncode(Walk(rng, 200, 1, 3'600'000, 0, 60, 8)));                           // decimal
  chunks.push_back(MustEncode(Walk(rng, 200, 1, 3'600'000, 0, 60, 8), {.plain_gorilla = true}));  // XOR
  std::vector<Sample> parking;
  for (int i = 0; i < 200; ++i) parking.push_back({kT0 + i * 300'000 + int64_t(rng() % 50), double(rng() % 3)});
  chunks.push_back(MustEncode(parking));  // frame, jittered times
  chunks.push_back(MustEncode({{kT0, 7}}));
  chunks.push_back(MustEncode({}));
  return chunks;
}

TEST(ChunkTest, EveryTruncationFails) {
  for (const std::string& chunk : SampleChunks()) {
    for (size_t len = 0; len < chunk.size(); ++len) {
      std::string_view cut(chunk.data(), len);
      EXPECT_FALSE(DecodeChunk(cut).ok()) << len;
      EXPECT_FALSE(ReadChunkSummary(cut).ok()) << len;
      EXPECT_FALSE(ChunkReader::Open(cut).ok()) << len;
    }
    EXPECT_FALSE(DecodeChunk(chunk + '\0').ok()) << "a trailing byte";
  }
}

TEST(ChunkTest, EveryBitFlipFails) {
  for (const std::string& chunk : SampleChunks()) {
    for (size_t bit = 0; bit < chunk.size() * 8; ++bit) {
      std::string bad = chunk;
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      auto decoded = DecodeChunk(bad);
      ASSERT_FALSE(decoded.ok()) << "bit " << bit;
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(decoded.status().field(), "chunk");
    }
  }
}

// Corruption behind a valid checksum (a forged chunk) must still be caught by the bounds checks or
// decode to some samples, never read out of bounds (run under ASan or valgrind).
std::string Reseal(std::string body) {
  uint32_t crc = Crc32c(body);
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(crc >> (8 * i)));
  return body;
}

void ExpectSafeDecode(const std::string& chunk) {
  auto decoded = DecodeChunk(chunk);
  auto summary = ReadChunkSummary(chunk);
  if (!decoded.ok()) {
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    return;
  }
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(decoded->size(), summary->count);
  for (size_t i = 0; i < decoded->size(); ++i) {
    ASSERT_TRUE(std::isfinite((*decoded)[i].v));
    ASSERT_GE((*decoded)[i].t_ms, summary->first_ms);
    ASSERT_LE((*decoded)[i].t_ms, summary->last_ms);
    if (i > 0) {
      ASSERT_GE((*decoded)[i].t_ms, (*decoded)[i - 1].t_ms);
    }
  }
  if (!decoded->empty()) {
    EXPECT_EQ(decoded->back().t_ms, summary->last_ms);
  }
  auto reader = ChunkReader::Open(chunk);
  ASSERT_TRUE(reader.ok());
  Sample s;
  size_t n = 0;
  while (reader->Next(s)) ++n;
  EXPECT_TRUE(reader->status().ok());
  EXPECT_EQ(n, decoded->size());
}

TEST(ChunkTest, ForgedChunksDecodeSafely) {
  std::mt19937_64 rng(2026);
  int rejected = 0;
  int total = 0;
  for (const std::string& chunk : SampleChunks()) {
    std::string body = chunk.substr(0, chunk.size() - 4);
    for (int round = 0; round < 3000; ++round) {
      std::string bad = body;
      switch (round % 4) {
        case 0:  // a few bit flips
          for (int k = 0; k < 1 + int(rng() % 3); ++k) {
            size_t bit = rng() % (bad.size() * 8);
            bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
          }
          break;
        case 1:  // truncated, resealed
          bad.resize(rng() % (bad.size() + 1));
          break;
        case 2:  // a random byte overwritten
          bad[rng() % bad.size()] = static_cast<char>(rng());
          break;
        default:  // random bytes appended or a random tail
          if (rng() % 2) {
            bad += std::string(1 + rng() % 16, static_cast<char>(rng()));
          } else {
            size_t from = rng() % bad.size();
            for (size_t i = from; i < bad.size(); ++i) bad[i] = static_cast<char>(rng());
          }
      }
      ++total;
      std::string forged = Reseal(bad);
      if (!DecodeChunk(forged).ok()) ++rejected;
      ExpectSafeDecode(forged);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(rejected, total / 2) << "most forgeries are caught by structure checks";
}

std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}

std::string Word(uint64_t selector, uint64_t payload) {
  std::string out;
  uint64_t word = selector << 60 | payload;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(word >> (8 * i)));
  return out;
}

// A hand-built decimal-delta chunk of two samples 1 ms apart whose summary says values lie in [-1, 1]:
// the first value and the second one's delta (both zigzag) are forged.
std::string ForgedDeltaChunk(uint64_t zigzag_first, uint64_t zigzag_delta) {
  std::string body;
  body.push_back(static_cast<char>(0x40 | 1));     // version 1, unit ms, k = 0, decimal-delta
  body += Varint(2) + Varint(0) + Varint(1);       // count, first time, span
  body += Varint(1) + Varint(2) + Varint(2);       // min -1, range 2, sum 1 (min and sum zigzag)
  body += std::string("\0\0\0\0\0\0\xf0\x3f", 8);  // sum of squares 1.0
  std::string times = Word(15, 2);                 // one zigzag delta of delta: 1
  body += Varint(times.size() << 1 | 1) + times;   // Simple-8b times
  body += Varint(zigzag_first) + Word(15, zigzag_delta);
  return Reseal(body);
}

TEST(ChunkTest, RejectsForgedDecimalOutliers) {
  auto sane = DecodeChunk(ForgedDeltaChunk(0, 2));  // 0, then +1
  ASSERT_TRUE(sane.ok()) << sane.status().ToString();
  ExpectSameSamples(*sane, {{0, 0}, {1, 1}});
  const uint64_t max_zigzag = std::numeric_limits<uint64_t>::max();
  for (auto [first, delta] : {std::pair<uint64_t, uint64_t>{0, 4},
                              {0, 3},
                              {max_zigzag - 1, 0},
                              {max_zigzag, 2},
                              {0, (uint64_t{1} << 60) - 1},
                              {4, 1}}) {
    auto bad = DecodeChunk(ForgedDeltaChunk(first, delta));
    ASSERT_FALSE(bad.ok()) << first << " " << delta;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ChunkTest, RejectsUnknownVersionsAndSchemes) {
  std::string chunk = MustEncode({{kT0, 1}, {kT0 + 1000, 2}});
  std::string body = chunk.substr(0, chunk.size() - 4);
  for (uint8_t header : {uint8_t{0x00}, uint8_t{0x80}, uint8_t{0xC0}, uint8_t{0x43}, uint8_t{0x44}}) {
    std::string bad = body;
    bad[0] = static_cast<char>(header);
    auto decoded = DecodeChunk(Reseal(bad));
    EXPECT_FALSE(decoded.ok()) << int(header);
  }
}

}  // namespace
}  // namespace tl::telemetry
