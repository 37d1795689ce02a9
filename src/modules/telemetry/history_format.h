// The storage-side encodings of the telemetry history besides chunks (chunk.h): log segments and
// rollup blocks. Both are pure byte formats; history.h decides where they are stored.
//
// A log segment is the durable record of measurements not yet folded into chunks: one AppendBatch
// writes one segment per shard of the series it touches (series id mod kLogShards). Entries are
// sorted by series id and keep their order of arrival within a series; times may go backwards.
//   byte 0        bits 7-4 format version (1), bits 3-0 value mode: k = 0..3 (every value is a
//                 decimal with at most k digits after the point, stored as v × 10^k) or 15 (raw f64)
//   byte 1        time unit u: 0 ms, 1 s, 2 min, 3 h (the coarsest dividing every t − base)
//   varint n; zvarint base (the earliest time); then n entries: varint series-id delta, varint
//   (t − base) / u, value (zvarint delta of v × 10^k from the previous entry's, or f64 LE)
//   u32 CRC-32C of everything before it.
//
// A rollup block holds the 1-minute or 1-hour records of one series inside one bucket (a day of
// minutes, 30 days of hours). Record i covers [bucket + idx·g, bucket + (idx+1)·g); records are
// sorted by idx, one per idx. A record of one value (count 1, min = max = sum = v, sumsq = v²) stores
// only v, so a tier over sparse series costs about what their samples cost.
//   byte 0 version (1); byte 1 value mode for min/max (k or 15); byte 2 for sums (k or 15);
//   byte 3 for sums of squares (2k: stored as v × 10^2k, or 15)
//   varint n; idx as runs (varint number of runs; each varint step from the previous idx (the first
//   from -1) and varint length); codes (count × 2 + 1 for a full record, count × 2 for a
//   single-value one) as runs (varint number of runs; each varint code, varint length);
//   mins (zvarint delta of scaled values, or f64); then for full records only: max − min (varint of
//   scaled difference, or f64 max), sum (zvarint delta, or f64), sumsq (zvarint delta, or f64)
//   u32 CRC-32C.
//
// Decimal modes for values (log entries, minima and maxima) are chosen only when every value
// round-trips exactly (q / 10^k == v), so they decode bit-exactly, except that -0.0 reads back as 0.0.
// Sums and sums of squares of k-decimal values are k- and 2k-decimal numbers; the doubles an
// Aggregate accumulates differ from them by the rounding of each addition, so a block whose values
// are k-decimal stores each sum as the decimal it lies within 1e-6 units of (the exact sum, read back
// as the nearest double), or all its sums raw when one is not that close. Decoders verify the
// checksum and every bound and fail with InvalidArgument (field "segment" or "rollup"); never
// undefined behaviour.
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "modules/telemetry/rollup.h"

namespace tl::telemetry {

inline constexpr int kLogShards = 16;
inline int LogShardOf(int64_t series_id) {
  return static_cast<int>(static_cast<uint64_t>(series_id) % kLogShards);
}

struct LogEntry {
  int64_t series_id = 0;
  int64_t t_ms = 0;
  double v = 0;

  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

// `entries` sorted by series id (non-decreasing), values finite.
std::string EncodeLogSegment(std::span<const LogEntry> entries);
// Appends the segment's entries to `out`; on error `out` is left as it was.
Status DecodeLogSegment(std::string_view segment, std::vector<LogEntry>& out);

// Records aligned to `granularity_ms` inside [bucket_ms, bucket_ms + bucket_len), strictly increasing,
// each with count > 0; InvalidArgument otherwise.
Result<std::string> EncodeRollupBlock(int64_t bucket_ms, int64_t granularity_ms, std::span<const RollupRecord> records);
// Appends the block's records to `out`; on error `out` is left as it was.
Status DecodeRollupBlock(std::string_view block, int64_t bucket_ms, int64_t granularity_ms,
                         std::vector<RollupRecord>& out);
// The union of two sorted record lists, records of the same period merged.
std::vector<RollupRecord> MergeRollupRecords(std::span<const RollupRecord> a, std::span<const RollupRecord> b);

}  // namespace tl::telemetry
