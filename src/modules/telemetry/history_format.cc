#include "modules/telemetry/history_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tl::telemetry {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kRaw = 15;
constexpr double kPow10[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
constexpr double kTwoPow53 = 9007199254740992.0;
constexpr uint64_t kTimeUnits[] = {1, 1000, 60'000, 3'600'000};

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t Unzigzag(uint64_t u) {
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}
void PutZVarint(std::string& out, int64_t v) {
  PutVarint(out, Zigzag(v));
}
void PutF64(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
}
void Put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

class Reader {
 public:
  Reader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool Byte(uint8_t& b) {
    if (p_ >= end_) return false;
    b = *p_++;
    return true;
  }
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return shift < 63 || b <= 1;
    }
    return false;
  }
  bool ZVarint(int64_t& v) {
    uint64_t u;
    if (!Varint(u)) return false;
    v = Unzigzag(u);
    return true;
  }
  bool F64(double& v) {
    if (end_ - p_ < 8) return false;
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += 8;
    std::memcpy(&v, &bits, 8);
    return true;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// q such that q / 10^k == v exactly (|q| < 2^53), or false.
bool Scale(double v, int k, int64_t& q) {
  double x = v * kPow10[k];
  if (!(std::fabs(x) < kTwoPow53)) return false;
  double r = std::nearbyint(x);
  if ((k == 0 ? r : r / kPow10[k]) != v) return false;
  q = static_cast<int64_t>(r);
  return true;
}
// For sums of k-decimal values: q such that q / 10^k is the decimal v lies within floating-point
// rounding of (|v × 10^k − q| <= 1e-6, |q| < 2^50), or false. The decimal is the exact sum; the double
// sum differs from it only by the rounding of each addition.
bool ScaleNear(double v, int k, int64_t& q) {
  double x = v * kPow10[k];
  if (!(std::fabs(x) < 1125899906842624.0)) return false;
  double r = std::nearbyint(x);
  if (std::fabs(x - r) > 1e-6) return false;
  q = static_cast<int64_t>(r);
  return true;
}

double Unscale(int64_t q, int k) {
  return k == 0 ? static_cast<double>(q) : static_cast<double>(q) / kPow10[k];
}

// The smallest k in [lo, hi] for which every value of `values` scales exactly, or kRaw.
template <typename Values>
uint8_t DecimalModeFor(const Values& values, int lo, int hi) {
  for (int k = lo; k <= hi; ++k) {
    bool ok = true;
    int64_t q;
    for (double v : values) {
      if (!Scale(v, k, q)) {
        ok = false;
        break;
      }
    }
    if (ok) return static_cast<uint8_t>(k);
  }
  return kRaw;
}

// A view of doubles picked out of a span by a member function, iterable in a range-for.
template <typename T, typename F>
struct Picked {
  std::span<const T> items;
  F pick;
  bool (*keep)(const T&) = nullptr;
  struct It {
    const T* p;
    const T* end;
    const Picked* self;
    void Skip() {
      while (p != end && self->keep && !self->keep(*p)) ++p;
    }
    double operator*() const { return self->pick(*p); }
    It& operator++() {
      ++p;
      Skip();
      return *this;
    }
    bool operator!=(const It& o) const { return p != o.p; }
  };
  It begin() const {
    It it{items.data(), items.data() + items.size(), this};
    it.Skip();
    return it;
  }
  It end() const { return It{items.data() + items.size(), items.data() + items.size(), this}; }
};

Status BadSegment(const char* why) {
  return InvalidArgument(std::string("corrupt log segment: ") + why, "segment");
}
Status BadBlock(const char* why) {
  return InvalidArgument(std::string("corrupt rollup block: ") + why, "rollup");
}

bool CheckCrc(std::string_view data) {
  if (data.size() < 5) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data()) + data.size() - 4;
  uint32_t stored = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  return Crc32c(data.substr(0, data.size() - 4)) == stored;
}

// A record holding one value v: count 1, min = max = sum = v, sumsq = v * v.
bool SingleValue(const RollupRecord& r) {
  const Aggregate& a = r.agg;
  return a.count == 1 && a.max == a.min && a.sum == a.min && a.sumsq == a.min * a.min;
}

// Runs of equal values: varint number of runs, then (value, length) pairs.
void PutRuns(std::string& out, const std::vector<uint64_t>& values) {
  std::string runs;
  uint64_t count = 0;
  for (size_t i = 0; i < values.size();) {
    size_t j = i + 1;
    while (j < values.size() && values[j] == values[i]) ++j;
    PutVarint(runs, values[i]);
    PutVarint(runs, j - i);
    ++count;
    i = j;
  }
  PutVarint(out, count);
  out += runs;
}

bool ReadRuns(Reader& r, uint64_t n, std::vector<uint64_t>& out) {
  uint64_t runs;
  if (!r.Varint(runs) || runs > n) return false;
  out.clear();
  out.reserve(n);
  for (uint64_t i = 0; i < runs; ++i) {
    uint64_t value, length;
    if (!r.Varint(value) || !r.Varint(length) || length == 0 || length > n - out.size()) return false;
    out.insert(out.end(), length, value);
  }
  return out.size() == n;
}

}  // namespace

// ---- Log segments ----------------------------------------------------------------------------------

std::string EncodeLogSegment(std::span<const LogEntry> entries) {
  Picked<LogEntry, double (*)(const LogEntry&)> values{entries, [](const LogEntry& e) { return e.v; }};
  const uint8_t mode = DecimalModeFor(values, 0, 3);
  int64_t base = entries.empty() ? 0 : entries[0].t_ms;
  for (const LogEntry& e : entries) base = std::min(base, e.t_ms);
  int unit = 3;  // the coarsest of h, min, s, ms dividing every time's distance from the earliest
  for (const LogEntry& e : entries) {
    while (unit > 0 && (static_cast<uint64_t>(e.t_ms) - static_cast<uint64_t>(base)) % kTimeUnits[unit] != 0) --unit;
  }
  std::string out;
  out.reserve(16 + entries.size() * (mode == kRaw ? 11 : 4));
  out.push_back(static_cast<char>(kVersion << 4 | mode));
  out.push_back(static_cast<char>(unit));
  PutVarint(out, entries.size());
  PutZVarint(out, base);
  int64_t prev_series = 0;
  int64_t prev_q = 0;
  for (const LogEntry& e : entries) {
    PutVarint(out, static_cast<uint64_t>(e.series_id - prev_series));
    PutVarint(out, (static_cast<uint64_t>(e.t_ms) - static_cast<uint64_t>(base)) / kTimeUnits[unit]);
    if (mode == kRaw) {
      PutF64(out, e.v);
    } else {
      int64_t q = 0;
      Scale(e.v, mode, q);
      PutZVarint(out, q - prev_q);
      prev_q = q;
    }
    prev_series = e.series_id;
  }
  Put32(out, Crc32c(out));
  return out;
}

Status DecodeLogSegment(std::string_view segment, std::vector<LogEntry>& out) {
  if (!CheckCrc(segment)) return BadSegment("checksum mismatch");
  const auto* begin = reinterpret_cast<const uint8_t*>(segment.data());
  Reader r(begin, begin + segment.size() - 4);
  uint8_t header, unit;
  uint64_t n;
  int64_t base;
  if (!r.Byte(header) || (header >> 4) != kVersion) return BadSegment("unknown version");
  const uint8_t mode = header & 15;
  if (mode > 3 && mode != kRaw) return BadSegment("unknown value mode");
  if (!r.Byte(unit) || unit > 3) return BadSegment("unknown time unit");
  if (!r.Varint(n) || n > segment.size()) return BadSegment("bad count");
  if (!r.ZVarint(base) || base < kMinTimeMs || base >= kMaxTimeMs) return BadSegment("bad base time");
  const auto span = static_cast<uint64_t>(kMaxTimeMs - base) / kTimeUnits[unit];
  const size_t before = out.size();
  if (out.capacity() < before + n) out.reserve(std::max<size_t>(before + n, 2 * out.capacity()));
  uint64_t series = 0;
  int64_t q = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ds, dt;
    double v;
    bool ok = r.Varint(ds) && r.Varint(dt) && dt < span;
    if (ok && mode == kRaw) {
      ok = r.F64(v) && std::isfinite(v);
    } else if (ok) {
      int64_t dq;
      ok = r.ZVarint(dq) && !__builtin_add_overflow(q, dq, &q) && q > -(int64_t{1} << 53) && q < (int64_t{1} << 53);
      v = Unscale(q, mode);
    }
    series += ds;
    if (!ok || static_cast<int64_t>(series) < 0) {
      out.resize(before);
      return BadSegment("truncated or out-of-range entry");
    }
    out.push_back({static_cast<int64_t>(series), base + static_cast<int64_t>(dt * kTimeUnits[unit]), v});
  }
  if (!r.AtEnd()) {
    out.resize(before);
    return BadSegment("trailing bytes");
  }
  return Status::Ok();
}

// ---- Rollup blocks ---------------------------------------------------------------------------------

Result<std::string> EncodeRollupBlock(int64_t bucket_ms, int64_t granularity_ms,
                                      std::span<const RollupRecord> records) {
  if (granularity_ms <= 0) return InvalidArgument("rollup granularity must be positive", "rollup");
  std::vector<uint64_t> steps;
  std::vector<uint64_t> codes;
  steps.reserve(records.size());
  codes.reserve(records.size());
  int64_t prev_idx = -1;
  for (const RollupRecord& rec : records) {
    int64_t offset = rec.start_ms - bucket_ms;
    if (offset < 0 || offset % granularity_ms != 0 || rec.end_ms - rec.start_ms != granularity_ms) {
      return InvalidArgument("rollup record not aligned to its bucket", "rollup");
    }
    int64_t idx = offset / granularity_ms;
    if (idx <= prev_idx) return InvalidArgument("rollup records out of order", "rollup");
    if (rec.agg.count == 0 || rec.agg.count > (uint64_t{1} << 61) || !std::isfinite(rec.agg.min) ||
        !std::isfinite(rec.agg.max)) {
      return InvalidArgument("empty or non-finite rollup record", "rollup");
    }
    steps.push_back(static_cast<uint64_t>(idx - prev_idx));
    codes.push_back(rec.agg.count * 2 + (SingleValue(rec) ? 0 : 1));
    prev_idx = idx;
  }
  auto full = [](const RollupRecord& r) { return !SingleValue(r); };
  using Pick = double (*)(const RollupRecord&);
  Picked<RollupRecord, Pick> mins{records, [](const RollupRecord& r) { return r.agg.min; }};
  Picked<RollupRecord, Pick> maxs{records, [](const RollupRecord& r) { return r.agg.max; }, full};
  Picked<RollupRecord, Pick> sums{records, [](const RollupRecord& r) { return r.agg.sum; }, full};
  Picked<RollupRecord, Pick> sumsqs{records, [](const RollupRecord& r) { return r.agg.sumsq; }, full};
  // One decimal mode for the minima and the maxima of full records (max is stored as max − min).
  uint8_t value_mode = kRaw;
  for (int k = 0; k <= 3 && value_mode == kRaw; ++k) {
    if (DecimalModeFor(mins, k, k) == k && DecimalModeFor(maxs, k, k) == k) value_mode = static_cast<uint8_t>(k);
  }
  auto near_all = [](const auto& values, int k) {
    int64_t q;
    for (double v : values) {
      if (!ScaleNear(v, k, q)) return false;
    }
    return true;
  };
  const uint8_t sum_mode = value_mode != kRaw && near_all(sums, value_mode) ? value_mode : kRaw;
  const uint8_t sumsq_mode = value_mode != kRaw && near_all(sumsqs, 2 * value_mode) ? 2 * value_mode : kRaw;

  std::string out;
  out.reserve(16 + records.size() * 3);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(value_mode));
  out.push_back(static_cast<char>(sum_mode));
  out.push_back(static_cast<char>(sumsq_mode));
  PutVarint(out, records.size());
  PutRuns(out, steps);
  PutRuns(out, codes);
  int64_t prev = 0;
  for (const RollupRecord& rec : records) {
    if (value_mode == kRaw) {
      PutF64(out, rec.agg.min);
      continue;
    }
    int64_t q = 0;
    Scale(rec.agg.min, value_mode, q);
    PutZVarint(out, q - prev);
    prev = q;
  }
  int64_t prev_sum = 0;
  int64_t prev_sumsq = 0;
  for (const RollupRecord& rec : records) {
    if (!full(rec)) continue;
    if (value_mode == kRaw) {
      PutF64(out, rec.agg.max);
    } else {
      int64_t lo = 0, hi = 0;
      Scale(rec.agg.min, value_mode, lo);
      Scale(rec.agg.max, value_mode, hi);
      PutVarint(out, static_cast<uint64_t>(hi - lo));
    }
    if (sum_mode == kRaw) {
      PutF64(out, rec.agg.sum);
    } else {
      int64_t q = 0;
      ScaleNear(rec.agg.sum, sum_mode, q);
      PutZVarint(out, q - prev_sum);
      prev_sum = q;
    }
    if (sumsq_mode == kRaw) {
      PutF64(out, rec.agg.sumsq);
    } else {
      int64_t q = 0;
      ScaleNear(rec.agg.sumsq, sumsq_mode, q);
      PutZVarint(out, q - prev_sumsq);
      prev_sumsq = q;
    }
  }
  Put32(out, Crc32c(out));
  return out;
}

Status DecodeRollupBlock(std::string_view block, int64_t bucket_ms, int64_t granularity_ms,
                         std::vector<RollupRecord>& out) {
  if (granularity_ms <= 0 || bucket_ms < kMinTimeMs || bucket_ms >= kMaxTimeMs) {
    return InvalidArgument("rollup bucket out of range", "rollup");
  }
  if (!CheckCrc(block)) return BadBlock("checksum mismatch");
  const auto* begin = reinterpret_cast<const uint8_t*>(block.data());
  Reader r(begin, begin + block.size() - 4);
  uint8_t version, value_mode, sum_mode, sumsq_mode;
  if (!r.Byte(version) || version != kVersion || !r.Byte(value_mode) || !r.Byte(sum_mode) || !r.Byte(sumsq_mode)) {
    return BadBlock("bad header");
  }
  if ((value_mode > 3 && value_mode != kRaw) || (sum_mode > 3 && sum_mode != kRaw) ||
      (sumsq_mode > 6 && sumsq_mode != kRaw)) {
    return BadBlock("unknown value mode");
  }
  uint64_t n;
  if (!r.Varint(n) || n > block.size()) return BadBlock("bad count");
  std::vector<uint64_t> steps, codes;
  if (!ReadRuns(r, n, steps) || !ReadRuns(r, n, codes)) return BadBlock("bad runs");
  const size_t before = out.size();
  auto fail = [&](const char* why) {
    out.resize(before);
    return BadBlock(why);
  };
  const int64_t max_idx = (kMaxTimeMs - bucket_ms) / granularity_ms;
  int64_t idx = -1;
  int64_t prev = 0;
  std::vector<int64_t> scaled_min(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (steps[i] == 0 || steps[i] > static_cast<uint64_t>(max_idx - idx)) return fail("index out of range");
    idx += static_cast<int64_t>(steps[i]);
    uint64_t count = codes[i] >> 1;
    if (count == 0) return fail("empty record");
    RollupRecord rec;
    rec.start_ms = bucket_ms + idx * granularity_ms;
    rec.end_ms = rec.start_ms + granularity_ms;
    rec.agg.count = count;
    double v;
    if (value_mode == kRaw) {
      if (!r.F64(v) || !std::isfinite(v)) return fail("bad value");
    } else {
      int64_t d;
      if (!r.ZVarint(d) || __builtin_add_overflow(prev, d, &prev) || prev <= -(int64_t{1} << 53) ||
          prev >= (int64_t{1} << 53)) {
        return fail("bad value");
      }
      v = Unscale(prev, value_mode);
      scaled_min[i] = prev;
    }
    rec.agg.min = rec.agg.max = rec.agg.sum = v;
    rec.agg.sumsq = v * v;
    out.push_back(rec);
  }
  int64_t prev_sum = 0;
  int64_t prev_sumsq = 0;
  for (uint64_t i = 0; i < n; ++i) {
    if (!(codes[i] & 1)) continue;
    Aggregate& a = out[before + i].agg;
    if (value_mode == kRaw) {
      if (!r.F64(a.max) || !std::isfinite(a.max) || a.max < a.min) return fail("bad maximum");
    } else {
      uint64_t range;
      int64_t hi;
      if (!r.Varint(range) || range >= (uint64_t{1} << 54) ||
          __builtin_add_overflow(scaled_min[i], static_cast<int64_t>(range), &hi) || hi >= (int64_t{1} << 53)) {
        return fail("bad maximum");
      }
      a.max = Unscale(hi, value_mode);
    }
    if (sum_mode == kRaw) {
      if (!r.F64(a.sum) || std::isnan(a.sum)) return fail("bad sum");
    } else {
      int64_t d;
      if (!r.ZVarint(d) || __builtin_add_overflow(prev_sum, d, &prev_sum)) return fail("bad sum");
      a.sum = Unscale(prev_sum, sum_mode);
    }
    if (sumsq_mode == kRaw) {
      if (!r.F64(a.sumsq) || std::isnan(a.sumsq) || a.sumsq < 0) return fail("bad sum of squares");
    } else {
      int64_t d;
      if (!r.ZVarint(d) || __builtin_add_overflow(prev_sumsq, d, &prev_sumsq) || prev_sumsq < 0) {
        return fail("bad sum of squares");
      }
      a.sumsq = Unscale(prev_sumsq, sumsq_mode);
    }
  }
  if (!r.AtEnd()) return fail("trailing bytes");
  return Status::Ok();
}

std::vector<RollupRecord> MergeRollupRecords(std::span<const RollupRecord> a, std::span<const RollupRecord> b) {
  std::vector<RollupRecord> out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].start_ms < b[j].start_ms)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].start_ms < a[i].start_ms) {
      out.push_back(b[j++]);
    } else {
      RollupRecord r = a[i++];
      r.agg.Merge(b[j++].agg);
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace tl::telemetry
