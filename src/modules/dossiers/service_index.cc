#include "modules/dossiers/service_index.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "modules/dossiers/daily_counts.h"

namespace tl::dossiers {
namespace {

using nlohmann::json;
using daily::kDayMs;
using daily::kHanoiOffsetMs;

}  // namespace

ServiceIndex::Counts& ServiceIndex::Counts::operator+=(const Counts& o) {
  received += o.received;
  online += o.online;
  resolved += o.resolved;
  resolved_on_time += o.resolved_on_time;
  open += o.open;
  open_overdue += o.open_overdue;
  online_resolved += o.online_resolved;
  online_result += o.online_result;
  with_components += o.with_components;
  rated += o.rated;
  satisfied += o.satisfied;
  apologised += o.apologised;
  reusing += o.reusing;
  return *this;
}

Result<std::vector<IndicatorRule>> ServiceIndex::LoadRules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read the service index rules at " + path);
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("indicators")) return InvalidArgument("not a service index rules file", path);
  std::vector<IndicatorRule> out;
  for (const auto& i : j["indicators"]) {
    IndicatorRule r{i.value("key", ""), i.value("group", ""), i.value("label_vi", ""), i.value("points", 0.0),
                    i.value("target", 1.0)};
    if (r.key.empty() || r.target <= 0 || r.points < 0) return InvalidArgument("bad indicator " + r.key, path);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<std::pair<std::string, ServiceIndex::Counts>>> ServiceIndex::Aggregate(
    const std::optional<std::string>& unit, int64_t from_ms, int64_t to_ms) const {
  if (daily::IsDayStart(from_ms) && daily::IsDayStart(to_ms)) return AggregateDays(unit, from_ms, to_ms);
  return AggregateScan(unit, from_ms, to_ms);
}

// Whole Hà Nội days: the kept daily counts, plus the open and overdue dossiers counted live (they
// depend on the clock) from the partial index of unfinished dossiers; grouped by unit or by day.
Result<std::map<std::string, ServiceIndex::Counts>> ServiceIndex::SumDays(const std::optional<std::string>& unit,
                                                                        int64_t from_ms, int64_t to_ms,
                                                                        bool by_day) const {
  std::map<std::string, Counts> out;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    const std::string key = by_day ? "day" : "unit_code";
    std::string sql = "SELECT " + key;
    for (const char* f : daily::kFieldNames) sql += std::string(", SUM(") + f + ")";
    sql += " FROM dossier_daily_counts WHERE day >= ? AND day < ?";
    std::vector<storage::Value> params{daily::DayOf(from_ms), daily::DayOf(to_ms)};
    if (unit) {
      sql += " AND unit_code = ?";
      params.emplace_back(*unit);
    }
    sql += " GROUP BY " + key;
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& r : rs.rows) {
      Counts& c = out[r.Text(0)];
      c.received = r.Int(1);
      c.online = r.Int(2);
      c.resolved = r.Int(3);
      c.resolved_on_time = r.Int(4);
      c.online_resolved = r.Int(5);
      c.online_result = r.Int(6);
      c.with_components = r.Int(7);
      c.rated = r.Int(8);
      c.satisfied = r.Int(9);
      c.apologised = r.Int(10);
      c.reusing = r.Int(11);
    }
    const std::string open_key = by_day ? "(submitted_at + " + std::to_string(kHanoiOffsetMs) + ") / " +
                                              std::to_string(kDayMs)
                                        : std::string("unit_code");
    std::string open_sql =
        "SELECT " + open_key + ", "
        "SUM(CASE WHEN status NOT IN ('refused', 'withdrawn', 'stopped', 'returned') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN paused_at IS NULL AND due_at IS NOT NULL AND due_at < ? "
        "AND status NOT IN ('refused', 'withdrawn', 'stopped', 'returned') THEN 1 ELSE 0 END) "
        "FROM dossiers WHERE finished_at IS NULL AND submitted_at >= ? AND submitted_at < ?";
    std::vector<storage::Value> open_params{now, from_ms, to_ms};
    if (unit) {
      open_sql += " AND unit_code = ?";
      open_params.emplace_back(*unit);
    }
    open_sql += " GROUP BY " + open_key;
    TL_ASSIGN_OR_RETURN(auto open, s.QueryV(open_sql, open_params));
    for (const auto& r : open.rows) {
      Counts& c = out[r.Text(0)];
      c.open = r.Int(1);
      c.open_overdue = r.Int(2);
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<std::pair<std::string, ServiceIndex::Counts>>> ServiceIndex::AggregateDays(
    const std::optional<std::string>& unit, int64_t from_ms, int64_t to_ms) const {
  TL_ASSIGN_OR_RETURN(auto by_unit, SumDays(unit, from_ms, to_ms, false));
  return std::vector<std::pair<std::string, Counts>>(by_unit.begin(), by_unit.end());
}

// Any period: a scan of the dossiers submitted in it (the definitions daily_counts.cc keeps).
Result<std::vector<std::pair<std::string, ServiceIndex::Counts>>> ServiceIndex::AggregateScan(
    const std::optional<std::string>& unit, int64_t from_ms, int64_t to_ms) const {
  std::vector<std::pair<std::string, Counts>> out;
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    std::string sql =
        "SELECT unit_code, COUNT(*), "
        "SUM(CASE WHEN channel = 'online' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN finished_at IS NOT NULL AND status NOT IN ('withdrawn') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN finished_at IS NOT NULL AND status NOT IN ('withdrawn') AND on_time = 1 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN finished_at IS NULL AND status NOT IN ('refused', 'withdrawn', 'stopped', 'returned') "
        "THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN finished_at IS NULL AND paused_at IS NULL AND due_at IS NOT NULL AND due_at < ? "
        "AND status NOT IN ('refused', 'withdrawn', 'stopped', 'returned') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN channel = 'online' AND finished_at IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN channel = 'online' AND finished_at IS NOT NULL AND delivery = 'online' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN components <> '[]' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN apologies > 0 THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN reused_documents > 0 THEN 1 ELSE 0 END) "
        "FROM dossiers WHERE submitted_at >= ? AND submitted_at < ?";
    std::vector<storage::Value> params{now, from_ms, to_ms};
    if (unit) {
      sql += " AND unit_code = ?";
      params.emplace_back(*unit);
    }
    sql += " GROUP BY unit_code";
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& r : rs.rows) {
      Counts c;
      c.received = r.Int(1);
      c.online = r.Int(2);
      c.resolved = r.Int(3);
      c.resolved_on_time = r.Int(4);
      c.open = r.Int(5);
      c.open_overdue = r.Int(6);
      c.online_resolved = r.Int(7);
      c.online_result = r.Int(8);
      c.with_components = r.Int(9);
      c.rated = r.Int(10);
      c.satisfied = r.Int(11);
      c.apologised = r.Int(12);
      c.reusing = r.Int(13);
      out.emplace_back(r.Text(0), c);
    }
    return Status::Ok();
  }));
  return out;
}

json ServiceIndex::Score(const Counts& c) const {
  auto ratio = [](int64_t n, int64_t d) { return std::pair<int64_t, int64_t>{n, d}; };
  std::map<std::string, std::optional<std::pair<int64_t, int64_t>>> measured = {
      {"progress.on_time", ratio(c.resolved_on_time, c.resolved)},
      {"progress.not_overdue", ratio(c.open - c.open_overdue, c.open)},
      {"online.received_online", ratio(c.online, c.received)},
      {"online.result_online", ratio(c.online_result, c.online_resolved)},
      {"payment.paid_online", std::nullopt},
      {"digitisation.components", ratio(c.with_components, c.received)},
      {"digitisation.results", ratio(c.online_result, c.resolved)},
      // Once-only: dossiers with at least one component taken from the applicant's wallet.
      {"digitisation.reuse", ratio(c.reusing, c.received)},
      {"satisfaction.rating", ratio(c.satisfied, c.rated)},
      {"satisfaction.no_apology", ratio(c.received - c.apologised, c.received)},
      {"transparency.tracked", ratio(c.received, c.received)},
  };
  json indicators = json::array();
  double total = 0, possible = 0;
  for (const auto& rule : rules_) {
    json i = {{"key", rule.key}, {"group", rule.group}, {"label_vi", rule.label_vi}, {"points", rule.points},
              {"target", rule.target}};
    auto it = measured.find(rule.key);
    if (it == measured.end() || !it->second || it->second->second == 0) {
      i["numerator"] = it != measured.end() && it->second ? json(it->second->first) : json(nullptr);
      i["denominator"] = it != measured.end() && it->second ? json(it->second->second) : json(nullptr);
      i["rate"] = nullptr;
      i["score"] = nullptr;
      i["measured"] = it != measured.end() && it->second.has_value();
    } else {
      double rate = static_cast<double>(it->second->first) / static_cast<double>(it->second->second);
      double score = rate >= rule.target ? rule.points : rate * rule.points / rule.target;
      i["numerator"] = it->second->first;
      i["denominator"] = it->second->second;
      i["rate"] = rate;
      i["score"] = score;
      i["measured"] = true;
      total += score;
      possible += rule.points;
    }
    indicators.push_back(i);
  }
  return {{"indicators", indicators},
          {"score", total},
          {"possible", possible},
          {"score_100", possible > 0 ? total * 100.0 / possible : 0.0},
          {"received", c.received},
          {"resolved", c.resolved},
          {"overdue", c.open_overdue}};
}

namespace {
Result<std::pair<int64_t, int64_t>> Period(const std::string& from, const std::string& to) {
  TL_ASSIGN_OR_RETURN(int64_t f, ParseDate(from, "from"));
  TL_ASSIGN_OR_RETURN(int64_t t, ParseDate(to, "to"));
  if (t < f) return InvalidArgument("must not be before from", "to");
  return std::pair<int64_t, int64_t>{f - kHanoiOffsetMs, t + kDayMs - kHanoiOffsetMs};
}
}  // namespace

Result<json> ServiceIndex::Compute(const std::string& unit, const std::string& from, const std::string& to,
                                   bool scan) const {
  TL_ASSIGN_OR_RETURN(auto period, Period(from, to));
  std::optional<std::string> filter;
  if (unit != city_code_) filter = unit;
  TL_ASSIGN_OR_RETURN(auto rows, scan ? AggregateScan(filter, period.first, period.second)
                                      : Aggregate(filter, period.first, period.second));
  Counts total;
  for (const auto& [u, c] : rows) total += c;
  json out = Score(total);
  out["unit"] = unit;
  out["from"] = from;
  out["to"] = to;
  out["computed_at"] = FormatRfc3339(clock_->NowMillis());
  return out;
}

Result<json> ServiceIndex::Ranking(const std::string& from, const std::string& to) const {
  TL_ASSIGN_OR_RETURN(auto period, Period(from, to));
  TL_ASSIGN_OR_RETURN(auto rows, Aggregate(std::nullopt, period.first, period.second));
  json items = json::array();
  for (const auto& [unit, c] : rows) {
    if (unit == city_code_) continue;
    json s = Score(c);
    items.push_back({{"unit", unit}, {"score_100", s["score_100"]}, {"received", c.received},
                     {"resolved", c.resolved}, {"overdue", c.open_overdue}, {"open", c.open},
                     {"on_time_rate", c.resolved > 0 ? json(static_cast<double>(c.resolved_on_time) / c.resolved)
                                                     : json(nullptr)}});
  }
  // Best score first; on equal scores the commune that served more dossiers, then by code, so the
  // order is stable and a commune with one perfect dossier does not outrank a busy one by chance.
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    double sa = a["score_100"].get<double>(), sb = b["score_100"].get<double>();
    if (sa != sb) return sa > sb;
    int64_t ra = a["received"].get<int64_t>(), rb = b["received"].get<int64_t>();
    if (ra != rb) return ra > rb;
    return a["unit"].get<std::string>() < b["unit"].get<std::string>();
  });
  int rank = 0;
  for (auto& i : items) i["rank"] = ++rank;
  return json{{"from", from}, {"to", to}, {"items", items}};
}

Result<std::map<int64_t, ServiceIndex::Counts>> ServiceIndex::AggregateByDay(
    const std::optional<std::string>& unit, int64_t from_ms, int64_t to_ms) const {
  TL_ASSIGN_OR_RETURN(auto days, SumDays(unit, from_ms, to_ms, true));
  std::map<int64_t, Counts> out;
  for (auto& [day, c] : days) out[std::stoll(day)] = c;
  return out;
}

namespace {
// Cuts the days [first, last] (days since 1970-01-01) into buckets of `interval`, the first and the
// last clipped to the period; fails naming "interval" beyond `max` buckets.
Result<std::vector<std::pair<int64_t, int64_t>>> Buckets(int64_t first, int64_t last, const std::string& interval,
                                                         int max) {
  if (interval != "day" && interval != "week" && interval != "month") {
    return InvalidArgument("must be day, week or month", "interval");
  }
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t d = first; d <= last;) {
    if (static_cast<int>(out.size()) == max) {
      return InvalidArgument("the period has more than " + std::to_string(max) + " buckets of a " + interval +
                                 "; choose a longer interval or a shorter period",
                             "interval");
    }
    int64_t end = d;
    if (interval == "week") {
      end = d + 6 - ((d + 3) % 7 + 7) % 7;  // the Sunday closing the ISO week (1970-01-01 was a Thursday)
    } else if (interval == "month") {
      std::string date = FormatDate(d * kDayMs);
      int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)) + 1;
      if (m == 13) y++, m = 1;
      char next[32];
      std::snprintf(next, sizeof next, "%04d-%02d-01", y, m);
      auto next_ms = ParseDate(next, "to");
      end = next_ms.ok() ? *next_ms / kDayMs - 1 : last;
    }
    end = std::min(end, last);
    out.emplace_back(d, end);
    d = end + 1;
  }
  return out;
}
}  // namespace

Result<json> ServiceIndex::Series(const std::string& unit, const std::string& from, const std::string& to,
                                  const std::string& interval) const {
  TL_ASSIGN_OR_RETURN(auto period, Period(from, to));
  const int64_t first = (period.first + kHanoiOffsetMs) / kDayMs;  // Hà Nội days since 1970-01-01
  const int64_t last = (period.second + kHanoiOffsetMs) / kDayMs - 1;
  TL_ASSIGN_OR_RETURN(auto buckets, Buckets(first, last, interval, kMaxSeriesBuckets));
  std::optional<std::string> filter;
  if (unit != city_code_) filter = unit;
  TL_ASSIGN_OR_RETURN(auto days, AggregateByDay(filter, period.first, period.second));
  json defs = json::array();
  for (const auto& rule : rules_) {
    defs.push_back({{"key", rule.key}, {"group", rule.group}, {"label_vi", rule.label_vi}, {"points", rule.points},
                    {"target", rule.target}});
  }
  json items = json::array();
  for (const auto& [b_first, b_last] : buckets) {
    Counts total;
    for (auto it = days.lower_bound(b_first); it != days.end() && it->first <= b_last; ++it) total += it->second;
    json s = Score(total);
    json indicators = json::array();
    for (const auto& i : s["indicators"]) {
      indicators.push_back({{"key", i["key"]}, {"numerator", i["numerator"]}, {"denominator", i["denominator"]},
                            {"rate", i["rate"]}, {"score", i["score"]}});
    }
    s["indicators"] = std::move(indicators);
    if (s["possible"].get<double>() == 0) s["score_100"] = nullptr;  // nothing measured: a gap, not a zero
    s["from"] = FormatDate(b_first * kDayMs);
    s["to"] = FormatDate(b_last * kDayMs);
    items.push_back(std::move(s));
  }
  json out = {{"unit", unit}, {"from", from}, {"to", to}, {"interval", interval}};
  out["indicators"] = std::move(defs);
  out["buckets"] = std::move(items);
  out["computed_at"] = FormatRfc3339(clock_->NowMillis());
  return out;
}

std::vector<http::Route> ServiceIndexRoutes(const ServiceIndex* index) {
  using http::Access;
  using http::Method;
  std::vector<http::Route> r;
  r.push_back({Method::kGet, "/api/v1/stats/service-index", Access::Public(),
               [index](http::Request& req) -> Result<http::Response> {
                 auto unit = req.Query("unit").value_or("01");
                 auto from = req.Query("from");
                 auto to = req.Query("to");
                 if (!from) return InvalidArgument("is required (YYYY-MM-DD)", "from");
                 if (!to) return InvalidArgument("is required (YYYY-MM-DD)", "to");
                 TL_ASSIGN_OR_RETURN(auto j, index->Compute(unit, *from, *to));
                 return http::Response::Json(200, j.dump());
               },
               {"The Decision 766 service index of the city (unit=01) or a commune over a period", "stats",
                {{"unit", "query", "01 for the city, or a commune code"},
                 {"from", "query", "First day (YYYY-MM-DD, Hà Nội)", true},
                 {"to", "query", "Last day (YYYY-MM-DD, Hà Nội)", true}},
                "", R"({"type":"object","properties":{"score_100":{"type":"number"},"indicators":{"type":"array"}}})"}});
  r.push_back({Method::kGet, "/api/v1/stats/service-index/ranking", Access::Public(),
               [index](http::Request& req) -> Result<http::Response> {
                 auto from = req.Query("from");
                 auto to = req.Query("to");
                 if (!from) return InvalidArgument("is required (YYYY-MM-DD)", "from");
                 if (!to) return InvalidArgument("is required (YYYY-MM-DD)", "to");
                 TL_ASSIGN_OR_RETURN(auto j, index->Ranking(*from, *to));
                 return http::Response::Json(200, j.dump());
               },
               {"Communes ranked by their service index over a period", "stats",
                {{"from", "query", "First day", true}, {"to", "query", "Last day", true}}, "",
                R"({"type":"object","properties":{"items":{"type":"array"}}})"}});
  r.push_back({Method::kGet, "/api/v1/stats/service-index/series", Access::Public(),
               [index](http::Request& req) -> Result<http::Response> {
                 auto unit = req.Query("unit").value_or("01");
                 auto from = req.Query("from");
                 auto to = req.Query("to");
                 if (!from) return InvalidArgument("is required (YYYY-MM-DD)", "from");
                 if (!to) return InvalidArgument("is required (YYYY-MM-DD)", "to");
                 TL_ASSIGN_OR_RETURN(auto j, index->Series(unit, *from, *to, req.Query("interval").value_or("day")));
                 return http::Response::Json(200, j.dump());
               },
               {"The service index of the city (unit=01) or a commune per day, week or month of a period", "stats",
                {{"unit", "query", "01 for the city, or a commune code"},
                 {"from", "query", "First day (YYYY-MM-DD, Hà Nội)", true},
                 {"to", "query", "Last day (YYYY-MM-DD, Hà Nội)", true},
                 {"interval", "query",
                  "day (default), week (ISO, Monday to Sunday) or month; the first and last buckets are clipped to "
                  "the period; at most 400 buckets"}},
                "",
                R"({"type":"object","properties":{"interval":{"type":"string"},"indicators":{"type":"array"},)"
                R"("buckets":{"type":"array","items":{"type":"object","properties":{"from":{"type":"string"},)"
                R"("to":{"type":"string"},"score":{"type":"number"},"score_100":{"type":["number","null"]},)"
                R"("indicators":{"type":"array"}}}}}})"}});
  return r;
}

}  // namespace tl::dossiers
