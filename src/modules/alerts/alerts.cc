#include "modules/alerts/alerts.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <thread>

#include "core/crypto.h"
#include "modules/ngsild/entity.h"

namespace tl::alerts {
namespace {

using nlohmann::json;

constexpr const char* kAlertColumns =
    "id, rule_id, rule_name, tenant, entity_id, entity_type, attribute, severity, status, title, description, "
    "category, sub_category, value, threshold, location, raised_at, updated_at, acknowledged_by, acknowledged_at, "
    "assignee, escalate_at, escalated, condition_cleared, version, comments, history";

std::optional<double> OptDouble(const storage::Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return r.Double(i);
}
std::optional<int64_t> OptInt(const storage::Row& r, size_t i) {
  if (r.IsNull(i)) return std::nullopt;
  return r.Int(i);
}
storage::Value OptDoubleValue(const std::optional<double>& d) {
  return d ? storage::Value(*d) : storage::Null();
}

Alert FromRow(const storage::Row& r) {
  Alert a;
  a.id = r.Int(0);
  a.rule_id = r.Text(1);
  a.rule_name = r.Text(2);
  a.tenant = r.Text(3);
  a.entity_id = r.Text(4);
  a.entity_type = r.Text(5);
  a.attribute = r.Text(6);
  a.severity = r.Text(7);
  a.status = r.Text(8);
  a.title = r.Text(9);
  a.description = r.Text(10);
  a.category = r.Text(11);
  a.sub_category = r.Text(12);
  a.value = OptDouble(r, 13);
  a.threshold = OptDouble(r, 14);
  a.location = r.OptText(15);
  a.raised_at = r.Int(16);
  a.updated_at = r.Int(17);
  a.acknowledged_by = r.OptText(18);
  a.acknowledged_at = OptInt(r, 19);
  a.assignee = r.OptText(20);
  a.escalate_at = OptInt(r, 21);
  a.escalated = r.Int(22) != 0;
  a.condition_cleared = r.Int(23) != 0;
  a.version = r.Int(24);
  a.comments = json::parse(r.Text(25), nullptr, false);
  if (!a.comments.is_array()) a.comments = json::array();
  a.history = json::parse(r.Text(26), nullptr, false);
  if (!a.history.is_array()) a.history = json::array();
  return a;
}

// Unique while the alert is unresolved. Rule ids and entity ids hold no spaces.
std::string OpenKey(const std::string& rule_id, const std::string& tenant, const std::string& entity_id) {
  return rule_id + " " + tenant + " " + entity_id;
}

std::string Num(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(std::round(v)));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// The default instance of an attribute in a stored document (the one without a datasetId, else the first).
const json* Instance(const ngsild::ChangedDoc& doc, const std::string& iri) {
  const json* it = doc.Member(iri);
  if (it == nullptr) return nullptr;
  if (it->is_object()) return &*it;
  if (it->is_array()) {
    for (const auto& i : *it) {
      if (i.is_object() && !i.contains("datasetId")) return &i;
    }
    if (!it->empty() && it->front().is_object()) return &it->front();
  }
  return nullptr;
}

std::optional<double> NumberOf(const json* instance) {
  if (!instance) return std::nullopt;
  auto v = instance->find("value");
  if (v == instance->end()) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  if (v->is_object()) {  // {"@value": 12}
    auto inner = v->find("@value");
    if (inner != v->end() && inner->is_number()) return inner->get<double>();
  }
  return std::nullopt;
}

// Raises `a` to `v` unless it is already higher (several threads may race).
void RaiseTo(std::atomic<int64_t>& a, int64_t v) {
  int64_t seen = a.load();
  while (seen < v && !a.compare_exchange_weak(seen, v)) {
  }
}

std::optional<std::string> LocationOf(const ngsild::ChangedDoc& doc) {
  const json* inst = Instance(doc, std::string(ngsild::kLocationIri));
  if (!inst) return std::nullopt;
  auto v = inst->find("value");
  if (v == inst->end() || !v->is_object()) return std::nullopt;
  return v->dump();
}

std::string Describe(const Rule& r, const std::string& entity_id, double value, std::optional<double> threshold,
                     int64_t observed_at) {
  std::string unit = r.unit ? " " + *r.unit : "";
  std::string what = r.kind == RuleKind::kRateOfChange
                         ? "tốc độ thay đổi của " + r.attribute + " = " + Num(value) + unit + " mỗi " +
                               std::to_string(r.duration_minutes) + " phút"
                         : r.attribute + " = " + Num(value) + unit;
  std::string limit = threshold ? " (ngưỡng " + r.op + " " + Num(*threshold) + unit + ")" : "";
  std::string sustained =
      r.kind == RuleKind::kSustained ? ", kéo dài ít nhất " + std::to_string(r.duration_minutes) + " phút" : "";
  return entity_id + ": " + what + limit + sustained + ", đo lúc " + FormatRfc3339(observed_at) + ".";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

std::string AlertEntityId(int64_t id) {
  return "urn:ngsi-ld:Alert:" + std::to_string(id);
}

json AlertJson(const Alert& a) {
  json location = nullptr;
  if (a.location) {
    location = json::parse(*a.location, nullptr, false);
    if (location.is_discarded()) location = nullptr;
  }
  auto opt_time = [](const std::optional<int64_t>& t) { return t ? json(FormatRfc3339(*t)) : json(nullptr); };
  auto opt_text = [](const std::optional<std::string>& t) { return t ? json(*t) : json(nullptr); };
  auto opt_num = [](const std::optional<double>& d) { return d ? json(*d) : json(nullptr); };
  return json{{"id", std::to_string(a.id)},
              {"rule_id", a.rule_id},
              {"rule_name", a.rule_name},
              {"entity_id", a.entity_id},
              {"entity_type", a.entity_type},
              {"attribute", a.attribute},
              {"severity", a.severity},
              {"status", a.status},
              {"title", a.title},
              {"description", a.description},
              {"value", opt_num(a.value)},
              {"threshold", opt_num(a.threshold)},
              {"location", location},
              {"raised_at", FormatRfc3339(a.raised_at)},
              {"updated_at", FormatRfc3339(a.updated_at)},
              {"acknowledged_by", opt_text(a.acknowledged_by)},
              {"acknowledged_at", opt_time(a.acknowledged_at)},
              {"assignee", opt_text(a.assignee)},
              {"escalated", a.escalated},
              {"condition_cleared", a.condition_cleared},
              {"version", a.version},
              {"comments", a.comments},
              {"history", a.history}};
}

json AlertEntity(const Alert& a) {
  auto prop = [](json v) { return json{{"type", "Property"}, {"value", std::move(v)}}; };
  json e = {{"id", AlertEntityId(a.id)},
            {"type", "Alert"},
            {"category", prop(a.category)},
            {"subCategory", prop(a.sub_category)},
            {"severity", prop(a.severity)},
            {"name", prop(a.title)},
            {"description", prop(a.description)},
            {"dateIssued", prop(FormatRfc3339(a.raised_at))},
            {"validFrom", prop(FormatRfc3339(a.raised_at))},
            {"alertSource", prop(a.entity_id)},
            {"status", prop(a.status)}};
  if (a.location) {
    json geometry = json::parse(*a.location, nullptr, false);
    if (geometry.is_object()) e["location"] = {{"type", "GeoProperty"}, {"value", geometry}};
  }
  return e;
}

std::optional<Action> ParseAction(std::string_view name) {
  if (name == "acknowledge") return Action::kAcknowledge;
  if (name == "assign") return Action::kAssign;
  if (name == "comment") return Action::kComment;
  if (name == "resolve") return Action::kResolve;
  return std::nullopt;
}

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAcknowledge:
      return "acknowledge";
    case Action::kAssign:
      return "assign";
    case Action::kComment:
      return "comment";
    case Action::kResolve:
      return "resolve";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------------

AlertService::AlertService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                           ngsild::EntityStore* entities, std::shared_ptr<const ngsild::ContextRegistry> contexts)
    : db_(db), clock_(clock), audit_(audit), entities_(entities), contexts_(std::move(contexts)) {
  const auto* held = contexts_->FindById("thanglong-smart-data-models.jsonld");
  if (held) {
    auto ctx = contexts_->FromUrl(held->url);
    if (ctx.ok()) context_ = *ctx;
  }
  if (!context_) context_ = contexts_->Default();
}

std::vector<storage::Migration> AlertService::Migrations() {
  return {
      {1100, "alert rules and state",
       "CREATE TABLE alert_rules (id TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at BIGINT NOT NULL, "
       "updated_by TEXT NOT NULL);"
       "CREATE TABLE alert_rules_revision (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL, seeded_at TEXT);"
       "INSERT INTO alert_rules_revision (id, revision) VALUES (1, 0);"
       "CREATE TABLE alert_state (rule_id TEXT NOT NULL, tenant TEXT NOT NULL, entity_id TEXT NOT NULL, "
       "entity_type TEXT NOT NULL, since_at BIGINT, last_value DOUBLE PRECISION, last_at BIGINT, last_seen BIGINT, "
       "location TEXT, PRIMARY KEY (rule_id, tenant, entity_id));"
       "CREATE INDEX alert_state_seen ON alert_state (rule_id, last_seen);"},
      {1101, "alerts",
       "CREATE TABLE alerts (id {{ID}}, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL, tenant TEXT NOT NULL, "
       "entity_id TEXT NOT NULL, entity_type TEXT NOT NULL, attribute TEXT NOT NULL, severity TEXT NOT NULL, "
       "status TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL, category TEXT NOT NULL, "
       "sub_category TEXT NOT NULL, value DOUBLE PRECISION, threshold DOUBLE PRECISION, location TEXT, "
       "raised_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, acknowledged_by TEXT, acknowledged_at BIGINT, "
       "assignee TEXT, escalate_at BIGINT, escalated INTEGER NOT NULL DEFAULT 0, "
       "condition_cleared INTEGER NOT NULL DEFAULT 0, version BIGINT NOT NULL, comments TEXT NOT NULL, "
       "history TEXT NOT NULL, open_key TEXT, change_seq BIGINT NOT NULL);"
       "CREATE UNIQUE INDEX alerts_open ON alerts (open_key);"
       "CREATE INDEX alerts_entity ON alerts (rule_id, tenant, entity_id);"
       "CREATE INDEX alerts_changes ON alerts (change_seq);"
       "CREATE INDEX alerts_escalation ON alerts (status, escalate_at);"
       "CREATE TABLE alert_change_seq (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL);"
       "INSERT INTO alert_change_seq (id, seq) VALUES (1, 0);"
       "CREATE TABLE alert_mirror (id INTEGER PRIMARY KEY, mirrored_seq BIGINT NOT NULL, owner TEXT, "
       "lease_until BIGINT);"
       "INSERT INTO alert_mirror (id, mirrored_seq) VALUES (1, 0);"},
  };
}

// ---------------------------------------------------------------------------------------------------
// Rules.

Status AlertService::Bump(storage::Session& s) const {
  return s.Exec("UPDATE alert_rules_revision SET revision = revision + 1 WHERE id = 1").status();
}

Result<std::shared_ptr<const AlertService::CompiledRule>> AlertService::Compile(const Rule& r) const {
  auto c = std::make_shared<CompiledRule>();
  c->rule = r;
  c->type_iri = context_->Expand(r.entity_type);
  if (c->type_iri == context_->Expand("Alert")) {
    return InvalidArgument("alerts cannot raise alerts: no rule on the type Alert", "entity_type");
  }
  if (r.attribute != "*") c->attribute_iri = context_->Expand(r.attribute);
  if (r.value_attribute) c->value_attribute_iri = context_->Expand(*r.value_attribute);
  return std::shared_ptr<const CompiledRule>(std::move(c));
}

Result<int> AlertService::SeedIfNeverSeeded(const std::function<Result<std::vector<Rule>>()>& load,
                                            const std::string& actor) {
  bool seeded = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT seeded_at FROM alert_rules_revision WHERE id = 1"));
    if (rs.empty()) return Internal("alert_rules_revision has no row");
    seeded = !rs.rows[0].IsNull(0);
    return Status::Ok();
  }));
  if (seeded) return 0;
  TL_ASSIGN_OR_RETURN(auto rules, load());
  for (const auto& r : rules) TL_RETURN_IF_ERROR(Compile(r).status());
  int64_t now = clock_->NowMillis();
  int stored = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(int64_t won, s.Exec("UPDATE alert_rules_revision SET revision = revision + 1, "
                                            "seeded_at = ? WHERE id = 1 AND seeded_at IS NULL",
                                            {FormatRfc3339(now)}));
    if (won == 0) return Status::Ok();  // another process seeded them meanwhile
    for (const auto& r : rules) {
      TL_RETURN_IF_ERROR(s.Exec("INSERT INTO alert_rules (id, doc, updated_at, updated_by) VALUES (?, ?, ?, ?)",
                                {r.id, RuleJson(r).dump(), now, actor})
                             .status());
    }
    stored = static_cast<int>(rules.size());
    return audit_->Append(s, {actor, "alert.rules.seed", "alert-rules", "local", "", json{{"rules", stored}}.dump()});
  }));
  stale_ = true;
  return stored;
}

Result<std::vector<Rule>> AlertService::ListRules() const {
  std::vector<Rule> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT doc FROM alert_rules ORDER BY id"));
    for (const auto& row : rs.rows) {
      auto r = ParseRule(json::parse(row.Text(0), nullptr, false));
      if (r.ok()) out.push_back(std::move(*r));
    }
    return Status::Ok();
  }));
  return out;
}

Result<Rule> AlertService::GetRule(const std::string& id) const {
  std::optional<Rule> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT doc FROM alert_rules WHERE id = ?", {id}));
    if (rs.empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(out, ParseRule(json::parse(rs.rows[0].Text(0), nullptr, false)));
    return Status::Ok();
  }));
  if (!out) return NotFound("no alert rule " + id);
  return std::move(*out);
}

Status AlertService::CreateRule(const audit::Entry& actor, const Rule& rule) {
  TL_RETURN_IF_ERROR(Compile(rule).status());
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    auto st = s.Exec("INSERT INTO alert_rules (id, doc, updated_at, updated_by) VALUES (?, ?, ?, ?)",
                     {rule.id, RuleJson(rule).dump(), now, actor.actor})
                  .status();
    if (storage::IsUniqueViolation(st)) return AlreadyExists("a rule with this id exists", "id");
    TL_RETURN_IF_ERROR(st);
    TL_RETURN_IF_ERROR(Bump(s));
    audit::Entry e = actor;
    e.action = "alert.rule.create";
    e.resource = "alert-rule:" + rule.id;
    e.detail = RuleJson(rule).dump();
    return audit_->Append(s, e);
  }));
  stale_ = true;
  return Status::Ok();
}

Status AlertService::ReplaceRule(const audit::Entry& actor, const Rule& rule) {
  TL_RETURN_IF_ERROR(Compile(rule).status());
  int64_t now = clock_->NowMillis();
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto old, s.Query("SELECT doc FROM alert_rules WHERE id = ?", {rule.id}));
    if (old.empty()) return NotFound("no alert rule " + rule.id);
    TL_RETURN_IF_ERROR(s.Exec("UPDATE alert_rules SET doc = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                              {RuleJson(rule).dump(), now, actor.actor, rule.id})
                           .status());
    // What the rule measured before may mean something else now (another attribute, kind or type).
    auto before = ParseRule(json::parse(old.rows[0].Text(0), nullptr, false));
    if (!before.ok() || before->kind != rule.kind || before->attribute != rule.attribute ||
        before->entity_type != rule.entity_type) {
      TL_RETURN_IF_ERROR(s.Exec("DELETE FROM alert_state WHERE rule_id = ?", {rule.id}).status());
    }
    TL_RETURN_IF_ERROR(Bump(s));
    audit::Entry e = actor;
    e.action = "alert.rule.replace";
    e.resource = "alert-rule:" + rule.id;
    e.detail = RuleJson(rule).dump();
    return audit_->Append(s, e);
  }));
  stale_ = true;
  return Status::Ok();
}

Status AlertService::DeleteRule(const audit::Entry& actor, const std::string& id) {
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(int64_t n, s.Exec("DELETE FROM alert_rules WHERE id = ?", {id}));
    if (n == 0) return NotFound("no alert rule " + id);
    TL_RETURN_IF_ERROR(s.Exec("DELETE FROM alert_state WHERE rule_id = ?", {id}).status());
    TL_RETURN_IF_ERROR(Bump(s));
    audit::Entry e = actor;
    e.action = "alert.rule.delete";
    e.resource = "alert-rule:" + id;
    return audit_->Append(s, e);
  }));
  stale_ = true;
  return Status::Ok();
}

Result<std::shared_ptr<const AlertService::Snapshot>> AlertService::Current(storage::Session& s) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!stale_.exchange(false) && now - checked_at_ < std::chrono::milliseconds(kRevisionCheckMs)) return snapshot_;
  checked_at_ = now;
  TL_ASSIGN_OR_RETURN(auto rev, s.Query("SELECT revision FROM alert_rules_revision WHERE id = 1"));
  int64_t revision = rev.empty() ? 0 : rev.rows[0].Int(0);
  if (revision == snapshot_->revision) return snapshot_;
  auto next = std::make_shared<Snapshot>();
  next->revision = revision;
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT doc FROM alert_rules ORDER BY id"));
  for (const auto& row : rs.rows) {
    auto rule = ParseRule(json::parse(row.Text(0), nullptr, false));
    if (!rule.ok() || !rule->enabled) continue;  // validated on write
    auto compiled = Compile(*rule);
    if (!compiled.ok()) continue;
    next->rules.push_back(*compiled);
    next->by_type[(*compiled)->type_iri].push_back(*compiled);
  }
  snapshot_ = std::move(next);
  return snapshot_;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation.

Result<int64_t> AlertService::NextChange(storage::Session& s) const {
  TL_ASSIGN_OR_RETURN(auto rs, s.Query("UPDATE alert_change_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq"));
  if (rs.empty()) return Internal("alert_change_seq has no row");
  int64_t seq = rs.rows[0].Int(0);
  // The mirror runs at once instead of at its next tick (it waits for this transaction's commit).
  RaiseTo(wanted_seq_, seq);
  mirror_.Wake();
  return seq;
}

Result<std::optional<Alert>> AlertService::Mutate(storage::Session& s, const std::string& where,
                                                  const std::vector<storage::Value>& params,
                                                  std::optional<int64_t> expected_version,
                                                  const std::function<Result<bool>(Alert&)>& change) const {
  for (int attempt = 0; attempt < 5; ++attempt) {
    TL_ASSIGN_OR_RETURN(auto rs,
                        s.QueryV(std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE " + where, params));
    if (rs.empty()) return std::optional<Alert>();
    Alert a = FromRow(rs.rows[0]);
    if (expected_version && a.version != *expected_version) {
      return Conflict("the alert changed (version " + std::to_string(a.version) + "); reload it and try again");
    }
    int64_t before = a.version;
    TL_ASSIGN_OR_RETURN(bool changed, change(a));
    if (!changed) return std::optional<Alert>(std::move(a));
    a.version = before + 1;
    a.updated_at = clock_->NowMillis();
    TL_ASSIGN_OR_RETURN(int64_t seq, NextChange(s));
    storage::Value open_key =
        a.status == "resolved" ? storage::Null() : storage::Value(OpenKey(a.rule_id, a.tenant, a.entity_id));
    TL_ASSIGN_OR_RETURN(
        int64_t n,
        s.ExecV("UPDATE alerts SET severity = ?, status = ?, description = ?, value = ?, threshold = ?, location = ?, "
                "updated_at = ?, acknowledged_by = ?, acknowledged_at = ?, assignee = ?, escalate_at = ?, "
                "escalated = ?, condition_cleared = ?, version = ?, comments = ?, history = ?, open_key = ?, "
                "change_seq = ? WHERE id = ? AND version = ?",
                {a.severity,
                 a.status,
                 a.description,
                 OptDoubleValue(a.value),
                 OptDoubleValue(a.threshold),
                 storage::OptText(a.location),
                 a.updated_at,
                 storage::OptText(a.acknowledged_by),
                 storage::OptInt(a.acknowledged_at),
                 storage::OptText(a.assignee),
                 storage::OptInt(a.escalate_at),
                 int64_t{a.escalated ? 1 : 0},
                 int64_t{a.condition_cleared ? 1 : 0},
                 a.version,
                 a.comments.dump(),
                 a.history.dump(),
                 open_key,
                 seq,
                 a.id,
                 before}));
    if (n == 1) return std::optional<Alert>(std::move(a));
    // Another transaction changed it between our read and write: read again.
  }
  return Conflict("the alert keeps changing; try again");
}

Result<bool> AlertService::Raise(storage::Session& s, const CompiledRule& c, const std::string& tenant,
                                 const std::string& entity_id, double value, std::optional<double> threshold,
                                 const std::optional<std::string>& location, int64_t observed_at) {
  const Rule& r = c.rule;
  int64_t now = clock_->NowMillis();
  std::string description;
  if (r.kind == RuleKind::kMissingData) {
    description = entity_id + ": không nhận được dữ liệu " + (r.attribute == "*" ? std::string() : r.attribute + " ") +
                  "từ " + FormatRfc3339(observed_at) + " (quá " + std::to_string(r.duration_minutes) + " phút).";
  } else {
    description = Describe(r, entity_id, value, threshold, observed_at);
  }
  const std::string key = OpenKey(r.id, tenant, entity_id);
  bool changed = false;
  TL_ASSIGN_OR_RETURN(
      auto existing, Mutate(s, "open_key = ?", {key}, std::nullopt, [&](Alert& a) -> Result<bool> {
        if (!a.condition_cleared) return false;
        a.condition_cleared = false;
        a.value = value;
        a.threshold = threshold;
        a.description = description;
        if (location) a.location = location;
        a.history.push_back(
            {{"action", "condition_returned"}, {"by", "system"}, {"at", FormatRfc3339(now)}, {"note", description}});
        changed = true;
        return true;
      }));
  if (existing) return changed;
  json history =
      json::array({json{{"action", "raised"}, {"by", "system"}, {"at", FormatRfc3339(now)}, {"note", description}}});
  std::optional<int64_t> escalate_at;
  if (r.escalate_after_minutes > 0) escalate_at = now + r.escalate_after_minutes * 60000;
  TL_ASSIGN_OR_RETURN(int64_t seq, NextChange(s));
  TL_ASSIGN_OR_RETURN(
      auto rs,
      s.QueryV("INSERT INTO alerts (rule_id, rule_name, tenant, entity_id, entity_type, attribute, severity, status, "
               "title, description, category, sub_category, value, threshold, location, raised_at, updated_at, "
               "escalate_at, escalated, condition_cleared, version, comments, history, open_key, change_seq) VALUES "
               "(?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, '[]', ?, ?, ?) "
               "ON CONFLICT DO NOTHING RETURNING id",
               {r.id,
                r.name_vi,
                tenant,
                entity_id,
                r.entity_type,
                r.attribute,
                r.severity,
                r.name_vi,
                description,
                r.category,
                r.sub_category,
                value,
                OptDoubleValue(threshold),
                storage::OptText(location),
                now,
                now,
                storage::OptInt(escalate_at),
                history.dump(),
                key,
                seq}));
  return !rs.empty();
}

Status AlertService::Clear(storage::Session& s, const std::string& rule_id, const std::string& tenant,
                           const std::string& entity_id, const std::function<std::string()>& note) {
  // The common case, checked cheaply: no open alert, or one whose clearing is already recorded.
  const std::string key = OpenKey(rule_id, tenant, entity_id);
  TL_ASSIGN_OR_RETURN(auto open, s.Query("SELECT 1 FROM alerts WHERE open_key = ? AND condition_cleared = 0", {key}));
  if (open.empty()) return Status::Ok();
  int64_t now = clock_->NowMillis();
  return Mutate(s, "open_key = ?", {key}, std::nullopt,
                [&](Alert& a) -> Result<bool> {
                  if (a.condition_cleared) return false;
                  a.condition_cleared = true;
                  a.history.push_back(
                      {{"action", "condition_cleared"}, {"by", "system"}, {"at", FormatRfc3339(now)}, {"note", note()}});
                  return true;
                })
      .status();
}

Status AlertService::Evaluate(storage::Session& s, const CompiledRule& c, const ngsild::EntityChange& change) {
  const Rule& r = c.rule;
  auto changed = [&](const std::string& iri) {
    if (iri.empty()) return false;
    for (const auto& a : change.changed_attributes) {
      if (a == iri) return true;
    }
    return false;
  };
  auto location = [&] { return LocationOf(change.entity); };
  // Missing data keeps when the entity was last seen and where it is (Sweep raises from them); the
  // other kinds keep only their measurements, so the row's last_seen index is left alone.
  auto write_seen = [&]() {
    return s
        .Exec(
            "INSERT INTO alert_state (rule_id, tenant, entity_id, entity_type, last_seen, location) VALUES (?, ?, ?, "
            "?, ?, ?) ON CONFLICT (rule_id, tenant, entity_id) DO UPDATE SET last_seen = excluded.last_seen, "
            "location = excluded.location",
            {r.id, change.tenant, change.entity_id, r.entity_type, change.at_ms, storage::OptText(location())})
        .status();
  };
  auto write_state = [&](std::optional<int64_t> since, std::optional<double> last_value, std::optional<int64_t> last_at) {
    return s
        .Exec(
            "INSERT INTO alert_state (rule_id, tenant, entity_id, entity_type, since_at, last_value, last_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_id, tenant, entity_id) DO UPDATE SET since_at = "
            "excluded.since_at, last_value = excluded.last_value, last_at = excluded.last_at",
            {r.id, change.tenant, change.entity_id, r.entity_type, storage::OptInt(since), OptDoubleValue(last_value),
             storage::OptInt(last_at)})
        .status();
  };
  if (r.kind == RuleKind::kMissingData) {
    if (r.attribute != "*" && !changed(c.attribute_iri)) return Status::Ok();
    TL_RETURN_IF_ERROR(write_seen());
    return Clear(s, r.id, change.tenant, change.entity_id, [] { return std::string("dữ liệu đã được nhận lại"); });
  }
  if (!changed(c.attribute_iri) && !changed(c.value_attribute_iri)) return Status::Ok();
  const json* instance = Instance(change.entity, c.attribute_iri);
  auto value = NumberOf(instance);
  if (!value) return Status::Ok();
  int64_t t = change.at_ms;
  if (auto obs = instance->find("observedAt"); obs != instance->end() && obs->is_string()) {
    if (auto parsed = ParseDateTime(obs->get<std::string>())) t = *parsed;
  }
  std::optional<double> threshold = r.value;
  if (r.value_attribute) threshold = NumberOf(Instance(change.entity, c.value_attribute_iri));
  if (!threshold) return Status::Ok();  // a gauge without its alert level: nothing to compare with
  auto cleared_note = [&] { return r.attribute + " = " + Num(*value) + ", đo lúc " + FormatRfc3339(t); };

  if (r.kind == RuleKind::kThreshold) {
    if (Compare(*value, r.op, *threshold)) {
      return Raise(s, c, change.tenant, change.entity_id, *value, threshold, location(), t).status();
    }
    return Clear(s, r.id, change.tenant, change.entity_id, cleared_note);
  }

  TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT since_at, last_value, last_at FROM alert_state WHERE rule_id = ? AND "
                                       "tenant = ? AND entity_id = ?",
                                       {r.id, change.tenant, change.entity_id}));
  std::optional<int64_t> since, last_at;
  std::optional<double> last_value;
  if (!rs.empty()) {
    since = OptInt(rs.rows[0], 0);
    last_value = OptDouble(rs.rows[0], 1);
    last_at = OptInt(rs.rows[0], 2);
  }
  if (last_at && t < *last_at) return Status::Ok();  // an older measurement arriving late: ignored
  const int64_t duration_ms = r.duration_minutes * 60000;

  if (r.kind == RuleKind::kSustained) {
    if (Compare(*value, r.op, *threshold)) {
      int64_t start = since.value_or(t);
      TL_RETURN_IF_ERROR(write_state(start, *value, t));
      if (t - start >= duration_ms) {
        return Raise(s, c, change.tenant, change.entity_id, *value, threshold, location(), t).status();
      }
      return Status::Ok();
    }
    TL_RETURN_IF_ERROR(write_state(std::nullopt, *value, t));
    return Clear(s, r.id, change.tenant, change.entity_id, cleared_note);
  }

  // Rate of change: between the previous measurement and this one, per duration_minutes.
  TL_RETURN_IF_ERROR(write_state(std::nullopt, *value, t));
  if (!last_value || !last_at || t <= *last_at) return Status::Ok();
  double rate = (*value - *last_value) * static_cast<double>(duration_ms) / static_cast<double>(t - *last_at);
  if (Compare(rate, r.op, *threshold)) {
    return Raise(s, c, change.tenant, change.entity_id, rate, threshold, location(), t).status();
  }
  return Clear(s, r.id, change.tenant, change.entity_id, [&] {
    return "tốc độ thay đổi " + Num(rate) + " mỗi " + std::to_string(r.duration_minutes) + " phút, đo lúc " +
           FormatRfc3339(t);
  });
}

Status AlertService::OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) {
  TL_ASSIGN_OR_RETURN(auto snapshot, Current(session));
  bool any = false;
  for (const auto& type : change.types) {
    auto it = snapshot->by_type.find(type);
    if (it == snapshot->by_type.end()) continue;
    any = true;
    if (change.kind == ngsild::ChangeKind::kDeleted) break;
    for (const auto& rule : it->second) TL_RETURN_IF_ERROR(Evaluate(session, *rule, change));
  }
  if (any && change.kind == ngsild::ChangeKind::kDeleted) {
    // A deleted sensor is not a silent one; its open alerts stay for the operators.
    return session.Exec("DELETE FROM alert_state WHERE tenant = ? AND entity_id = ?", {change.tenant, change.entity_id})
        .status();
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------
// Background work.

Result<int> AlertService::Sweep() {
  int64_t now = clock_->NowMillis();
  std::shared_ptr<const Snapshot> snapshot;
  struct Silent {
    std::shared_ptr<const CompiledRule> rule;
    std::string tenant, entity_id;
  };
  std::vector<Silent> silent;
  std::vector<int64_t> due;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(snapshot, Current(s));
    for (const auto& rule : snapshot->rules) {
      if (rule->rule.kind != RuleKind::kMissingData) continue;
      TL_ASSIGN_OR_RETURN(
          auto rs, s.Query("SELECT st.tenant, st.entity_id FROM alert_state st WHERE st.rule_id = ? AND "
                           "st.last_seen <= ? AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.rule_id = st.rule_id AND "
                           "a.tenant = st.tenant AND a.entity_id = st.entity_id AND a.status <> 'resolved' AND "
                           "a.condition_cleared = 0) LIMIT 500",
                           {rule->rule.id, now - rule->rule.duration_minutes * 60000}));
      for (const auto& row : rs.rows) silent.push_back({rule, row.Text(0), row.Text(1)});
    }
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id FROM alerts WHERE status = 'open' AND escalated = 0 AND "
                                         "escalate_at IS NOT NULL AND escalate_at <= ? ORDER BY id LIMIT 500",
                                         {now}));
    for (const auto& row : rs.rows) due.push_back(row.Int(0));
    return Status::Ok();
  }));
  int changed = 0;
  for (const auto& x : silent) {
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      // Checked again in the write: data may have arrived, or another process raised it.
      TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT last_seen, location FROM alert_state WHERE rule_id = ? AND "
                                           "tenant = ? AND entity_id = ?",
                                           {x.rule->rule.id, x.tenant, x.entity_id}));
      if (rs.empty() || rs.rows[0].IsNull(0)) return Status::Ok();
      int64_t last_seen = rs.rows[0].Int(0);
      if (last_seen > now - x.rule->rule.duration_minutes * 60000) return Status::Ok();
      double minutes = static_cast<double>((now - last_seen) / 60000);
      TL_ASSIGN_OR_RETURN(bool raised,
                          Raise(s, *x.rule, x.tenant, x.entity_id, minutes,
                                static_cast<double>(x.rule->rule.duration_minutes), rs.rows[0].OptText(1), last_seen));
      if (raised) ++changed;
      return Status::Ok();
    }));
  }
  for (int64_t id : due) {
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      std::string from;
      TL_ASSIGN_OR_RETURN(auto done, Mutate(s, "id = ?", {id}, std::nullopt, [&](Alert& a) -> Result<bool> {
                            if (a.status != "open" || a.escalated || !a.escalate_at || *a.escalate_at > now)
                              return false;
                            from = a.severity;
                            a.severity = RaiseSeverity(a.severity);
                            a.escalated = true;
                            a.history.push_back({{"action", "escalated"},
                                                 {"by", "system"},
                                                 {"at", FormatRfc3339(now)},
                                                 {"note", "chưa được xác nhận: mức độ " + from + " → " + a.severity}});
                            return true;
                          }));
      if (!done || from.empty()) return Status::Ok();
      ++changed;
      return audit_->Append(s, {"system", "alert.escalate", "alert:" + std::to_string(id), "", "",
                                json{{"from", from}, {"to", done->severity}}.dump()});
    }));
  }
  return changed;
}

Result<int> AlertService::Mirror(const std::string& owner) {
  int64_t now = clock_->NowMillis();
  // A read first: with nothing to mirror, no write transaction (the SQLite writer is shared).
  bool pending = false;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    // The last change first: on PostgreSQL each statement reads its own snapshot, so the pending
    // check after it sees at least that change.
    std::optional<int64_t> visible;
    TL_ASSIGN_OR_RETURN(auto top, s.Query("SELECT MAX(change_seq) FROM alerts"));
    if (!top.empty() && !top.rows[0].IsNull(0)) visible = top.rows[0].Int(0);
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT 1 FROM alerts WHERE change_seq > (SELECT mirrored_seq FROM "
                                         "alert_mirror WHERE id = 1) LIMIT 1"));
    pending = !rs.empty();
    if (visible) RaiseTo(visible_seq_, *visible);
    return Status::Ok();
  }));
  if (!pending) return 0;
  // The lease: one process mirrors at a time, so an older state never overwrites a newer one.
  int64_t held = 0;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(held, s.Exec("UPDATE alert_mirror SET owner = ?, lease_until = ? WHERE id = 1 AND "
                                     "(owner IS NULL OR owner = ? OR lease_until <= ?)",
                                     {owner, now + kMirrorLeaseMs, owner, now}));
    return Status::Ok();
  }));
  if (held == 0) return 0;
  int total = 0;
  for (;;) {
    int64_t cursor = 0, last = 0;
    std::vector<std::pair<Alert, int64_t>> batch;
    TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(auto c, s.Query("SELECT mirrored_seq FROM alert_mirror WHERE id = 1"));
      cursor = c.empty() ? 0 : c.rows[0].Int(0);
      TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kAlertColumns +
                                               ", change_seq FROM alerts WHERE change_seq > ? ORDER BY change_seq "
                                               "LIMIT 200",
                                           {cursor}));
      for (const auto& row : rs.rows) batch.emplace_back(FromRow(row), row.Int(27));
      return Status::Ok();
    }));
    if (batch.empty()) break;
    std::map<std::string, std::vector<ngsild::BatchItem>> by_tenant;
    for (const auto& [alert, seq] : batch) {
      last = seq;
      auto doc = ngsild::ExpandPayload(AlertEntity(alert), *context_, ngsild::PayloadKind::kEntity);
      if (!doc.ok())
        return Internal("cannot build the Alert entity of alert " + std::to_string(alert.id) + ": " +
                        doc.status().message());
      by_tenant[alert.tenant].push_back({AlertEntityId(alert.id), std::move(*doc), Status::Ok()});
    }
    for (auto& [tenant, items] : by_tenant) {
      TL_ASSIGN_OR_RETURN(auto result, entities_->BatchUpsert(tenant, std::move(items), ngsild::UpsertMode::kReplace));
      if (!result.errors.empty()) {
        return Internal("cannot mirror " + result.errors.front().entity_id + ": " +
                        result.errors.front().error.message());
      }
    }
    int64_t moved = 0;
    TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
      TL_ASSIGN_OR_RETURN(moved, s.Exec("UPDATE alert_mirror SET mirrored_seq = ?, lease_until = ? WHERE id = 1 AND "
                                        "owner = ? AND mirrored_seq = ?",
                                        {last, clock_->NowMillis() + kMirrorLeaseMs, owner, cursor}));
      return Status::Ok();
    }));
    if (moved == 0) break;  // the lease passed to another process
    total += static_cast<int>(batch.size());
    if (batch.size() < 200) break;
  }
  return total;
}

void AlertService::Start(std::chrono::milliseconds sweep_every, std::chrono::milliseconds mirror_every) {
  sweeper_.Start(
      sweep_every,
      [this] {
        auto r = Sweep();
        if (!r.ok()) spdlog::warn(R"("msg":"alert sweep failed","error":"{}")", r.status().message());
      },
      /*background=*/false, "tl-alert-sweep");
  std::string owner = "alerts-" + crypto::RandomToken(8);
  mirror_.Start(
      mirror_every,
      [this, owner] {
        // Woken by an alert change of this process: its transaction may not have committed yet, so look
        // again every few milliseconds until it is visible (or, rolled back, never is: give up after 1 s).
        const int64_t wanted = wanted_seq_.load();
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (;;) {
          auto r = Mirror(owner);
          if (!r.ok()) {
            spdlog::warn(R"("msg":"alert mirroring failed","error":"{}")", r.status().message());
            break;
          }
          if (visible_seq_.load() >= wanted || std::chrono::steady_clock::now() > give_up) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      },
      /*background=*/false, "tl-alert-mirror");
}

void AlertService::Stop() {
  sweeper_.Stop();
  mirror_.Stop();
}

// ---------------------------------------------------------------------------------------------------
// Alerts.

Result<AlertPage> AlertService::List(const AlertFilter& f) const {
  std::string sql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (f.status) {
    if (*f.status == "open") {
      sql += " AND status <> 'resolved'";
    } else {
      sql += " AND status = ?";
      params.emplace_back(*f.status);
    }
  }
  if (f.severity) {
    sql += " AND severity = ?";
    params.emplace_back(*f.severity);
  }
  if (f.entity_type) {
    sql += " AND entity_type = ?";
    params.emplace_back(*f.entity_type);
  }
  if (f.before_id) {
    sql += " AND id < ?";
    params.emplace_back(*f.before_id);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(int64_t{f.limit + 1});
  AlertPage page;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.QueryV(sql, params));
    for (const auto& row : rs.rows) page.items.push_back(FromRow(row));
    return Status::Ok();
  }));
  if (page.items.size() > static_cast<size_t>(f.limit)) {
    page.items.resize(f.limit);
    page.next_cursor = page.items.back().id;
  }
  return page;
}

Result<Alert> AlertService::Get(int64_t id) const {
  std::optional<Alert> out;
  TL_RETURN_IF_ERROR(db_->Read([&](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query(std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id = ?", {id}));
    if (!rs.empty()) out = FromRow(rs.rows[0]);
    return Status::Ok();
  }));
  if (!out) return NotFound("no alert " + std::to_string(id));
  return std::move(*out);
}

Result<Alert> AlertService::Act(const audit::Entry& actor, int64_t id, Action action, const ActionRequest& req) {
  std::optional<Alert> out;
  TL_RETURN_IF_ERROR(db_->Write([&](storage::Session& s) -> Status {
    const std::string at = FormatRfc3339(clock_->NowMillis());
    TL_ASSIGN_OR_RETURN(
        auto result, Mutate(s, "id = ?", {id}, req.version, [&](Alert& a) -> Result<bool> {
          auto refuse = [&](const std::string& why) {
            return Conflict("cannot " + std::string(ActionName(action)) + " an alert that is " + a.status + why);
          };
          switch (action) {
            case Action::kAcknowledge:
              if (a.status != "open") return refuse("");
              a.status = "acknowledged";
              a.acknowledged_by = actor.actor;
              a.acknowledged_at = clock_->NowMillis();
              break;
            case Action::kAssign:
              if (a.status == "resolved") return refuse("");
              a.status = "assigned";
              a.assignee = req.assignee;
              if (!a.acknowledged_by) {  // taking it in hand acknowledges it
                a.acknowledged_by = actor.actor;
                a.acknowledged_at = clock_->NowMillis();
              }
              break;
            case Action::kComment:
              if (a.status == "resolved") return refuse(" (reopen is not possible; comment before resolving)");
              a.comments.push_back({{"by", actor.actor}, {"at", at}, {"text", req.text}});
              break;
            case Action::kResolve:
              if (a.status == "resolved") return refuse("");
              a.status = "resolved";
              break;
          }
          std::string note = req.note;
          if (action == Action::kAssign && note.empty()) note = req.assignee;
          if (action == Action::kComment) note = req.text;
          a.history.push_back({{"action", ActionName(action)}, {"by", actor.actor}, {"at", at}, {"note", note}});
          return true;
        }));
    if (!result) return NotFound("no alert " + std::to_string(id));
    audit::Entry e = actor;
    e.action = std::string("alert.") + ActionName(action);
    e.resource = "alert:" + std::to_string(id);
    json detail = {{"version", result->version}, {"status", result->status}};
    if (!req.note.empty()) detail["note"] = req.note;
    if (action == Action::kAssign) detail["assignee"] = req.assignee;
    e.detail = detail.dump();
    TL_RETURN_IF_ERROR(audit_->Append(s, e));
    out = std::move(*result);
    return Status::Ok();
  }));
  return std::move(*out);
}

}  // namespace tl::alerts
