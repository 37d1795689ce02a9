// Alert rules: what the operations center watches in the NGSI-LD entities, as data.
//
// A rule names an entity type and one of its attributes by their compact Smart Data Models terms
// ("AirQualityObserved", "pm25"; resolved to IRIs with the broker's Smart Data Models context), a kind,
// and the condition:
//   threshold       the attribute's value compared with `value` (or with the entity's own
//                   `value_attribute`, e.g. a gauge's alertLevel) by `operator`;
//   sustained       the same comparison true for at least `duration_minutes` of measurement time;
//   rate_of_change  the change between two successive measurements, per `duration_minutes`, compared
//                   with `value` by `operator` (e.g. water level rising by more than 0.5 per 60 min);
//   missing_data    no change of the attribute ("*": of any attribute) of an entity of the type for
//                   `duration_minutes` of server time.
// plus the alert it raises: severity (the Smart Data Models Alert values: informational, low, medium,
// high, critical), escalate_after_minutes (0: never), the Alert's category and subCategory, and
// whether it is enabled. The JSON form (file and API) is RuleJson()'s; ParseRule() validates one rule,
// errors naming `prefix` + the member ("rules[3].operator", or "operator" for an API body).
// Rules on the type Alert are refused: alerts must not raise alerts.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::alerts {

enum class RuleKind { kThreshold, kSustained, kRateOfChange, kMissingData };
const char* RuleKindName(RuleKind kind);

// The Smart Data Models Alert severities, lowest first.
inline constexpr std::string_view kSeverities[] = {"informational", "low", "medium", "high", "critical"};
// The next level up ("critical" stays).
std::string RaiseSeverity(std::string_view severity);

struct Rule {
  std::string id;  // [a-z0-9-]{1,64}
  std::string name_vi;
  std::string name_en;
  std::string entity_type;  // compact term
  std::string attribute;    // compact term; "*" (any attribute) for missing_data only
  RuleKind kind = RuleKind::kThreshold;
  std::string op;                              // > >= < <= == != (empty for missing_data)
  std::optional<double> value;                 // the threshold, or
  std::optional<std::string> value_attribute;  // the entity's attribute holding it (compact term)
  int64_t duration_minutes = 0;                // sustained, rate_of_change (per), missing_data (silence)
  std::string severity = "medium";
  int64_t escalate_after_minutes = 0;  // 0: never
  std::string category;                // Alert.category (default "environment")
  std::string sub_category;            // Alert.subCategory (default: the rule id)
  std::optional<std::string> unit;     // shown in descriptions, e.g. "µg/m³"
  bool enabled = true;
};

// Validates one rule; errors are InvalidArgument naming prefix + member.
Result<Rule> ParseRule(const nlohmann::json& j, const std::string& prefix = "");
nlohmann::json RuleJson(const Rule& rule);
// A file: {"rules": [...]} (ids unique).
Result<std::vector<Rule>> ParseRulesFile(const nlohmann::json& j);
Result<std::vector<Rule>> LoadRulesFile(const std::string& path);

// `a op b` for the rule operators.
bool Compare(double a, std::string_view op, double b);

// RFC 3339 date-time ("2026-11-22T10:00:00Z", "...10:00:00.5+07:00") to Unix ms; nullopt when malformed.
std::optional<int64_t> ParseDateTime(std::string_view s);

}  // namespace tl::alerts
