#include "modules/alerts/rules.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "core/clock.h"
#include "core/text.h"

namespace tl::alerts {
namespace {

using nlohmann::json;

constexpr std::string_view kMembers[] = {"id",
                                         "name_vi",
                                         "name_en",
                                         "entity_type",
                                         "attribute",
                                         "kind",
                                         "operator",
                                         "value",
                                         "value_attribute",
                                         "duration_minutes",
                                         "severity",
                                         "escalate_after_minutes",
                                         "category",
                                         "sub_category",
                                         "unit",
                                         "enabled"};
constexpr std::string_view kOperators[] = {">", ">=", "<", "<=", "==", "!="};

Result<std::string> Text(const json& j, const char* name, const std::string& prefix, bool required,
                         size_t max_code_points = 200) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string(name) + " is required", prefix + name);
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string(name) + " must be a string", prefix + name);
  std::string s = it->get<std::string>();
  if (!text::IsValidUtf8(s)) return InvalidArgument("not valid UTF-8", prefix + name);
  if (required && s.empty()) return InvalidArgument(std::string(name) + " must not be empty", prefix + name);
  if (static_cast<size_t>(text::CodePointCount(s)) > max_code_points) {
    return InvalidArgument("at most " + std::to_string(max_code_points) + " characters", prefix + name);
  }
  return s;
}

Result<std::optional<int64_t>> Int(const json& j, const char* name, const std::string& prefix) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return InvalidArgument(std::string(name) + " must be an integer", prefix + name);
  int64_t v = it->get<int64_t>();
  if (v < 0 || v > 60 * 24 * 366) return InvalidArgument("between 0 and 527040 minutes", prefix + name);
  return std::optional<int64_t>(v);
}

bool IsTerm(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' || c == '/' || c == '.' ||
          c == '#')) {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* RuleKindName(RuleKind kind) {
  switch (kind) {
    case RuleKind::kThreshold:
      return "threshold";
    case RuleKind::kSustained:
      return "sustained";
    case RuleKind::kRateOfChange:
      return "rate_of_change";
    case RuleKind::kMissingData:
      return "missing_data";
  }
  return "threshold";
}

std::string RaiseSeverity(std::string_view severity) {
  constexpr size_t n = std::size(kSeverities);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (kSeverities[i] == severity) return std::string(kSeverities[i + 1]);
  }
  return std::string(kSeverities[n - 1]);
}

bool Compare(double a, std::string_view op, double b) {
  if (op == ">") return a > b;
  if (op == ">=") return a >= b;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == "==") return a == b;
  if (op == "!=") return a != b;
  return false;
}

Result<Rule> ParseRule(const json& j, const std::string& prefix) {
  if (!j.is_object()) return InvalidArgument("a rule is a JSON object", prefix.empty() ? "body" : prefix);
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (auto m : kMembers) known = known || m == k;
    if (!known) return InvalidArgument("unknown member", prefix + k);
  }
  Rule r;
  TL_ASSIGN_OR_RETURN(r.id, Text(j, "id", prefix, true, 64));
  for (char c : r.id) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return InvalidArgument("an id is lower-case letters, digits and '-'", prefix + "id");
    }
  }
  TL_ASSIGN_OR_RETURN(r.name_vi, Text(j, "name_vi", prefix, true));
  TL_ASSIGN_OR_RETURN(r.name_en, Text(j, "name_en", prefix, true));
  TL_ASSIGN_OR_RETURN(r.entity_type, Text(j, "entity_type", prefix, true));
  if (!IsTerm(r.entity_type))
    return InvalidArgument("an entity type term, e.g. AirQualityObserved", prefix + "entity_type");
  if (r.entity_type == "Alert" || r.entity_type.ends_with("/Alert")) {
    return InvalidArgument("alerts cannot raise alerts: no rule on the type Alert", prefix + "entity_type");
  }
  TL_ASSIGN_OR_RETURN(std::string kind, Text(j, "kind", prefix, true));
  if (kind == "threshold") {
    r.kind = RuleKind::kThreshold;
  } else if (kind == "sustained") {
    r.kind = RuleKind::kSustained;
  } else if (kind == "rate_of_change") {
    r.kind = RuleKind::kRateOfChange;
  } else if (kind == "missing_data") {
    r.kind = RuleKind::kMissingData;
  } else {
    return InvalidArgument("one of threshold, sustained, rate_of_change, missing_data", prefix + "kind");
  }
  TL_ASSIGN_OR_RETURN(r.attribute, Text(j, "attribute", prefix, true));
  if (!(r.attribute == "*" && r.kind == RuleKind::kMissingData) && !IsTerm(r.attribute)) {
    return InvalidArgument("an attribute term, e.g. pm25 (\"*\" only for missing_data)", prefix + "attribute");
  }
  TL_ASSIGN_OR_RETURN(r.op, Text(j, "operator", prefix, r.kind != RuleKind::kMissingData, 2));
  if (r.kind == RuleKind::kMissingData) {
    if (!r.op.empty()) return InvalidArgument("missing_data takes no operator", prefix + "operator");
    if (j.contains("value") || j.contains("value_attribute")) {
      return InvalidArgument("missing_data takes no value",
                             prefix + (j.contains("value") ? "value" : "value_attribute"));
    }
  } else {
    bool known = false;
    for (auto o : kOperators) known = known || o == r.op;
    if (!known) return InvalidArgument("one of >, >=, <, <=, ==, !=", prefix + "operator");
    auto v = j.find("value");
    if (v != j.end() && !v->is_null()) {
      if (!v->is_number() || !std::isfinite(v->get<double>())) {
        return InvalidArgument("value must be a number", prefix + "value");
      }
      r.value = v->get<double>();
    }
    TL_ASSIGN_OR_RETURN(std::string va, Text(j, "value_attribute", prefix, false));
    if (!va.empty()) {
      if (r.kind == RuleKind::kRateOfChange) {
        return InvalidArgument("rate_of_change compares with a fixed value", prefix + "value_attribute");
      }
      if (!IsTerm(va)) return InvalidArgument("an attribute term, e.g. alertLevel", prefix + "value_attribute");
      r.value_attribute = va;
    }
    if (r.value.has_value() == r.value_attribute.has_value()) {
      return InvalidArgument("give either value or value_attribute", prefix + "value");
    }
  }
  TL_ASSIGN_OR_RETURN(auto duration, Int(j, "duration_minutes", prefix));
  r.duration_minutes = duration.value_or(0);
  if (r.kind != RuleKind::kThreshold && r.duration_minutes <= 0) {
    return InvalidArgument(std::string(RuleKindName(r.kind)) + " needs duration_minutes > 0",
                           prefix + "duration_minutes");
  }
  if (r.kind == RuleKind::kThreshold && r.duration_minutes != 0) {
    return InvalidArgument("a threshold rule has no duration (use sustained)", prefix + "duration_minutes");
  }
  TL_ASSIGN_OR_RETURN(r.severity, Text(j, "severity", prefix, true, 20));
  {
    bool known = false;
    for (auto s : kSeverities) known = known || s == r.severity;
    if (!known) return InvalidArgument("one of informational, low, medium, high, critical", prefix + "severity");
  }
  TL_ASSIGN_OR_RETURN(auto esc, Int(j, "escalate_after_minutes", prefix));
  r.escalate_after_minutes = esc.value_or(0);
  TL_ASSIGN_OR_RETURN(r.category, Text(j, "category", prefix, false, 60));
  if (r.category.empty()) r.category = "environment";
  TL_ASSIGN_OR_RETURN(r.sub_category, Text(j, "sub_category", prefix, false, 60));
  if (r.sub_category.empty()) r.sub_category = r.id;
  TL_ASSIGN_OR_RETURN(std::string unit, Text(j, "unit", prefix, false, 20));
  if (!unit.empty()) r.unit = unit;
  if (auto e = j.find("enabled"); e != j.end() && !e->is_null()) {
    if (!e->is_boolean()) return InvalidArgument("enabled must be true or false", prefix + "enabled");
    r.enabled = e->get<bool>();
  }
  return r;
}

json RuleJson(const Rule& r) {
  json j = {{"id", r.id},
            {"name_vi", r.name_vi},
            {"name_en", r.name_en},
            {"entity_type", r.entity_type},
            {"attribute", r.attribute},
            {"kind", RuleKindName(r.kind)},
            {"severity", r.severity},
            {"escalate_after_minutes", r.escalate_after_minutes},
            {"category", r.category},
            {"sub_category", r.sub_category},
            {"enabled", r.enabled}};
  if (r.kind != RuleKind::kMissingData) j["operator"] = r.op;
  if (r.value) j["value"] = *r.value;
  if (r.value_attribute) j["value_attribute"] = *r.value_attribute;
  if (r.kind != RuleKind::kThreshold) j["duration_minutes"] = r.duration_minutes;
  if (r.unit) j["unit"] = *r.unit;
  return j;
}

Result<std::vector<Rule>> ParseRulesFile(const json& j) {
  if (!j.is_object() || !j.contains("rules") || !j["rules"].is_array()) {
    return InvalidArgument("an object with a \"rules\" array", "rules");
  }
  std::vector<Rule> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < j["rules"].size(); ++i) {
    std::string prefix = "rules[" + std::to_string(i) + "].";
    TL_ASSIGN_OR_RETURN(Rule r, ParseRule(j["rules"][i], prefix));
    if (!ids.insert(r.id).second) return InvalidArgument("a rule with this id comes earlier", prefix + "id");
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Rule>> LoadRulesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return FailedPrecondition("cannot read " + path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return InvalidArgument(path + " is not valid JSON", "rules");
  auto rules = ParseRulesFile(j);
  if (!rules.ok()) {
    return InvalidArgument(path + ": " + rules.status().message(), rules.status().field());
  }
  return rules;
}

std::optional<int64_t> ParseDateTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return std::nullopt;
  auto day = ParseDate(s.substr(0, 10), "observedAt");
  if (!day.ok()) return std::nullopt;
  auto digits = [&](size_t pos, size_t n, int max) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    if (v > max) return std::nullopt;
    return v;
  };
  auto hh = digits(11, 2, 23), mm = digits(14, 2, 59), ss = digits(17, 2, 59);
  if (!hh || !mm || !ss || s[13] != ':' || s[16] != ':') return std::nullopt;
  int64_t ms = *day + ((*hh * 60LL + *mm) * 60 + *ss) * 1000;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0;
    int n = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 3) frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 3; ++i) frac *= 10;
    ms += frac;
  }
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size() ? std::optional<int64_t>(ms) : std::nullopt;
  if ((s[pos] != '+' && s[pos] != '-') || pos + 6 != s.size() || s[pos + 3] != ':') return std::nullopt;
  auto oh = digits(pos + 1, 2, 23), om = digits(pos + 4, 2, 59);
  if (!oh || !om) return std::nullopt;
  int64_t offset = (*oh * 60LL + *om) * 60000;
  return s[pos] == '+' ? ms - offset : ms + offset;
}

}  // namespace tl::alerts
