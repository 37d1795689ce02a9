// The simulated city of the operations center (issue 5 §6): where Hà Nội's sensors stand and what
// they measure at any instant, for `thanglong simulate city` to feed through the NGSI-LD API and MQTT
// like real devices.
//
// Sensors (entity types and attribute names of the FIWARE Smart Data Models, compact terms of
// data/ngsi-ld/thanglong-smart-data-models.jsonld):
// - AirQualityObserved: the US Embassy station replaying its measured hourly PM2.5 (AirSeries), and
//   derived stations scaled by a fixed local factor with smooth noise; pm25, pm10, no2,
//   airQualityIndex (US EPA), airQualityLevel; hourly.
// - TrafficFlowObserved, one per intersection: intensity, averageVehicleSpeed, occupancy, congested;
//   daily curves with peaks 7–9 and 17–19 on working days, lighter weekends; every 5 minutes.
// - FloodMonitoring gauges: currentLevel against alertLevel and dangerLevel, driven by rain events
//   (more of them May–October), floodLevelStatus; every 5 minutes.
// - OffStreetParking: totalSpotNumber, availableSpotNumber, occupiedSpotNumber, occupancy, with office,
//   commercial and residential daily profiles; every 5 minutes.
// - Streetlight: powerState switched at dusk and dawn (following the season), status with rare lamp
//   failures; one observation per switch.
//
// Every value is a pure function of (seed, sensor, time): there is no state between steps, so a run
// can start at any instant, be replayed exactly, and run accelerated. Times are Unix milliseconds;
// days and hours are Hà Nội's (UTC+7).
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "modules/citysim/air_series.h"

namespace tl::citysim {

// A place sensors gather around (e.g. a commune's centre), weighted by how many it gets.
struct Anchor {
  double lon = 0, lat = 0, weight = 1;
};

struct CityOptions {
  uint64_t seed = 2026;
  int air_stations = 12;  // the measured station and derived ones
  int intersections = 500;
  int flood_gauges = 30;
  int parkings = 200;
  int streetlights = 10'000;
  // Where sensors stand: around these anchors when given, else spread over the urban core.
  std::vector<Anchor> anchors;
  // The city's outline (one ring of lon/lat points, e.g. data/geo/hanoi-outline.geojson): when
  // given, every sensor stands inside it.
  std::vector<std::pair<double, double>> boundary;
};

// The outer ring of the first Polygon in a GeoJSON file (FeatureCollection, Feature or geometry);
// InvalidArgument naming "boundary" when the file has none.
Result<std::vector<std::pair<double, double>>> LoadBoundary(const std::string& geojson_path);

enum class Feed { kAir, kTraffic, kFlood, kParking, kStreetlight };

struct Sensor {
  std::string id;    // urn:ngsi-ld:<type>:HN-...
  std::string type;  // compact Smart Data Models type
  std::string name;  // Vietnamese display name
  Feed feed;
  int index;  // within its feed
  double lon, lat;
};

// One traffic observation.
struct TrafficState {
  int intensity;  // vehicles in the 5 minutes
  double average_speed_kmh;
  double occupancy;  // 0..1
  bool congested;
};

class CityModel {
 public:
  // InvalidArgument naming the option for counts out of range (0..100,000; at least one air station).
  static Result<CityModel> Create(CityOptions options, AirSeries air);

  const std::vector<Sensor>& Sensors() const { return sensors_; }
  const CityOptions& options() const { return options_; }

  // The sensor's whole entity as at `t_ms`: location, static attributes and its latest observation.
  nlohmann::json Entity(const Sensor& sensor, int64_t t_ms) const;
  // The observations made in (from_ms, to_ms], in time order: entity fragments (id, type and the
  // observed attributes, each with observedAt), ready for an NGSI-LD batch upsert in update mode.
  void Step(int64_t from_ms, int64_t to_ms, std::vector<nlohmann::json>& out) const;
  // The same observations as device measurements: (sensor, time, {attribute: value}) — the compact
  // MQTT form.
  struct Measurement {
    const Sensor* sensor;
    int64_t at_ms;
    nlohmann::json values;
  };
  void StepMeasurements(int64_t from_ms, int64_t to_ms, std::vector<Measurement>& out) const;
  // A measurement as the entity fragment Step() yields.
  static nlohmann::json Fragment(const Measurement& measurement);

  // The models themselves (also used by the tests).
  double Pm25(int station, int64_t t_ms) const;
  TrafficState Traffic(int intersection, int64_t t_ms) const;
  double RainMmPerHour(int64_t hour_index) const;  // city-wide rain in the hour (hours since the epoch)
  double WaterLevel(int gauge, int64_t t_ms) const;
  int OccupiedSpots(int parking, int64_t t_ms) const;
  bool LightOn(int light, int64_t t_ms) const;
  bool LampDefective(int light, int64_t t_ms) const;

  static constexpr int64_t kFiveMinutesMs = 5 * 60 * 1000;
  static constexpr int64_t kHourMs = 3600 * 1000;

 private:
  CityModel(CityOptions options, AirSeries air) : options_(std::move(options)), air_(std::move(air)) {}
  void Place();
  nlohmann::json Observation(const Sensor& s, int64_t t_ms) const;  // {attribute: value}
  int TotalSpots(int parking) const;
  double AlertLevel(int gauge) const;
  double DangerLevel(int gauge) const;
  double BaseLevel(int gauge) const;
  int64_t SwitchOnAt(int light, int64_t day) const;   // Unix ms of the day's switch-on (local day index)
  int64_t SwitchOffAt(int light, int64_t day) const;  // and of the morning's switch-off

  CityOptions options_;
  AirSeries air_;
  std::vector<Sensor> sensors_;
  std::vector<int> feed_start_;  // index of each feed's first sensor in sensors_
};

// US EPA AQI of a PM2.5 concentration (µg/m³), and its Smart Data Models level name.
int AqiOfPm25(double pm25);
const char* AqiLevel(int aqi);

}  // namespace tl::citysim
