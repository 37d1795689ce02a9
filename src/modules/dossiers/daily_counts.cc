#include "modules/dossiers/daily_counts.h"

namespace tl::dossiers::daily {

Counts Of(const Facts& f) {
  bool online = f.channel == "online";
  bool resolved = f.finished && f.status != "withdrawn";
  return {1,
          online ? 1 : 0,
          resolved ? 1 : 0,
          resolved && f.on_time && *f.on_time == 1 ? 1 : 0,
          online && f.finished ? 1 : 0,
          online && f.finished && f.delivery == "online" ? 1 : 0,
          f.has_components ? 1 : 0,
          f.rating ? 1 : 0,
          f.rating && *f.rating >= 4 ? 1 : 0,
          f.apologies > 0 ? 1 : 0,
          f.reusing ? 1 : 0};
}

Counts Minus(const Counts& a, const Counts& b) {
  Counts d{};
  for (int i = 0; i < kFields; ++i) d[i] = a[i] - b[i];
  return d;
}

bool IsZero(const Counts& c) {
  for (int64_t v : c) {
    if (v != 0) return false;
  }
  return true;
}

Status Add(storage::Session& s, const std::string& unit, int64_t day, const Counts& delta) {
  if (IsZero(delta)) return Status::Ok();
  // Built once: INSERT ... ON CONFLICT DO UPDATE SET c = dossier_daily_counts.c + excluded.c (SQLite
  // and PostgreSQL alike).
  static const std::string kSql = [] {
    std::string cols, marks, sets;
    for (int i = 0; i < kFields; ++i) {
      cols += std::string(", ") + kFieldNames[i];
      marks += ", ?";
      sets += std::string(i ? ", " : "") + kFieldNames[i] + " = dossier_daily_counts." + kFieldNames[i] +
              " + excluded." + kFieldNames[i];
    }
    return "INSERT INTO dossier_daily_counts (unit_code, day" + cols + ") VALUES (?, ?" + marks +
           ") ON CONFLICT (unit_code, day) DO UPDATE SET " + sets;
  }();
  std::vector<storage::Value> params{unit, day};
  for (int64_t v : delta) params.emplace_back(v);
  return s.ExecV(kSql, params).status();
}

namespace {

// The rebuild query, with or without the reuse count (added after migration 502 had shipped).
std::string RebuildSqlFor(bool with_reusing) {
  return std::string("INSERT INTO dossier_daily_counts (unit_code, day, received, online, resolved, resolved_on_time, "
                     "online_resolved, online_result, with_components, rated, satisfied, apologised") +
         (with_reusing ? ", reusing" : "") +
         ") "
         "SELECT unit_code, (submitted_at + 25200000) / 86400000, COUNT(*), "
         "SUM(CASE WHEN channel = 'online' THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN finished_at IS NOT NULL AND status <> 'withdrawn' THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN finished_at IS NOT NULL AND status <> 'withdrawn' AND on_time = 1 THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN channel = 'online' AND finished_at IS NOT NULL THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN channel = 'online' AND finished_at IS NOT NULL AND delivery = 'online' THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN components <> '[]' THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END), "
         "SUM(CASE WHEN apologies > 0 THEN 1 ELSE 0 END)" +
         (with_reusing ? ", SUM(CASE WHEN reused_documents > 0 THEN 1 ELSE 0 END)" : "") +
         " FROM dossiers GROUP BY unit_code, (submitted_at + 25200000) / 86400000";
}

}  // namespace

std::string RebuildSql() { return RebuildSqlFor(true); }
std::string RebuildSqlV502() { return RebuildSqlFor(false); }

Status Rebuild(storage::Session& s) {
  TL_RETURN_IF_ERROR(s.Exec("DELETE FROM dossier_daily_counts").status());
  return s.Exec(RebuildSql()).status();
}

}  // namespace tl::dossiers::daily
