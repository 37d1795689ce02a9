// The one-stop shop's lifecycle rules as data (Decree 118/2025/NĐ-CP, Circular 03/2025/TT-VPCP).
//
// LifecycleRules is loaded from data/rules/dossier-lifecycle.json: the dossier states, and for each
// action the states it may start from, the state it leads to (none: the state is kept), the roles
// allowed ("applicant" is the dossier's own applicant account), whether it is a desk action (the
// receiving agency's desk may do it as well as the handling agency), what it needs (an assignee, a
// target agency, a new due date), whether a note is required, and its effect on the clock
// (start, pause, resume, stop). The rules change with the law; the code does not.
//
// Thread-safety: immutable after Load(); share freely.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace tl::dossiers {

enum class ClockEffect { kNone, kStart, kPause, kResume, kStop };

struct ActionRule {
  std::string name;
  std::vector<std::string> from;
  std::optional<std::string> to;
  std::vector<std::string> roles;
  bool desk = false;
  bool note_required = false;
  std::string needs;  // "", "assignee", "agency", "new_due_date"
  ClockEffect clock = ClockEffect::kNone;

  bool AllowsFrom(const std::string& state) const;
  bool AllowsRole(const std::string& role) const;
};

struct StateRule {
  std::string name;
  std::string label_vi;
  bool open = true;
};

class LifecycleRules {
 public:
  static Result<LifecycleRules> Load(const std::string& path);
  static Result<LifecycleRules> Parse(const std::string& json_text, const std::string& source);

  const std::string& version() const { return version_; }
  const ActionRule* Action(const std::string& name) const;
  const StateRule* State(const std::string& name) const;
  const std::map<std::string, ActionRule>& actions() const { return actions_; }
  const std::map<std::string, StateRule>& states() const { return states_; }
  // Actions that `role` (or the applicant) could take from `state`, by the rules alone.
  std::vector<std::string> ActionsFrom(const std::string& state) const;

 private:
  std::string version_;
  std::map<std::string, ActionRule> actions_;
  std::map<std::string, StateRule> states_;
};

}  // namespace tl::dossiers
