// Clock: the only source of "now" in ThangLong, so tests can control time.
//
// SystemClock reads the real wall clock; ManualClock is set by tests. Times are Unix milliseconds
// (UTC); FormatRfc3339 renders them as "2026-11-22T02:09:59.123Z".
//
// Thread-safety: SystemClock is stateless; ManualClock uses an atomic and is safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tl {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_(now_ms) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }
  void Set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ"
std::string FormatRfc3339(int64_t unix_ms);
// "YYYY-MM-DD" of the UTC date.
std::string FormatDate(int64_t unix_ms);
// Parses "YYYY-MM-DD" into a Unix-ms midnight UTC; fails naming `field`.
Result<int64_t> ParseDate(std::string_view s, std::string_view field);

}  // namespace tl
