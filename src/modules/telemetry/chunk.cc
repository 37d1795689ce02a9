#include "modules/telemetry/chunk.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>

namespace tl::telemetry {
namespace {

constexpr int kFormatVersion = 1;
constexpr std::array<int64_t, 4> kTimeUnits = {1, 1000, 60000, 3600000};
constexpr std::array<double, 4> kPow10 = {1, 10, 100, 1000};
constexpr double kTwoPow53 = 9007199254740992.0;  // decimal values stay below: exact as doubles
constexpr int64_t kMaxScaled = int64_t{1} << 53;

Status Corrupt(const char* what) {
  return InvalidArgument(std::string("corrupt telemetry chunk: ") + what, "chunk");
}

// ---- Bytes -----------------------------------------------------------------------------------------

uint32_t Load32Le(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t Load64Le(const uint8_t* p) {
  return uint64_t{Load32Le(p)} | uint64_t{Load32Le(p + 4)} << 32;
}
uint64_t Load64Be(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
void Put32Le(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}
void Put64Le(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}
void PutF64(std::string& out, double v) {
  Put64Le(out, std::bit_cast<uint64_t>(v));
}
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
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

// Reads the fixed part of a chunk; every read is bounds-checked.
class ByteCursor {
 public:
  ByteCursor(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool Varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      uint8_t b = *p_++;
      if (shift == 63 && b > 1) return false;
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool ZVarint(int64_t& v) {
    uint64_t u = 0;
    if (!Varint(u)) return false;
    v = Unzigzag(u);
    return true;
  }
  bool F64(double& v) {
    if (end_ - p_ < 8) return false;
    v = std::bit_cast<double>(Load64Le(p_));
    p_ += 8;
    return true;
  }
  const uint8_t* pos() const { return p_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  void Skip(size_t n) { p_ += n; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// ---- CRC-32C ---------------------------------------------------------------------------------------

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}
constexpr CrcTables kCrc = MakeCrcTables();

// ---- Bit streams (most significant bit first) --------------------------------------------------------

class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  // Appends the low `n` bits of `bits`, 1 <= n <= 64.
  void Write(uint64_t bits, int n) {
    if (n < 64) bits &= (uint64_t{1} << n) - 1;
    int space = 64 - fill_;
    if (n < space) {
      acc_ |= bits << (space - n);
      fill_ += n;
      return;
    }
    int rest = n - space;
    acc_ |= bits >> rest;
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(acc_ >> (56 - 8 * i));
    out_.append(b, 8);
    acc_ = rest == 0 ? 0 : bits << (64 - rest);
    fill_ = rest;
  }
  void Flush() {
    for (int i = 0; i < (fill_ + 7) / 8; ++i) out_.push_back(static_cast<char>(acc_ >> (56 - 8 * i)));
    acc_ = 0;
    fill_ = 0;
  }

 private:
  std::string& out_;
  uint64_t acc_ = 0;
  int fill_ = 0;
};

// Reads past the end yield zero bits and are counted, so a caller checks overrun() instead of testing
// every read.
class BitReader {
 public:
  BitReader() = default;
  BitReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}

  // 1 <= n <= 56.
  uint64_t Peek(int n) {
    if (avail_ < n) Refill();
    return buf_ >> (64 - n);
  }
  void Skip(int n) {
    buf_ <<= n;
    avail_ -= n;
  }
  uint64_t Read(int n) {
    uint64_t v = Peek(n);
    Skip(n);
    return v;
  }
  // 1 <= n <= 64.
  uint64_t ReadLong(int n) {
    if (n <= 56) return Read(n);
    uint64_t hi = Read(n - 32);
    return hi << 32 | Read(32);
  }
  bool overrun() const { return padded_ * 8 > static_cast<size_t>(avail_); }
  // Real bits not yet consumed (meaningful when !overrun()).
  size_t bits_left() const { return static_cast<size_t>(end_ - p_) * 8 + static_cast<size_t>(avail_) - padded_ * 8; }

 private:
  void Refill() {
    if (end_ - p_ >= 8) {
      buf_ |= Load64Be(p_) >> avail_;
      p_ += (63 - avail_) >> 3;
      avail_ |= 56;
      return;
    }
    while (avail_ <= 56) {
      uint64_t b = 0;
      if (p_ < end_) {
        b = *p_++;
      } else {
        ++padded_;
      }
      buf_ |= b << (56 - avail_);
      avail_ += 8;
    }
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t buf_ = 0;  // unread bits, left-aligned
  int avail_ = 0;
  size_t padded_ = 0;  // zero bytes supplied past the end
};

// ---- Timestamps: delta of delta, in the chunk's time unit ---------------------------------------------
//   0                    dod = 0
//   10   + 7 bits        -64 .. 63
//   110  + 14 bits       -8192 .. 8191
//   1110 + 24 bits       about +-8.4e6
//   11110 + 36 bits      about +-3.4e10
//   11111 + 64 bits      anything (the arithmetic wraps, so every int64 time difference round-trips)

bool FitsSigned(int64_t v, int bits) {
  int64_t lim = int64_t{1} << (bits - 1);
  return v >= -lim && v < lim;
}

void WriteDod(BitWriter& w, uint64_t dod) {
  int64_t d = static_cast<int64_t>(dod);
  if (d == 0) {
    w.Write(0, 1);
  } else if (FitsSigned(d, 7)) {
    w.Write(uint64_t{0b10} << 7 | (dod & 0x7f), 9);
  } else if (FitsSigned(d, 14)) {
    w.Write(uint64_t{0b110} << 14 | (dod & 0x3fff), 17);
  } else if (FitsSigned(d, 24)) {
    w.Write(uint64_t{0b1110} << 24 | (dod & 0xffffff), 28);
  } else if (FitsSigned(d, 36)) {
    w.Write(uint64_t{0b11110} << 36 | (dod & 0xfffffffff), 41);
  } else {
    w.Write(0b11111, 5);
    w.Write(dod, 64);
  }
}

uint64_t SignExtend(uint64_t v, int bits) {
  return static_cast<uint64_t>(static_cast<int64_t>(v << (64 - bits)) >> (64 - bits));
}

uint64_t ReadDod(BitReader& r) {
  uint64_t top = r.Peek(5);
  int ones = std::countl_one(top << 59);
  switch (ones) {
    case 0:
      r.Skip(1);
      return 0;
    case 1:
      return SignExtend(r.Read(9), 7);
    case 2:
      return SignExtend(r.Read(17), 14);
    case 3:
      return SignExtend(r.Read(28), 24);
    case 4:
      return SignExtend(r.Read(41), 36);
    default:
      r.Skip(5);
      return r.ReadLong(64);
  }
}

// ---- Simple-8b (Anh & Moffat): 4-bit selector, 60 bits of payload per 64-bit word ---------------------

struct Selector {
  int n;
  int bits;
};
constexpr std::array<Selector, 16> kSelectors = {{{240, 0},
                                                  {120, 0},
                                                  {60, 1},
                                                  {30, 2},
                                                  {20, 3},
                                                  {15, 4},
                                                  {12, 5},
                                                  {10, 6},
                                                  {8, 7},
                                                  {7, 8},
                                                  {6, 10},
                                                  {5, 12},
                                                  {4, 15},
                                                  {3, 20},
                                                  {2, 30},
                                                  {1, 60}}};

// Packs values < 2^60. The last word may hold fewer values than its selector says; the reader knows
// the count and stops.
void Simple8bEncode(const uint64_t* v, size_t n, std::string& out) {
  size_t i = 0;
  std::array<int, 60> prefix_width{};
  while (i < n) {
    size_t rem = n - i;
    size_t zeros = 0;
    while (zeros < 240 && zeros < rem && v[i + zeros] == 0) ++zeros;
    int sel = -1;
    size_t take = 0;
    if (zeros >= 240 || (zeros == rem && zeros > 120)) {
      sel = 0;
      take = zeros;
    } else if (zeros >= 120 || zeros == rem) {
      sel = 1;
      take = zeros < 120 ? zeros : 120;
    } else {
      size_t computed = 0;
      int run = 0;
      for (int s = 2; s < 16; ++s) {
        size_t need = std::min<size_t>(kSelectors[s].n, rem);
        while (computed < need && run <= kSelectors[s].bits) {
          run = std::max(run, static_cast<int>(std::bit_width(v[i + computed])));
          prefix_width[computed++] = run;
        }
        if (computed >= need && prefix_width[need - 1] <= kSelectors[s].bits) {
          sel = s;
          take = need;
          break;
        }
      }
    }
    uint64_t word = uint64_t(sel) << 60;
    int bits = kSelectors[sel].bits;
    if (bits > 0) {
      for (size_t j = 0; j < take; ++j) word |= v[i + j] << (j * bits);
    }
    Put64Le(out, word);
    i += take;
  }
}

class Simple8bReader {
 public:
  Simple8bReader() = default;
  Simple8bReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool Next(uint64_t& v) {
    if (idx_ == n_) {
      if (end_ - p_ < 8) return false;
      word_ = Load64Le(p_);
      p_ += 8;
      const Selector& s = kSelectors[word_ >> 60];
      n_ = s.n;
      bits_ = s.bits;
      mask_ = (uint64_t{1} << bits_) - 1;
      idx_ = 0;
    }
    v = (word_ >> (idx_ * bits_)) & mask_;  // idx_ * bits_ < 60
    ++idx_;
    return true;
  }
  bool at_end() const { return p_ == end_; }

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t word_ = 0;
  uint64_t mask_ = 0;
  int n_ = 0;
  int idx_ = 0;
  int bits_ = 0;
};

// ---- Encoding --------------------------------------------------------------------------------------

struct ValueCandidate {
  ValueScheme scheme = ValueScheme::kXor;
  int decimals = 0;
  std::string summary;  // the value part of the header
  std::string stream;
  size_t size() const { return summary.size() + stream.size(); }
};

ValueCandidate EncodeXor(std::span<const Sample> s, double min, double max, double sum) {
  ValueCandidate c;
  PutF64(c.summary, min);
  PutF64(c.summary, max);
  PutF64(c.summary, sum);
  c.stream.reserve(s.size() * 4 + 16);
  BitWriter w(c.stream);
  uint64_t prev = std::bit_cast<uint64_t>(s[0].v);
  w.Write(prev, 64);
  int wl = -1;  // current window: leading and trailing zeros; none yet
  int wt = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    uint64_t cur = std::bit_cast<uint64_t>(s[i].v);
    uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      w.Write(0, 1);
      continue;
    }
    int lead = std::min(std::countl_zero(x), 31);
    int trail = std::countr_zero(x);
    if (wl >= 0 && lead >= wl && trail >= wt) {
      w.Write(0b10, 2);
      w.Write(x >> wt, 64 - wl - wt);
    } else {
      int len = 64 - lead - trail;
      w.Write(uint64_t{0b11} << 11 | uint64_t(lead) << 6 | uint64_t(len & 63), 13);
      w.Write(x >> trail, len);
      wl = lead;
      wt = trail;
    }
  }
  w.Flush();
  return c;
}

// v × 10^k for every value when all are exact decimals with at most k digits; false otherwise.
bool ScaleDecimal(std::span<const Sample> s, int k, std::vector<int64_t>& out, int64_t& sum) {
  const double p = kPow10[k];
  sum = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    double v = s[i].v;
    double x = v * p;
    if (!(std::fabs(x) < kTwoPow53)) return false;
    auto q = static_cast<int64_t>(x < 0 ? x - 0.5 : x + 0.5);
    double back = k == 0 ? static_cast<double>(q) : static_cast<double>(q) / p;
    if (back != v) return false;
    if (__builtin_add_overflow(sum, q, &sum)) return false;
    out[i] = q;
  }
  return true;
}

void AddDecimalCandidates(std::span<const Sample> s, ValueCandidate& best) {
  std::vector<int64_t> scaled(s.size());
  int64_t sum = 0;
  int k = 0;
  while (k < 4 && !ScaleDecimal(s, k, scaled, sum)) ++k;
  if (k == 4) return;
  int64_t lo = scaled[0];
  int64_t hi = scaled[0];
  for (int64_t q : scaled) {
    lo = std::min(lo, q);
    hi = std::max(hi, q);
  }
  std::string summary;
  PutVarint(summary, Zigzag(lo));
  PutVarint(summary, static_cast<uint64_t>(hi - lo));
  PutVarint(summary, Zigzag(sum));

  std::vector<uint64_t> packed(s.size());
  ValueCandidate delta{ValueScheme::kDecimalDelta, k, summary, {}};
  PutVarint(delta.stream, Zigzag(scaled[0]));
  for (size_t i = 1; i < s.size(); ++i) packed[i - 1] = Zigzag(scaled[i] - scaled[i - 1]);
  Simple8bEncode(packed.data(), s.size() - 1, delta.stream);

  ValueCandidate frame{ValueScheme::kDecimalFrame, k, std::move(summary), {}};
  if (hi != lo) {  // a constant chunk needs no stream at all
    for (size_t i = 0; i < s.size(); ++i) packed[i] = static_cast<uint64_t>(scaled[i] - lo);
    Simple8bEncode(packed.data(), s.size(), frame.stream);
  }
  ValueCandidate& smaller = frame.size() < delta.size() ? frame : delta;
  if (smaller.size() < best.size()) best = std::move(smaller);
}

void AppendCrc(std::string& out) {
  Put32Le(out, Crc32c(out));
}

Status CheckSample(int64_t prev_t, bool has_prev, size_t count, int64_t t_ms, double v) {
  if (count >= kMaxChunkSamples) return ResourceExhausted("telemetry chunk is full");
  if (has_prev && t_ms < prev_t) return InvalidArgument("time goes backwards within a chunk", "t");
  if (!std::isfinite(v)) return InvalidArgument("value is not a finite number", "v");
  return Status::Ok();
}

std::string EncodeSamples(std::span<const Sample> s, ChunkEncoderOptions options) {
  std::string out;
  const size_t n = s.size();
  if (n == 0) {
    out.push_back(static_cast<char>(kFormatVersion << 6));
    PutVarint(out, 0);
    AppendCrc(out);
    return out;
  }
  // The coarsest time unit dividing every interval.
  int unit_code = 3;
  for (size_t i = 1; i < n && unit_code > 0; ++i) {
    uint64_t d = static_cast<uint64_t>(s[i].t_ms) - static_cast<uint64_t>(s[i - 1].t_ms);
    while (unit_code > 0 && d % static_cast<uint64_t>(kTimeUnits[unit_code]) != 0) --unit_code;
  }
  // Delta of delta in that unit, as Gorilla's prefix buckets or, when smaller, zigzag in Simple-8b words
  // (better for jittered clocks and for perfectly regular series).
  const auto unit = static_cast<uint64_t>(kTimeUnits[unit_code]);
  std::string times;
  times.reserve(n / 4 + 16);
  bool times_simple8b = false;
  {
    std::vector<uint64_t> dods(n - 1);
    bool packable = true;
    BitWriter w(times);
    uint64_t prev_delta = 0;
    for (size_t i = 1; i < n; ++i) {
      uint64_t delta = (static_cast<uint64_t>(s[i].t_ms) - static_cast<uint64_t>(s[i - 1].t_ms)) / unit;
      uint64_t dod = delta - prev_delta;
      WriteDod(w, dod);
      dods[i - 1] = Zigzag(static_cast<int64_t>(dod));
      packable = packable && dods[i - 1] < (uint64_t{1} << 60);
      prev_delta = delta;
    }
    w.Flush();
    if (packable && !options.plain_gorilla) {
      std::string packed;
      Simple8bEncode(dods.data(), dods.size(), packed);
      if (packed.size() < times.size()) {
        times.swap(packed);
        times_simple8b = true;
      }
    }
  }
  double min = s[0].v;
  double max = s[0].v;
  double sum = 0;
  double sumsq = 0;
  for (const Sample& x : s) {
    min = std::min(min, x.v);
    max = std::max(max, x.v);
    sum += x.v;
    sumsq += x.v * x.v;
  }
  ValueCandidate best = EncodeXor(s, min, max, sum);
  if (!options.plain_gorilla) AddDecimalCandidates(s, best);

  out.reserve(32 + times.size() + best.size());
  out.push_back(
      static_cast<char>(kFormatVersion << 6 | unit_code << 4 | best.decimals << 2 | static_cast<int>(best.scheme)));
  PutVarint(out, n);
  PutVarint(out, Zigzag(s[0].t_ms));
  PutVarint(out, static_cast<uint64_t>(s[n - 1].t_ms) - static_cast<uint64_t>(s[0].t_ms));
  out += best.summary;
  PutF64(out, sumsq);
  PutVarint(out, times.size() << 1 | (times_simple8b ? 1 : 0));
  out += times;
  out += best.stream;
  AppendCrc(out);
  return out;
}

// ---- Decoding --------------------------------------------------------------------------------------

struct ParsedChunk {
  ChunkSummary summary;
  int64_t min_scaled = 0;
  uint64_t range_scaled = 0;
  const uint8_t* times = nullptr;
  const uint8_t* times_end = nullptr;
  bool times_simple8b = false;
  const uint8_t* values = nullptr;
  const uint8_t* values_end = nullptr;
};

double Unscale(int64_t q, int k) {
  return k == 0 ? static_cast<double>(q) : static_cast<double>(q) / kPow10[static_cast<size_t>(k)];
}

Status ParseChunk(std::string_view chunk, ParsedChunk& out) {
  if (chunk.size() < 2 + 4) return Corrupt("too short");  // header, count, checksum
  const auto* begin = reinterpret_cast<const uint8_t*>(chunk.data());
  const uint8_t* body_end = begin + chunk.size() - 4;
  if (Crc32c(chunk.substr(0, chunk.size() - 4)) != Load32Le(body_end)) return Corrupt("checksum mismatch");
  const uint8_t header = begin[0];
  if (header >> 6 != kFormatVersion) return Corrupt("unknown format version");
  ChunkSummary& s = out.summary;
  s.time_unit_ms = kTimeUnits[(header >> 4) & 3];
  s.decimals = (header >> 2) & 3;
  if ((header & 3) == 3) return Corrupt("unknown value scheme");
  s.scheme = static_cast<ValueScheme>(header & 3);
  if (s.scheme == ValueScheme::kXor && s.decimals != 0) return Corrupt("decimals on an XOR chunk");

  ByteCursor c(begin + 1, body_end);
  uint64_t count = 0;
  if (!c.Varint(count)) return Corrupt("bad count");
  if (count > kMaxChunkSamples) return Corrupt("count too large");
  s.count = static_cast<uint32_t>(count);
  if (count == 0) {
    if (header != kFormatVersion << 6 || c.left() != 0) return Corrupt("bad empty chunk");
    return Status::Ok();
  }
  uint64_t span = 0;
  if (!c.ZVarint(s.first_ms) || !c.Varint(span)) return Corrupt("bad time range");
  // last = first + span must not pass INT64_MAX; the span itself may exceed it.
  if (span > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - static_cast<uint64_t>(s.first_ms)) {
    return Corrupt("time range overflows");
  }
  s.last_ms = static_cast<int64_t>(static_cast<uint64_t>(s.first_ms) + span);
  if (count == 1 && span != 0) return Corrupt("one sample with a time range");
  if (s.scheme == ValueScheme::kXor) {
    if (!c.F64(s.min) || !c.F64(s.max) || !c.F64(s.sum)) return Corrupt("bad value summary");
    if (!std::isfinite(s.min) || !std::isfinite(s.max) || s.min > s.max || std::isnan(s.sum)) {
      return Corrupt("bad value summary");
    }
  } else {
    int64_t sum = 0;
    if (!c.ZVarint(out.min_scaled) || !c.Varint(out.range_scaled) || !c.ZVarint(sum)) {
      return Corrupt("bad value summary");
    }
    if (out.min_scaled <= -kMaxScaled || out.min_scaled >= kMaxScaled ||
        out.range_scaled >= static_cast<uint64_t>(kMaxScaled - out.min_scaled)) {
      return Corrupt("decimal range out of bounds");
    }
    s.min = Unscale(out.min_scaled, s.decimals);
    s.max = Unscale(out.min_scaled + static_cast<int64_t>(out.range_scaled), s.decimals);
    s.sum = Unscale(sum, s.decimals);
  }
  if (!c.F64(s.sumsq) || !(s.sumsq >= 0)) return Corrupt("bad sum of squares");
  uint64_t time_field = 0;
  if (!c.Varint(time_field) || time_field >> 1 > c.left()) return Corrupt("bad time stream length");
  const uint64_t time_bytes = time_field >> 1;
  out.times_simple8b = (time_field & 1) != 0;
  s.time_scheme = out.times_simple8b ? TimeScheme::kSimple8b : TimeScheme::kGorilla;
  if (count == 1 && time_field != 0) return Corrupt("time stream on a single sample");
  if (out.times_simple8b && time_bytes % 8 != 0) return Corrupt("partial Simple-8b word");
  out.times = c.pos();
  out.times_end = c.pos() + time_bytes;
  c.Skip(time_bytes);
  out.values = c.pos();
  out.values_end = body_end;
  return Status::Ok();
}

// The decoder behind ChunkReader and DecodeChunk: a time cursor and a value cursor advanced together.
struct Decoder {
  ParsedChunk p;
  Status status;
  uint32_t remaining = 0;
  bool started = false;
  // times
  BitReader times;
  Simple8bReader time_words;
  uint64_t unit = 1;
  uint64_t delta = 0;
  int64_t t = 0;
  // values
  BitReader xor_bits;
  uint64_t prev_bits = 0;
  int window_lead = -1;
  int window_trail = 0;
  Simple8bReader words;
  uint64_t scaled = 0;  // the current scaled value, wrapping arithmetic

  Status Init(std::string_view chunk) {
    TL_RETURN_IF_ERROR(ParseChunk(chunk, p));
    remaining = p.summary.count;
    unit = static_cast<uint64_t>(p.summary.time_unit_ms);
    if (p.times_simple8b) {
      time_words = Simple8bReader(p.times, p.times_end);
    } else {
      times = BitReader(p.times, p.times_end);
    }
    switch (p.summary.scheme) {
      case ValueScheme::kXor:
        xor_bits = BitReader(p.values, p.values_end);
        break;
      case ValueScheme::kDecimalDelta:
      case ValueScheme::kDecimalFrame: {
        ByteCursor c(p.values, p.values_end);
        if (p.summary.scheme == ValueScheme::kDecimalDelta && remaining > 0) {
          int64_t first = 0;
          if (!c.ZVarint(first)) return Corrupt("bad first value");
          scaled = static_cast<uint64_t>(first);
        }
        if (c.left() % 8 != 0) return Corrupt("partial Simple-8b word");
        if (p.summary.scheme == ValueScheme::kDecimalFrame && p.range_scaled == 0 && c.left() != 0) {
          return Corrupt("stream on a constant chunk");
        }
        words = Simple8bReader(c.pos(), p.values_end);
        break;
      }
    }
    return Status::Ok();
  }

  bool Fail(const char* what) {
    status = Corrupt(what);
    remaining = 0;
    return false;
  }

  bool NextTime(int64_t& out) {
    if (!started) {
      t = p.summary.first_ms;
    } else {
      if (p.times_simple8b) {
        uint64_t z = 0;
        if (!time_words.Next(z)) return Fail("time stream ends early");
        delta += static_cast<uint64_t>(Unzigzag(z));
      } else {
        delta += ReadDod(times);
        if (times.overrun()) return Fail("time stream ends early");
      }
      uint64_t room = static_cast<uint64_t>(p.summary.last_ms) - static_cast<uint64_t>(t);
      if (delta > room / unit) return Fail("time outside the chunk's range");
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + delta * unit);
    }
    out = t;
    return true;
  }

  bool NextScaled(int64_t& out) {
    if (p.summary.scheme == ValueScheme::kDecimalFrame) {
      uint64_t x = 0;
      if (p.range_scaled != 0 && !words.Next(x)) return Fail("value stream ends early");
      if (x > p.range_scaled) return Fail("value outside the chunk's range");
      out = p.min_scaled + static_cast<int64_t>(x);
      return true;
    }
    if (started) {
      uint64_t z = 0;
      if (!words.Next(z)) return Fail("value stream ends early");
      scaled += static_cast<uint64_t>(Unzigzag(z));
    }
    auto q = static_cast<int64_t>(scaled);
    if (q < p.min_scaled || static_cast<uint64_t>(q) - static_cast<uint64_t>(p.min_scaled) > p.range_scaled) {
      return Fail("value outside the chunk's range");
    }
    out = q;
    return true;
  }

  bool NextXor(double& out) {
    if (!started) {
      prev_bits = xor_bits.ReadLong(64);
    } else if (xor_bits.Read(1) != 0) {
      uint64_t x = 0;
      if (xor_bits.Read(1) == 0) {
        if (window_lead < 0) return Fail("XOR window used before it is set");
        x = xor_bits.ReadLong(64 - window_lead - window_trail) << window_trail;
      } else {
        auto bits = xor_bits.Read(11);
        int lead = static_cast<int>(bits >> 6);
        int len = static_cast<int>(bits & 63);
        if (len == 0) len = 64;
        if (lead + len > 64) return Fail("bad XOR window");
        window_lead = lead;
        window_trail = 64 - lead - len;
        x = xor_bits.ReadLong(len) << window_trail;
      }
      prev_bits ^= x;
    }
    if (xor_bits.overrun()) return Fail("value stream ends early");
    out = std::bit_cast<double>(prev_bits);
    if (!std::isfinite(out)) return Fail("value is not finite");
    return true;
  }

  bool Next(Sample& out) {
    if (remaining == 0) return false;
    int64_t t_ms = 0;
    double v = 0;
    if (!NextTime(t_ms)) return false;
    if (p.summary.scheme == ValueScheme::kXor) {
      if (!NextXor(v)) return false;
    } else {
      int64_t q = 0;
      if (!NextScaled(q)) return false;
      v = Unscale(q, p.summary.decimals);
    }
    started = true;
    if (--remaining == 0) {
      if (t_ms != p.summary.last_ms) return Fail("last time differs from the summary");
      if (p.times_simple8b ? !time_words.at_end() : times.bits_left() >= 8) {
        return Fail("trailing bytes in the time stream");
      }
      if (p.summary.scheme == ValueScheme::kXor) {
        if (xor_bits.bits_left() >= 8) return Fail("trailing bytes in the value stream");
      } else if (!words.at_end()) {
        return Fail("trailing words in the value stream");
      }
    }
    out = {t_ms, v};
    return true;
  }
};

}  // namespace

const char* ValueSchemeName(ValueScheme scheme) {
  switch (scheme) {
    case ValueScheme::kXor:
      return "xor";
    case ValueScheme::kDecimalDelta:
      return "decimal-delta";
    case ValueScheme::kDecimalFrame:
      return "decimal-frame";
  }
  return "unknown";
}

uint32_t Crc32c(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  uint32_t crc = ~0u;
  while (n >= 8) {
    uint32_t lo = Load32Le(p) ^ crc;
    uint32_t hi = Load32Le(p + 4);
    crc = kCrc[7][lo & 0xff] ^ kCrc[6][(lo >> 8) & 0xff] ^ kCrc[5][(lo >> 16) & 0xff] ^ kCrc[4][lo >> 24] ^
          kCrc[3][hi & 0xff] ^ kCrc[2][(hi >> 8) & 0xff] ^ kCrc[1][(hi >> 16) & 0xff] ^ kCrc[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kCrc[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Status ChunkEncoder::Append(int64_t t_ms, double v) {
  TL_RETURN_IF_ERROR(CheckSample(last_ms(), !samples_.empty(), samples_.size(), t_ms, v));
  samples_.push_back({t_ms, v + 0.0});  // -0.0 + 0.0 is 0.0
  return Status::Ok();
}

std::string ChunkEncoder::Finish() {
  std::string out = EncodeSamples(samples_, options_);
  samples_.clear();
  return out;
}

Result<std::string> EncodeChunk(std::span<const Sample> samples, ChunkEncoderOptions options) {
  bool negative_zero = false;
  for (size_t i = 0; i < samples.size(); ++i) {
    TL_RETURN_IF_ERROR(CheckSample(i > 0 ? samples[i - 1].t_ms : 0, i > 0, i, samples[i].t_ms, samples[i].v));
    negative_zero = negative_zero || (samples[i].v == 0 && std::signbit(samples[i].v));
  }
  if (!negative_zero) return EncodeSamples(samples, options);
  std::vector<Sample> copy(samples.begin(), samples.end());
  for (Sample& s : copy) s.v += 0.0;
  return EncodeSamples(copy, options);
}

Result<ChunkSummary> ReadChunkSummary(std::string_view chunk) {
  ParsedChunk parsed;
  TL_RETURN_IF_ERROR(ParseChunk(chunk, parsed));
  return parsed.summary;
}

struct ChunkReader::State {
  Decoder d;
};

Status DecodeChunkInto(std::string_view chunk, std::vector<Sample>& out) {
  out.clear();
  Decoder state;
  TL_RETURN_IF_ERROR(state.Init(chunk));
  out.resize(state.remaining);
  for (Sample& s : out) {
    if (!state.Next(s)) {
      out.clear();
      return state.status;
    }
  }
  return Status::Ok();
}

Result<std::vector<Sample>> DecodeChunk(std::string_view chunk) {
  std::vector<Sample> out;
  TL_RETURN_IF_ERROR(DecodeChunkInto(chunk, out));
  return out;
}

ChunkReader::ChunkReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ChunkReader::ChunkReader(ChunkReader&&) noexcept = default;
ChunkReader& ChunkReader::operator=(ChunkReader&&) noexcept = default;
ChunkReader::~ChunkReader() = default;

Result<ChunkReader> ChunkReader::Open(std::string_view chunk) {
  auto state = std::make_unique<State>();
  TL_RETURN_IF_ERROR(state->d.Init(chunk));
  return ChunkReader(std::move(state));
}

const ChunkSummary& ChunkReader::summary() const {
  return state_->d.p.summary;
}
bool ChunkReader::Next(Sample& out) {
  return state_->d.Next(out);
}
const Status& ChunkReader::status() const {
  return state_->d.status;
}
uint32_t ChunkReader::remaining() const {
  return state_->d.remaining;
}

}  // namespace tl::telemetry
