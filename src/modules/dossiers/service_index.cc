#include "modules/dossiers/service_index.h"

#include <algorithm>
#include <fstream>

namespace tl::dossiers {
namespace {

using nlohmann::json;
constexpr int64_t kHanoiOffsetMs = 7LL * 3600 * 1000;
constexpr int64_t kDayMs = 86400000;

}  // namespace

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
        "SUM(CASE WHEN apologies > 0 THEN 1 ELSE 0 END) "
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

Result<json> ServiceIndex::Compute(const std::string& unit, const std::string& from, const std::string& to) const {
  TL_ASSIGN_OR_RETURN(auto period, Period(from, to));
  std::optional<std::string> filter;
  if (unit != city_code_) filter = unit;
  TL_ASSIGN_OR_RETURN(auto rows, Aggregate(filter, period.first, period.second));
  Counts total;
  for (const auto& [u, c] : rows) {
    total.received += c.received;
    total.online += c.online;
    total.resolved += c.resolved;
    total.resolved_on_time += c.resolved_on_time;
    total.open += c.open;
    total.open_overdue += c.open_overdue;
    total.online_resolved += c.online_resolved;
    total.online_result += c.online_result;
    total.with_components += c.with_components;
    total.rated += c.rated;
    total.satisfied += c.satisfied;
    total.apologised += c.apologised;
  }
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
                     {"resolved", c.resolved}, {"overdue", c.open_overdue}});
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["score_100"].get<double>() > b["score_100"].get<double>();
  });
  int rank = 0;
  for (auto& i : items) i["rank"] = ++rank;
  return json{{"from", from}, {"to", to}, {"items", items}};
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
  return r;
}

}  // namespace tl::dossiers
