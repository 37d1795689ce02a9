// The operations center's alerts: rules evaluated on NGSI-LD entity changes, the alerts they raise,
// their lifecycle (acknowledge, assign, comment, resolve; escalation), and their mirror as NGSI-LD
// entities of type Alert (docs/alerts.md).
//
// Contract:
// - Tables (migrations 1100-1101): alert_rules (id → the rule's JSON) with alert_rules_revision (one
//   row: a counter every rule write bumps, and when the rules were seeded); alert_state, one row per
//   (rule, tenant, entity) holding what a rule needs across measurements and processes (the instant a
//   sustained condition became true, the last value and its time for rates of change, the last change
//   for missing data, the entity's location); alerts, with a unique open_key (rule, tenant, entity)
//   cleared on resolution, so at most one alert per (rule, entity) is unresolved; alert_change_seq
//   (one row) numbering every alert write (alerts.change_seq), and alert_mirror (one row: the change
//   number mirrored so far and the mirroring lease).
// - OnEntityChanged (ngsild::ChangeListener) runs inside the entity's write transaction, on its
//   Session only: it evaluates the enabled rules whose entity type is one of the changed entity's
//   types and whose attribute (or value_attribute) changed, updates alert_state and raises or updates
//   alerts there, so an alert commits with the measurement that raised it. A measurement's time is its
//   observedAt when present, else the change time: a replay of hourly data within seconds satisfies a
//   one-hour sustained rule. Missing data compares the change time (server clock) with now.
// - An open alert whose condition no longer holds records condition_cleared=true and a history entry;
//   it stays until an operator resolves it (no auto-resolution). The condition returning before that
//   sets condition_cleared=false again (one alert, not a new one).
// - Sweep() (missing data, escalation) and Mirror() are safe to run in several processes at once:
//   every alert update is conditional on the version read, raising relies on the unique open_key, and
//   mirroring is done by the holder of a lease row only, from the stored change numbers.
// - Rules are cached in memory by revision (checked on the caller's Session at most every
//   kRevisionCheckMs; at once after a rule write of this process), as subscriptions are.
// - Actions: a stale version → Conflict; a transition the status does not allow → Conflict; missing
//   members → InvalidArgument naming them; an unknown alert → NotFound. Each action is audited in its
//   transaction.
//
// Thread-safety: safe to share; the rule snapshot is swapped under a mutex. Start/Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "modules/alerts/rules.h"
#include "modules/audit/audit_log.h"
#include "modules/ngsild/context.h"
#include "modules/ngsild/entity_store.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::alerts {

inline constexpr int64_t kRevisionCheckMs = 200;
inline constexpr int kDefaultListLimit = 50;
inline constexpr int kMaxListLimit = 200;
inline constexpr int64_t kMirrorLeaseMs = 10000;

struct Alert {
  int64_t id = 0;
  std::string rule_id, rule_name, tenant, entity_id, entity_type, attribute, severity, status, title, description;
  std::string category, sub_category;
  std::optional<double> value, threshold;
  std::optional<std::string> location;  // GeoJSON geometry, JSON text
  int64_t raised_at = 0, updated_at = 0;
  std::optional<std::string> acknowledged_by, assignee;
  std::optional<int64_t> acknowledged_at, escalate_at;
  bool escalated = false, condition_cleared = false;
  int64_t version = 0;
  nlohmann::json comments = nlohmann::json::array();  // [{by, at, text}]
  nlohmann::json history = nlohmann::json::array();   // [{action, by, at, note}]
};

// The API's form of an alert (docs/alerts.md).
nlohmann::json AlertJson(const Alert& a);
// The NGSI-LD entity mirroring an alert (compact, Smart Data Models Alert terms): urn:ngsi-ld:Alert:<id>.
nlohmann::json AlertEntity(const Alert& a);
std::string AlertEntityId(int64_t id);

struct AlertFilter {
  std::optional<std::string> status;  // open (not resolved) | acknowledged | assigned | resolved
  std::optional<std::string> severity;
  std::optional<std::string> entity_type;  // compact
  int limit = kDefaultListLimit;
  std::optional<int64_t> before_id;  // the cursor: ids below it
};

struct AlertPage {
  std::vector<Alert> items;  // newest first
  std::optional<int64_t> next_cursor;
};

enum class Action { kAcknowledge, kAssign, kComment, kResolve };
std::optional<Action> ParseAction(std::string_view name);
const char* ActionName(Action a);

struct ActionRequest {
  int64_t version = 0;
  std::string note;
  std::string assignee;  // assign
  std::string text;      // comment
};

class AlertService final : public ngsild::ChangeListener {
 public:
  AlertService(storage::Database* db, const Clock* clock, const audit::AuditLog* audit, ngsild::EntityStore* entities,
               std::shared_ptr<const ngsild::ContextRegistry> contexts);
  ~AlertService() override { Stop(); }
  static std::vector<storage::Migration> Migrations();

  // Rules. Seeding stores `load()`'s rules when the database never had any (once, across processes).
  Result<int> SeedIfNeverSeeded(const std::function<Result<std::vector<Rule>>()>& load, const std::string& actor);
  Result<std::vector<Rule>> ListRules() const;
  Result<Rule> GetRule(const std::string& id) const;
  Status CreateRule(const audit::Entry& actor, const Rule& rule);   // AlreadyExists for a taken id
  Status ReplaceRule(const audit::Entry& actor, const Rule& rule);  // NotFound for an unknown id
  // Removes the rule and its state; its alerts stay.
  Status DeleteRule(const audit::Entry& actor, const std::string& id);

  Status OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) override;

  // Missing data and escalation, at the clock's now. Returns how many alerts it raised or changed.
  Result<int> Sweep();
  // Pushes the alerts changed since the stored cursor to the entity store (as `owner`, when it holds
  // or takes the lease). Returns how many were mirrored.
  Result<int> Mirror(const std::string& owner);
  // Runs Sweep every `sweep_every` and Mirror every `mirror_every` in background threads; Mirror also
  // runs as soon as this process changes an alert (it waits for that change to commit), so an
  // alert's NGSI-LD entity follows the measurement that raised it within milliseconds.
  void Start(std::chrono::milliseconds sweep_every, std::chrono::milliseconds mirror_every);
  void Stop();

  Result<AlertPage> List(const AlertFilter& filter) const;
  Result<Alert> Get(int64_t id) const;
  Result<Alert> Act(const audit::Entry& actor, int64_t id, Action action, const ActionRequest& request);

 private:
  struct CompiledRule {
    Rule rule;
    std::string type_iri, attribute_iri, value_attribute_iri;
  };
  struct Snapshot {
    int64_t revision = -1;
    std::vector<std::shared_ptr<const CompiledRule>> rules;                           // enabled ones
    std::map<std::string, std::vector<std::shared_ptr<const CompiledRule>>> by_type;  // type IRI → rules
  };
  Result<std::shared_ptr<const Snapshot>> Current(storage::Session& s);
  Result<std::shared_ptr<const CompiledRule>> Compile(const Rule& r) const;
  Status Evaluate(storage::Session& s, const CompiledRule& rule, const ngsild::EntityChange& change);
  // Raises (or re-opens the condition of) the open alert of (rule, tenant, entity); true when it
  // inserted or changed one.
  Result<bool> Raise(storage::Session& s, const CompiledRule& rule, const std::string& tenant,
                     const std::string& entity_id, double value, std::optional<double> threshold,
                     const std::optional<std::string>& location, int64_t observed_at);
  // Records on the open alert of (rule, tenant, entity), if any, that its condition cleared; `note`
  // is only called when there is one to record it on.
  Status Clear(storage::Session& s, const std::string& rule_id, const std::string& tenant, const std::string& entity_id,
               const std::function<std::string()>& note);
  // Reads, changes and writes back one alert, conditional on its version (retried when another
  // transaction changed it meanwhile, unless `expected_version` pins it). `change` returns false to
  // leave the alert unchanged.
  Result<std::optional<Alert>> Mutate(storage::Session& s, const std::string& where,
                                      const std::vector<storage::Value>& params,
                                      std::optional<int64_t> expected_version,
                                      const std::function<Result<bool>(Alert&)>& change) const;
  Result<int64_t> NextChange(storage::Session& s) const;
  Status Bump(storage::Session& s) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  ngsild::EntityStore* entities_;
  std::shared_ptr<const ngsild::ContextRegistry> contexts_;
  std::shared_ptr<const ngsild::Context> context_;  // the Smart Data Models terms
  std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<Snapshot>();
  std::chrono::steady_clock::time_point checked_at_{};
  std::atomic<bool> stale_{true};
  PeriodicTask sweeper_;
  mutable PeriodicTask mirror_;  // woken (NextChange) when this process changes an alert
  mutable std::atomic<int64_t> wanted_seq_{0};  // the last alert change of this process
  std::atomic<int64_t> visible_seq_{0};          // the last alert change the mirror saw committed
};

}  // namespace tl::alerts
