// The one-stop shop's live service index as NGSI-LD entities, for the operations center (issue 5 §2):
// one entity per commune, `urn:ngsi-ld:AdministrativeServiceIndex:<commune code>` of type
// AdministrativeServiceIndex (a custom type: its terms expand through the core context's @vocab),
// with the year to date's figures of dossiers received in the commune — score (0–100, Decision 766),
// onTimeRate (resolved on time ÷ resolved, absent before the first resolution), overdueDossiers
// (open and past due), openDossiers, receivedDossiers, resolvedDossiers, rank among the communes —
// each observed at the refresh time, plus the commune's name, code and, when the map data has it,
// its location.
//
// Refresh() computes the ranking (dossiers::ServiceIndex) and writes every commune in one batch
// upsert; Start() refreshes at once and then every `interval` on a thread of its own. Entity
// changes reach the subscriptions, the telemetry history and the alert rules like any other
// (e.g. a rule on overdueDossiers). Several server processes may each refresh: the upsert is
// idempotent.
//
// Thread-safety: Refresh may run on any thread; Start/Stop from one owning thread.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/status.h"
#include "modules/admin_units/admin_units.h"
#include "modules/dossiers/service_index.h"
#include "modules/ngsild/entity_store.h"

namespace tl::app {

class ServiceIndexFeed {
 public:
  // `locations`: commune code → (longitude, latitude), possibly empty.
  ServiceIndexFeed(const dossiers::ServiceIndex* index, const admin_units::AdminUnitService* units,
                   ngsild::EntityStore* store, std::shared_ptr<const ngsild::Context> context, const Clock* clock,
                   std::map<std::string, std::pair<double, double>> locations)
      : index_(index),
        units_(units),
        store_(store),
        context_(std::move(context)),
        clock_(clock),
        locations_(std::move(locations)) {}

  // Returns the number of communes written.
  Result<int> Refresh();
  void Start(std::chrono::milliseconds interval);
  void Stop() { task_.Stop(); }

  static constexpr const char* kType = "AdministrativeServiceIndex";

 private:
  const dossiers::ServiceIndex* index_;
  const admin_units::AdminUnitService* units_;
  ngsild::EntityStore* store_;
  std::shared_ptr<const ngsild::Context> context_;
  const Clock* clock_;
  std::map<std::string, std::pair<double, double>> locations_;
  PeriodicTask task_;
};

// Commune locations from a GeoJSON FeatureCollection whose features carry a "code" property and a
// Point geometry (data/geo/hanoi-units.geojson); empty when the file does not exist.
Result<std::map<std::string, std::pair<double, double>>> LoadUnitLocations(const std::string& path);

}  // namespace tl::app
