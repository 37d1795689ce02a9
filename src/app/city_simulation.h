// `thanglong simulate city`: feeds the simulated city (modules/citysim) to a running platform the way
// real devices do — through the NGSI-LD API (batch upserts with an API key) and, when a broker is
// given, as device measurements over MQTT.
//
// The run first upserts every sensor's whole entity as at the start instant, then advances simulated
// time at `speed` simulated seconds per real second (or as fast as the platform takes it), sending
// each step's observations in batches of up to `batch` entities. Times in the data are simulated
// times, so an accelerated run produces history (and alerts judged on observedAt) as a real day would.
//
// Thread-safety: run from one thread; it owns its HTTP connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "modules/citysim/city_model.h"

namespace tl::app {

// Where observations go. Implementations: NGSI-LD over HTTP (below); MQTT (mqtt_ingest).
class CityFeed {
 public:
  virtual ~CityFeed() = default;
  // Whole entities (created or replaced attribute by attribute).
  virtual Status SendEntities(const std::vector<nlohmann::json>& entities) = 0;
  // One step's observations.
  virtual Status SendObservations(const citysim::CityModel& city,
                                  std::vector<citysim::CityModel::Measurement>& measurements) = 0;
};

// POST /ngsi-ld/v1/entityOperations/upsert?options=update with the Smart Data Models @context (Link
// header) and `Authorization: Bearer <api key>`, on one keep-alive connection. A batch the broker
// answers with errors fails the send, naming the first entity's problem.
Result<std::unique_ptr<CityFeed>> NgsiLdHttpFeed(const std::string& base_url, const std::string& api_key,
                                                 size_t batch);

// Observations published as device measurements over MQTT (docs/mqtt.md): topic
// <topic_prefix>devices/<device id>/measurements (the prefix the platform's mqtt_topic_prefix names,
// empty by default), payload {"t": <Unix ms>, "<attribute>": value, ...}, QoS 1; whole entities go
// through `entities` (the NGSI-LD API). Each step ends with a flush, so the broker holds every
// measurement of a step before the next one is played. The devices must be registered
// (DeviceRegistration).
Result<std::unique_ptr<CityFeed>> MqttMeasurementFeed(const std::string& mqtt_url, std::unique_ptr<CityFeed> entities,
                                                      const std::string& topic_prefix = "");

// A sensor's device id (the last segment of its entity id, e.g. "HN-TF-0001") and its registration
// for the device registry (POST /api/v1/devices:batch form): every observed attribute under its own
// name, with its unit.
std::string DeviceIdOf(const citysim::Sensor& sensor);
nlohmann::json DeviceRegistration(const citysim::Sensor& sensor, const std::string& owner_agency);

struct CitySimulationOptions {
  int64_t start_ms = 0;                 // simulated start
  std::optional<int64_t> duration_ms;   // simulated; none: until stopped
  double speed = 60;                    // simulated seconds per real second; 0 = as fast as possible
  bool create = true;                   // upsert the whole entities first
  bool progress = true;
};

struct CitySimulationReport {
  int64_t entities = 0, observations = 0, attribute_updates = 0;
  int64_t simulated_ms = 0;
  double seconds = 0;
};

// Runs until the duration is simulated or `stop` returns true (polled a few times a second).
Result<CitySimulationReport> SimulateCity(const citysim::CityModel& city, CityFeed& feed,
                                          const CitySimulationOptions& options, const std::function<bool()>& stop,
                                          std::ostream& log);

}  // namespace tl::app
