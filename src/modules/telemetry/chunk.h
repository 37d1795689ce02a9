// Telemetry chunks: the compact on-disk layout of one series' samples (after Gorilla, VLDB 2015).
//
// A chunk holds up to kMaxChunkSamples samples of one series (one attribute of one entity), each a
// time in milliseconds since the Unix epoch and a finite double. Times are non-decreasing within a
// chunk; equal times are allowed and kept in the order appended (two updates in the same millisecond
// are two changes; de-duplicating them is the storage layer's decision). Times are delta-of-delta
// coded in the coarsest unit (ms, s, min, h) dividing every interval, either with Gorilla's prefix
// buckets or as zigzag integers packed by Simple-8b (better for jittered clocks and for perfectly
// regular series), whichever is smaller. Values take whichever of three schemes is smallest: Gorilla's
// XOR code over the doubles, or, when every value is a decimal with at most 3 digits after the point,
// the scaled integers (v × 10^k) as zigzag deltas or as offsets from the minimum, packed by Simple-8b.
// Decoding is bit-exact, except that -0.0 is stored as 0.0 (equal as numbers; a stray negative zero
// would otherwise force a whole chunk off the decimal path); NaN and infinities are refused at
// Append, as JSON numbers cannot carry them.
//
// Layout (little-endian; varint = LEB128, zvarint = zigzag LEB128):
//   header byte   bits 7-6 format version (1), 5-4 time unit (ms, s, min, h), 3-2 decimals k,
//                 1-0 value scheme (ValueScheme)
//   varint count; when count > 0:
//   zvarint first time; varint last − first;
//   XOR: f64 min, f64 max, f64 sum | decimal: zvarint min×10^k, varint (max − min)×10^k, zvarint sum×10^k
//   f64 sum of squares; varint (time stream length × 2 + 1 if Simple-8b); time stream; value stream
//   u32 CRC-32C of everything before it.
// The summary (count, first/last time, min, max, sum, sum of squares) is read without decoding the
// streams (ReadChunkSummary), so an aggregation can take a chunk lying inside one period as a whole.
//
// Decoding never trusts its input: a truncated or bit-flipped chunk fails its checksum with an
// InvalidArgument Status (field "chunk"); one forged with a valid checksum fails the bounds checks made
// on every read the same way or decodes to finite samples within its summary's times (and, for
// decimal chunks, its value range). Never undefined behaviour.
//
// Thread-safety: ChunkEncoder and ChunkReader are single-threaded values (one per thread); the free
// functions are pure and safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::telemetry {

struct Sample {
  int64_t t_ms = 0;  // milliseconds since 1970-01-01T00:00:00Z
  double v = 0;

  friend bool operator==(const Sample&, const Sample&) = default;
};

// How a chunk's values are stored (the low two bits of its header byte).
enum class ValueScheme : uint8_t {
  kXor = 0,           // Gorilla: first value raw, then XOR with the previous one in a leading/trailing-zero window
  kDecimalDelta = 1,  // v × 10^k as integers: first one, then zigzag deltas in Simple-8b words
  kDecimalFrame = 2,  // v × 10^k as integers: offsets from the chunk's minimum in Simple-8b words
};

const char* ValueSchemeName(ValueScheme scheme);

// How a chunk's delta-of-delta times are stored (the low bit of the time stream's length).
enum class TimeScheme : uint8_t {
  kGorilla = 0,   // prefix buckets: '0' for 0, then 7, 14, 24, 36 or 64 payload bits
  kSimple8b = 1,  // zigzag integers in Simple-8b words
};

// The most samples one chunk holds. Storage should cut chunks far earlier (a few hundred samples
// amortise the ~20-byte header; see chunk_bench.cc).
inline constexpr uint32_t kMaxChunkSamples = 65536;

// What a chunk says about itself, readable without decoding its samples. For an empty chunk every
// field but `count` is zero. For decimal chunks `sum` is the exact decimal sum rounded once; it may
// differ in the last bits from adding the decoded doubles one by one.
struct ChunkSummary {
  uint32_t count = 0;
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  double sumsq = 0;  // sum of v², accumulated in order in double
  ValueScheme scheme = ValueScheme::kXor;
  int decimals = 0;          // k: values are stored as v × 10^k (decimal schemes only)
  int64_t time_unit_ms = 1;  // 1, 1000, 60000 or 3600000
  TimeScheme time_scheme = TimeScheme::kGorilla;
};

struct ChunkEncoderOptions {
  // true: Gorilla's own codes only (bucketed delta-of-delta times, XOR values), for comparison.
  bool plain_gorilla = false;
};

// Buffers one chunk's samples and encodes them on Finish(), choosing the smallest value scheme.
class ChunkEncoder {
 public:
  explicit ChunkEncoder(ChunkEncoderOptions options = {}) : options_(options) {}

  // InvalidArgument (field "t") for a time before the previous one, (field "v") for NaN or ±infinity;
  // -0.0 is kept as 0.0.
  // ResourceExhausted when the chunk already holds kMaxChunkSamples. A refused sample is not added.
  Status Append(int64_t t_ms, double v);

  size_t count() const { return samples_.size(); }
  bool empty() const { return samples_.empty(); }
  // The first and last time appended (0 when empty), for storage that cuts chunks by time.
  int64_t first_ms() const { return samples_.empty() ? 0 : samples_.front().t_ms; }
  int64_t last_ms() const { return samples_.empty() ? 0 : samples_.back().t_ms; }

  // Encodes the samples appended since the last Finish() (possibly none) and starts a new chunk.
  std::string Finish();
  // Drops the samples appended since the last Finish().
  void Clear() { samples_.clear(); }

 private:
  ChunkEncoderOptions options_;
  std::vector<Sample> samples_;
};

// Encodes `samples` as one chunk, with the same checks and -0.0 rule as ChunkEncoder::Append.
Result<std::string> EncodeChunk(std::span<const Sample> samples, ChunkEncoderOptions options = {});

// Verifies the checksum and parses the header; does not decode the streams.
Result<ChunkSummary> ReadChunkSummary(std::string_view chunk);

// Decodes every sample, verifying checksum and structure.
Result<std::vector<Sample>> DecodeChunk(std::string_view chunk);
// Same, into `out` (replaced; its capacity is reused). On error `out` holds no samples.
Status DecodeChunkInto(std::string_view chunk, std::vector<Sample>& out);

// CRC-32C (Castagnoli), the checksum that ends every chunk.
uint32_t Crc32c(std::string_view data);

// Streams a chunk's samples without materialising them:
//   TL_ASSIGN_OR_RETURN(auto reader, ChunkReader::Open(bytes));
//   Sample s;
//   while (reader.Next(s)) Use(s);
//   TL_RETURN_IF_ERROR(reader.status());
// The reader keeps a view of `chunk`: the bytes must outlive it. Open() verifies the checksum and the
// header; Next() checks each step and, on malformed data, stops and leaves the error in status().
class ChunkReader {
 public:
  static Result<ChunkReader> Open(std::string_view chunk);

  ChunkReader(ChunkReader&&) noexcept;
  ChunkReader& operator=(ChunkReader&&) noexcept;
  ~ChunkReader();

  const ChunkSummary& summary() const;
  // The next sample into `out`; false at the end or on error (see status()).
  bool Next(Sample& out);
  // OK unless Next() met malformed data.
  const Status& status() const;
  // Samples not yet returned.
  uint32_t remaining() const;

 private:
  struct State;
  explicit ChunkReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace tl::telemetry
