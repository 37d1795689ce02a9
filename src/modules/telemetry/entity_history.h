// Entity history: the ngsild::ChangeListener that turns NGSI-LD entity changes into telemetry
// measurements (issue 5 §3), so that every numeric reading written through the broker can be read back
// through the temporal API (temporal_routes.h).
//
// Contract:
// - On a create, update, replace or append, every changed attribute of the new document that is a
//   Property whose "value" is a JSON number becomes one measurement per instance without a datasetId,
//   of series (tenant, entity id, expanded attribute name), at the instance's observedAt when it has
//   one, else at the change time. Other attribute types, non-numeric values, sub-properties and
//   instances with a datasetId are not recorded; deletions record nothing (history stays until its
//   retention ends).
// - The measurements are written with TelemetryStore::AppendInSession on the entity write's own
//   Session: they commit with the entity or not at all. Those of a whole write (a batch of 1,000
//   entities, or the MQTT ingester's batch) are gathered and appended once, at its end (OnWriteEnd):
//   one log row per shard instead of one per entity, and so fewer rows for the fold to read, decode
//   and delete. An observedAt outside the years 1 to 9999
//   refuses the write with BadRequestData naming "<attribute>.observedAt".
// - The listener lives in the telemetry module (which depends on tl_ngsild, not the other way round);
//   src/app registers it with EntityStore::AddListener.
//
// Thread-safety: called concurrently by writes on different Sessions; the readings gathered for each
// Session are kept under a mutex until its write ends.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "modules/ngsild/entity_store.h"
#include "modules/telemetry/history.h"
#include "storage/per_session.h"

namespace tl::telemetry {

// A numeric reading of one attribute (expanded name) taken from an entity document.
struct AttributeReading {
  std::string attribute;
  int64_t t_ms = 0;
  double v = 0;
};

// The readings of `attributes` in the stored entity document `doc` (see the contract above); times
// default to `at_ms`. BadRequestData for an observedAt that is not a date-time within range.
Result<std::vector<AttributeReading>> NumericReadings(const ngsild::ChangedDoc& doc,
                                                      const std::vector<std::string>& attributes, int64_t at_ms);

class EntityHistory final : public ngsild::ChangeListener {
 public:
  explicit EntityHistory(TelemetryStore* store) : store_(store) {}
  // Validates the change's readings (a bad observedAt fails the write here) and keeps them.
  Status OnEntityChanged(storage::Session& session, const ngsild::EntityChange& change) override;
  // Appends the readings kept for the write, in the order they came.
  Status OnWriteEnd(storage::Session& session) override;
  void OnWriteAbandoned(storage::Session& session) override;

 private:
  TelemetryStore* store_;
  struct Changed {
    std::string tenant, entity_id;
    std::vector<AttributeReading> readings;
  };
  storage::PerSession<Changed> pending_;  // by write in progress
};

}  // namespace tl::telemetry
