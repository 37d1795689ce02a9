#include "modules/dossiers/lifecycle_rules.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tl::dossiers {

bool ActionRule::AllowsFrom(const std::string& state) const {
  return std::find(from.begin(), from.end(), state) != from.end();
}

bool ActionRule::AllowsRole(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<LifecycleRules> LifecycleRules::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read the lifecycle rules at " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

Result<LifecycleRules> LifecycleRules::Parse(const std::string& text, const std::string& source) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("lifecycle rules are not a JSON object", source);
  LifecycleRules rules;
  rules.version_ = j.value("version", "");
  if (!j.contains("states") || !j["states"].is_object()) return InvalidArgument("rules need 'states'", source);
  for (const auto& [name, s] : j["states"].items()) {
    rules.states_[name] = {name, s.value("label_vi", name), s.value("open", true)};
  }
  if (!j.contains("actions") || !j["actions"].is_object()) return InvalidArgument("rules need 'actions'", source);
  for (const auto& [name, a] : j["actions"].items()) {
    ActionRule r;
    r.name = name;
    for (const auto& f : a.value("from", nlohmann::json::array())) {
      std::string st = f.get<std::string>();
      if (!rules.states_.count(st)) return InvalidArgument("action " + name + " starts from unknown state " + st, source);
      r.from.push_back(st);
    }
    if (a.contains("to") && !a["to"].is_null()) {
      std::string to = a["to"].get<std::string>();
      if (!rules.states_.count(to)) return InvalidArgument("action " + name + " leads to unknown state " + to, source);
      r.to = to;
    }
    for (const auto& role : a.value("roles", nlohmann::json::array())) r.roles.push_back(role.get<std::string>());
    if (r.roles.empty()) return InvalidArgument("action " + name + " allows no role", source);
    r.desk = a.value("desk", false);
    r.note_required = a.value("note_required", false);
    r.needs = a.value("needs", "");
    std::string clock = a.value("clock", "");
    if (clock == "start") r.clock = ClockEffect::kStart;
    else if (clock == "pause") r.clock = ClockEffect::kPause;
    else if (clock == "resume") r.clock = ClockEffect::kResume;
    else if (clock == "stop") r.clock = ClockEffect::kStop;
    else if (!clock.empty()) return InvalidArgument("action " + name + " has unknown clock effect " + clock, source);
    rules.actions_[name] = std::move(r);
  }
  return rules;
}

const ActionRule* LifecycleRules::Action(const std::string& name) const {
  auto it = actions_.find(name);
  return it == actions_.end() ? nullptr : &it->second;
}

const StateRule* LifecycleRules::State(const std::string& name) const {
  auto it = states_.find(name);
  return it == states_.end() ? nullptr : &it->second;
}

std::vector<std::string> LifecycleRules::ActionsFrom(const std::string& state) const {
  std::vector<std::string> out;
  for (const auto& [name, a] : actions_) {
    if (a.AllowsFrom(state)) out.push_back(name);
  }
  return out;
}

}  // namespace tl::dossiers
