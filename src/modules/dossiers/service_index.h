// The real-time service index of Decision 766/QĐ-TTg, computed from the one-stop shop's dossiers.
//
// For a unit (the city "01" or one commune/ward) and a period (dossiers received in it, Hà Nội dates),
// each indicator reports its numerator, denominator, rate, target, points and score (full points when
// the rate meets the target, else rate x points / target); targets and points come from
// data/rules/service-index-766.json. Indicators whose data the platform does not hold yet (online
// payment) report a null rate and no score. Ranking() scores every commune of the city. Series() cuts
// the period into buckets of a day, an ISO week (Monday to Sunday) or a calendar month, clipped to the
// period, and scores each bucket the same way (at most kMaxSeriesBuckets).
//
// Thread-safety: stateless over the database; safe to share.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/http.h"
#include "storage/database.h"

namespace tl::dossiers {

struct IndicatorRule {
  std::string key, group, label_vi;
  double points = 0, target = 1;
};

class ServiceIndex {
 public:
  ServiceIndex(storage::Database* db, const Clock* clock, std::vector<IndicatorRule> rules, std::string city_code)
      : db_(db), clock_(clock), rules_(std::move(rules)), city_code_(std::move(city_code)) {}
  static Result<std::vector<IndicatorRule>> LoadRules(const std::string& path);

  // `scan` computes the same figures by scanning the dossiers instead of the kept daily counts (to
  // verify them; a year of four million dossiers takes seconds that way).
  Result<nlohmann::json> Compute(const std::string& unit, const std::string& from, const std::string& to,
                                 bool scan = false) const;
  Result<nlohmann::json> Ranking(const std::string& from, const std::string& to) const;
  // interval: "day", "week" or "month".
  Result<nlohmann::json> Series(const std::string& unit, const std::string& from, const std::string& to,
                                const std::string& interval) const;

  static constexpr int kMaxSeriesBuckets = 400;

 private:
  struct Counts {
    int64_t received = 0, online = 0, resolved = 0, resolved_on_time = 0, open = 0, open_overdue = 0,
            online_resolved = 0, online_result = 0, with_components = 0, rated = 0, satisfied = 0, apologised = 0,
            reusing = 0;
    Counts& operator+=(const Counts& o);
  };
  nlohmann::json Score(const Counts& c) const;
  Result<std::map<std::string, Counts>> SumDays(const std::optional<std::string>& unit, int64_t from_ms,
                                                int64_t to_ms, bool by_day) const;
  Result<std::vector<std::pair<std::string, Counts>>> AggregateDays(const std::optional<std::string>& unit,
                                                                    int64_t from_ms, int64_t to_ms) const;
  Result<std::vector<std::pair<std::string, Counts>>> AggregateScan(const std::optional<std::string>& unit,
                                                                    int64_t from_ms, int64_t to_ms) const;
  Result<std::vector<std::pair<std::string, Counts>>> Aggregate(const std::optional<std::string>& unit, int64_t from_ms,
                                                                int64_t to_ms) const;
  // The counts of Aggregate() summed over units and grouped by Hà Nội day (days since 1970-01-01) in one
  // query; the series' source. Keep its definitions in step with Aggregate().
  Result<std::map<int64_t, Counts>> AggregateByDay(const std::optional<std::string>& unit, int64_t from_ms,
                                                   int64_t to_ms) const;

  storage::Database* db_;
  const Clock* clock_;
  std::vector<IndicatorRule> rules_;
  std::string city_code_;
};

std::vector<http::Route> ServiceIndexRoutes(const ServiceIndex* index);

}  // namespace tl::dossiers
