#include "modules/telemetry/entity_history.h"

#include <nlohmann/json.hpp>

#include "modules/calendar/calendar.h"
#include "modules/ngsild/errors.h"

namespace tl::telemetry {

Result<std::vector<AttributeReading>> NumericReadings(const ngsild::ChangedDoc& doc,
                                                      const std::vector<std::string>& attributes, int64_t at_ms) {
  std::vector<AttributeReading> out;
  for (const std::string& name : attributes) {
    const nlohmann::json* it = doc.Member(name);
    if (it == nullptr) continue;  // a deleted attribute
    auto take = [&](const nlohmann::json& instance) -> Status {
      if (!instance.is_object() || instance.contains("datasetId")) return Status::Ok();
      auto type = instance.find("type");
      auto value = instance.find("value");
      if (type == instance.end() || *type != "Property" || value == instance.end() || !value->is_number()) {
        return Status::Ok();
      }
      int64_t t = at_ms;
      if (auto observed = instance.find("observedAt"); observed != instance.end() && observed->is_string()) {
        auto parsed = calendar::ParseRfc3339(observed->get_ref<const std::string&>(), name + ".observedAt");
        if (!parsed.ok() || *parsed < kMinTimeMs || *parsed >= kMaxTimeMs) {
          return ngsild::BadRequestData("observedAt must be an RFC 3339 date-time in the years 1 to 9999",
                                        name + ".observedAt");
        }
        t = *parsed;
      }
      out.push_back({name, t, value->get<double>()});
      return Status::Ok();
    };
    if (it->is_array()) {
      for (const auto& instance : *it) TL_RETURN_IF_ERROR(take(instance));
    } else {
      TL_RETURN_IF_ERROR(take(*it));
    }
  }
  return out;
}

Status EntityHistory::OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) {
  if (change.kind == ngsild::ChangeKind::kDeleted) return Status::Ok();
  TL_ASSIGN_OR_RETURN(std::vector<AttributeReading> readings,
                      NumericReadings(change.entity, change.changed_attributes, change.at_ms));
  if (readings.empty()) return Status::Ok();
  Changed kept{change.tenant, change.entity_id, std::move(readings)};
  pending_.Add(session, std::move(kept));
  return Status::Ok();
}

Status EntityHistory::OnWriteEnd(storage::Session& session) {
  std::vector<Changed> changes = pending_.Take(session);
  if (changes.empty()) return Status::Ok();
  std::vector<Measurement> batch;
  for (const Changed& c : changes) {
    for (const AttributeReading& r : c.readings) batch.push_back({c.tenant, c.entity_id, r.attribute, r.t_ms, r.v});
  }
  return store_->AppendInSession(session, batch);
}

void EntityHistory::OnWriteAbandoned(storage::Session& session) {
  pending_.Drop(session);
}

}  // namespace tl::telemetry
