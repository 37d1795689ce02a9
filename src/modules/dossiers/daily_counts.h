// Daily counts behind the service index (chỉ số phục vụ, Decision 766): for each commune/ward and each
// Hà Nội day of submission, how many dossiers were received, online, resolved, resolved on time,
// reusing documents of the applicant's wallet (once-only), and so on — every count that does not
// depend on the moment of the query. They are kept in the table
// dossier_daily_counts, in the same transaction as every change of a dossier that moves a count
// (submission, an action, a rating), so the index over a year of four million dossiers sums a few
// tens of thousands of rows instead of scanning the dossiers. Open and overdue dossiers depend on the
// clock and are counted live (there are few open dossiers, under a partial index).
//
// Thread-safety: pure functions and statements in the caller's transaction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "storage/database.h"

namespace tl::dossiers::daily {

inline constexpr int64_t kHanoiOffsetMs = 7LL * 3600 * 1000;
inline constexpr int64_t kDayMs = 86400000;
inline constexpr int kFields = 11;
// Column names, in the order of Counts' values.
inline constexpr std::array<const char*, kFields> kFieldNames = {
    "received",        "online", "resolved",  "resolved_on_time", "online_resolved", "online_result",
    "with_components", "rated",  "satisfied", "apologised",       "reusing"};

using Counts = std::array<int64_t, kFields>;

// What of a dossier the counts depend on.
struct Facts {
  std::string channel, delivery, status;
  bool finished = false;
  std::optional<int64_t> on_time;
  bool has_components = false;
  std::optional<int64_t> rating;
  int64_t apologies = 0;
  bool reusing = false;  // at least one component satisfied by a document of the applicant's wallet
};

// One dossier's contribution (each value 0 or 1).
Counts Of(const Facts& f);
Counts Minus(const Counts& a, const Counts& b);
bool IsZero(const Counts& c);

// Hà Nội day number (days since 1970-01-01 in UTC+7) of an instant.
inline int64_t DayOf(int64_t unix_ms) {
  int64_t t = unix_ms + kHanoiOffsetMs;
  return t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
}
// True when the instant is a Hà Nội midnight, so a period [from, to) is made of whole days.
inline bool IsDayStart(int64_t unix_ms) { return (unix_ms + kHanoiOffsetMs) % kDayMs == 0; }

// Adds `delta` to the row of (unit, day), creating it when missing.
Status Add(storage::Session& s, const std::string& unit, int64_t day, const Counts& delta);

// Recomputes the whole table from the dossiers (after a bulk load, or to repair).
Status Rebuild(storage::Session& s);

// The SQL that fills the table from the dossiers table (Rebuild). The schema of migration 502, before
// the reuse count existed, is filled by RebuildSqlV502 (migrations never change once released).
std::string RebuildSql();
std::string RebuildSqlV502();

}  // namespace tl::dossiers::daily
