#include "modules/citysim/city_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/civil_date.h"
#include "core/clock.h"

namespace tl::citysim {
namespace {

using nlohmann::json;

constexpr int64_t kLocalOffsetMs = 7LL * 3600 * 1000;
constexpr int64_t kDayMs = 86'400'000;
constexpr double kPi = 3.14159265358979323846;
// The measured station: the US Embassy, 7 Láng Hạ, Đống Đa.
constexpr double kEmbassyLon = 105.8186, kEmbassyLat = 21.0226;
// Hà Nội's bounding box (shared/domain/operations-center.md).
constexpr double kWest = 105.285, kEast = 106.020, kSouth = 20.564, kNorth = 21.386;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t Hash(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  return Mix(Mix(Mix(seed ^ Mix(a)) ^ b) ^ c);
}
// Uniform in [0, 1).
double Unit(uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }
double Uniform(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) { return Unit(Hash(seed, a, b, c)); }
// Standard normal (Box-Muller over two hashes).
double Normal(uint64_t seed, uint64_t a, uint64_t b = 0) {
  double u1 = std::max(1e-12, Uniform(seed, a, b, 1)), u2 = Uniform(seed, a, b, 2);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * kPi * u2);
}
// Smooth noise in [-1, 1] over time: random knots every `period_ms`, eased between them.
double SmoothNoise(uint64_t seed, uint64_t channel, int64_t t_ms, int64_t period_ms) {
  int64_t k = t_ms >= 0 ? t_ms / period_ms : (t_ms - period_ms + 1) / period_ms;
  double f = static_cast<double>(t_ms - k * period_ms) / static_cast<double>(period_ms);
  double a = 2 * Uniform(seed, channel, static_cast<uint64_t>(k)) - 1;
  double b = 2 * Uniform(seed, channel, static_cast<uint64_t>(k + 1)) - 1;
  double s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

// Ray casting: is (lon, lat) inside the ring?
bool Inside(const std::vector<std::pair<double, double>>& ring, double lon, double lat) {
  bool in = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    auto [xi, yi] = ring[i];
    auto [xj, yj] = ring[j];
    if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) in = !in;
  }
  return in;
}

int64_t LocalDay(int64_t t_ms) {
  int64_t local = t_ms + kLocalOffsetMs;
  return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
}
double LocalHour(int64_t t_ms) {  // 0..24, fractional
  return static_cast<double>(t_ms + kLocalOffsetMs - LocalDay(t_ms) * kDayMs) / 3'600'000.0;
}
bool Weekend(int64_t t_ms) { return IsWeekend(CivilDateFromDays(LocalDay(t_ms))); }
int Month(int64_t t_ms) { return CivilDateFromDays(LocalDay(t_ms)).month; }

double Bump(double h, double centre, double width) { return std::exp(-((h - centre) / width) * ((h - centre) / width)); }

// Share of road capacity demanded at local hour h.
double TrafficDemand(int64_t t_ms) {
  double h = LocalHour(t_ms);
  if (Weekend(t_ms)) {
    return 0.06 + 0.45 * Bump(h, 10.5, 2.2) + 0.55 * Bump(h, 18.5, 2.0) + 0.2 * Bump(h, 14, 3);
  }
  return 0.05 + 0.95 * Bump(h, 8.0, 0.9) + 1.0 * Bump(h, 18.0, 1.0) + 0.35 * Bump(h, 12.5, 2.5) + 0.2 * Bump(h, 15, 2);
}

// To a multiple of `step` (0.1, 0.01, 0.05), as the nearest double to the decimal (41.3, not 41.300000000000004).
double Round(double v, double step) {
  double per_unit = std::round(1 / step);
  return std::round(v * per_unit) / per_unit;
}

json Property(const json& value, const std::string& observed_at, const char* unit = nullptr) {
  json p = {{"type", "Property"}, {"value", value}, {"observedAt", observed_at}};
  if (unit) p["unitCode"] = unit;
  return p;
}

// Attributes' units (UN/CEFACT codes).
const char* UnitOf(const std::string& attribute) {
  if (attribute == "pm25" || attribute == "pm10" || attribute == "no2") return "GQ";
  if (attribute == "averageVehicleSpeed") return "KMH";
  if (attribute == "currentLevel") return "MTR";
  return nullptr;
}

}  // namespace

int AqiOfPm25(double pm25) {
  struct Band {
    double c_lo, c_hi;
    int i_lo, i_hi;
  };
  static constexpr Band kBands[] = {{0.0, 12.0, 0, 50},         {12.1, 35.4, 51, 100},   {35.5, 55.4, 101, 150},
                                    {55.5, 150.4, 151, 200},    {150.5, 250.4, 201, 300}, {250.5, 350.4, 301, 400},
                                    {350.5, 500.4, 401, 500}};
  double c = std::floor(std::max(0.0, pm25) * 10) / 10;
  for (const auto& b : kBands) {
    if (c <= b.c_hi) {
      return static_cast<int>(std::lround((b.i_hi - b.i_lo) / (b.c_hi - b.c_lo) * (c - b.c_lo) + b.i_lo));
    }
  }
  return 500;
}

const char* AqiLevel(int aqi) {
  if (aqi <= 50) return "good";
  if (aqi <= 100) return "moderate";
  if (aqi <= 150) return "unhealthyForSensitiveGroups";
  if (aqi <= 200) return "unhealthy";
  if (aqi <= 300) return "veryUnhealthy";
  return "hazardous";
}

Result<std::vector<std::pair<double, double>>> LoadBoundary(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read " + path, "boundary");
  json doc = json::parse(in, nullptr, false);
  const json* g = &doc;
  if (g->is_object() && g->value("type", "") == "FeatureCollection" && (*g)["features"].is_array() &&
      !(*g)["features"].empty()) {
    g = &(*g)["features"][0];
  }
  if (g->is_object() && g->value("type", "") == "Feature" && g->contains("geometry")) g = &(*g)["geometry"];
  if (!g->is_object() || g->value("type", "") != "Polygon" || !(*g)["coordinates"].is_array() ||
      (*g)["coordinates"].empty() || !(*g)["coordinates"][0].is_array()) {
    return InvalidArgument(path + " holds no Polygon", "boundary");
  }
  std::vector<std::pair<double, double>> ring;
  for (const auto& p : (*g)["coordinates"][0]) {
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number()) {
      return InvalidArgument(path + ": a ring position is not [lon, lat]", "boundary");
    }
    ring.emplace_back(p[0].get<double>(), p[1].get<double>());
  }
  if (ring.size() < 4) return InvalidArgument(path + ": the ring has fewer than 4 positions", "boundary");
  return ring;
}

Result<CityModel> CityModel::Create(CityOptions options, AirSeries air) {
  struct Limit {
    int value;
    const char* field;
    int min;
  };
  for (const Limit& l : {Limit{options.air_stations, "air_stations", 1}, Limit{options.intersections, "intersections", 0},
                         Limit{options.flood_gauges, "flood_gauges", 0}, Limit{options.parkings, "parkings", 0},
                         Limit{options.streetlights, "streetlights", 0}}) {
    if (l.value < l.min || l.value > 100'000) {
      return InvalidArgument("must be between " + std::to_string(l.min) + " and 100000", l.field);
    }
  }
  for (const auto& a : options.anchors) {
    if (!(a.lon >= kWest && a.lon <= kEast && a.lat >= kSouth && a.lat <= kNorth) || !(a.weight > 0)) {
      return InvalidArgument("an anchor lies outside Hà Nội or has no weight", "anchors");
    }
  }
  if (!options.boundary.empty() && options.boundary.size() < 4) {
    return InvalidArgument("the outline needs at least 4 positions", "boundary");
  }
  CityModel m(std::move(options), std::move(air));
  m.Place();
  return m;
}

void CityModel::Place() {
  const uint64_t seed = options_.seed;
  double total_weight = 0;
  for (const auto& a : options_.anchors) total_weight += a.weight;
  // A point for the n-th sensor of a feed: around a weighted anchor, else in the urban core (70 %)
  // or the wider city.
  auto place_once = [&](uint64_t feed, uint64_t n) -> std::pair<double, double> {
    double lon, lat;
    if (!options_.anchors.empty()) {
      double pick = Uniform(seed, feed, n, 10) * total_weight;
      const Anchor* chosen = &options_.anchors.back();
      for (const auto& a : options_.anchors) {
        if (pick < a.weight) {
          chosen = &a;
          break;
        }
        pick -= a.weight;
      }
      lon = chosen->lon + 0.008 * Normal(seed, feed * 1'000'003 + n, 11);
      lat = chosen->lat + 0.006 * Normal(seed, feed * 1'000'003 + n, 12);
    } else if (Uniform(seed, feed, n, 13) < 0.7) {
      lon = 105.835 + 0.045 * Normal(seed, feed * 1'000'003 + n, 14);
      lat = 21.020 + 0.035 * Normal(seed, feed * 1'000'003 + n, 15);
    } else {
      lon = 105.78 + 0.14 * Normal(seed, feed * 1'000'003 + n, 16);
      lat = 21.00 + 0.12 * Normal(seed, feed * 1'000'003 + n, 17);
    }
    return {std::clamp(lon, kWest, kEast), std::clamp(lat, kSouth, kNorth)};
  };
  // Inside the outline when one is given: redraw (another draw of the same sensor) until it is.
  auto place = [&](uint64_t feed, uint64_t n) -> std::pair<double, double> {
    auto p = place_once(feed, n);
    for (uint64_t attempt = 1; !options_.boundary.empty() && !Inside(options_.boundary, p.first, p.second) &&
                               attempt < 64;
         ++attempt) {
      p = place_once(feed + attempt * 1'000, n);
    }
    return p;
  };
  auto id = [](const char* type, const char* prefix, int n, int width) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "urn:ngsi-ld:%s:%s-%0*d", type, prefix, width, n);
    return std::string(buf);
  };
  feed_start_.assign(5, 0);
  feed_start_[0] = 0;
  for (int i = 0; i < options_.air_stations; ++i) {
    if (i == 0) {
      sensors_.push_back({"urn:ngsi-ld:AirQualityObserved:HN-AQ-US-EMBASSY", "AirQualityObserved",
                          "Trạm quan trắc Đại sứ quán Hoa Kỳ (Láng Hạ)", Feed::kAir, 0, kEmbassyLon, kEmbassyLat});
      continue;
    }
    auto [lon, lat] = place(1, i);
    sensors_.push_back({id("AirQualityObserved", "HN-AQ", i, 3), "AirQualityObserved",
                        "Trạm quan trắc không khí số " + std::to_string(i), Feed::kAir, i, lon, lat});
  }
  feed_start_[1] = static_cast<int>(sensors_.size());
  for (int i = 0; i < options_.intersections; ++i) {
    auto [lon, lat] = place(2, i);
    sensors_.push_back({id("TrafficFlowObserved", "HN-TF", i + 1, 4), "TrafficFlowObserved",
                        "Nút giao số " + std::to_string(i + 1), Feed::kTraffic, i, lon, lat});
  }
  feed_start_[2] = static_cast<int>(sensors_.size());
  for (int i = 0; i < options_.flood_gauges; ++i) {
    auto [lon, lat] = place(3, i);
    sensors_.push_back({id("FloodMonitoring", "HN-FL", i + 1, 3), "FloodMonitoring",
                        "Điểm đo ngập số " + std::to_string(i + 1), Feed::kFlood, i, lon, lat});
  }
  feed_start_[3] = static_cast<int>(sensors_.size());
  for (int i = 0; i < options_.parkings; ++i) {
    auto [lon, lat] = place(4, i);
    sensors_.push_back({id("OffStreetParking", "HN-PK", i + 1, 3), "OffStreetParking",
                        "Bãi đỗ xe số " + std::to_string(i + 1), Feed::kParking, i, lon, lat});
  }
  feed_start_[4] = static_cast<int>(sensors_.size());
  for (int i = 0; i < options_.streetlights; ++i) {
    auto [lon, lat] = place(5, i);
    sensors_.push_back({id("Streetlight", "HN-SL", i + 1, 5), "Streetlight",
                        "Đèn chiếu sáng số " + std::to_string(i + 1), Feed::kStreetlight, i, lon, lat});
  }
}

// ---------------------------------------------------------------------------------------------------
// Models.

double CityModel::Pm25(int station, int64_t t_ms) const {
  int64_t hour_start = t_ms - ((t_ms % kHourMs) + kHourMs) % kHourMs;
  double base = air_.At(hour_start);
  if (station == 0) return base;
  const uint64_t seed = options_.seed;
  double factor = 0.75 + 0.5 * Uniform(seed, 100, station);
  double noise = SmoothNoise(seed, 200 + station, hour_start, 3 * kHourMs);
  return std::max(1.0, Round(base * factor * (1 + 0.15 * noise), 0.1));
}

TrafficState CityModel::Traffic(int i, int64_t t_ms) const {
  const uint64_t seed = options_.seed;
  int capacity = 150 + static_cast<int>(450 * Uniform(seed, 300, i));  // vehicles per 5 minutes
  double free_speed = 35 + 20 * Uniform(seed, 301, i);
  double pressure = 0.8 + 0.5 * Uniform(seed, 302, i);
  if (Uniform(seed, 303, i) < 0.06) pressure *= 1.35;  // the city's known bottlenecks
  double x = TrafficDemand(t_ms) * pressure * (1 + 0.1 * SmoothNoise(seed, 304 + i, t_ms, 20 * 60 * 1000));
  x = std::clamp(x, 0.0, 1.4);
  TrafficState s;
  s.intensity = static_cast<int>(std::lround(capacity * std::min(x, 1.0)));
  s.average_speed_kmh =
      Round(std::max(3.0, free_speed * std::max(0.1, 1 - 0.75 * x * x * x) + 2 * SmoothNoise(seed, 305 + i, t_ms, 600'000)),
            0.1);
  s.occupancy = Round(std::min(0.98, 0.85 * x), 0.01);
  s.congested = s.average_speed_kmh < 15;
  return s;
}

double CityModel::RainMmPerHour(int64_t hour_index) const {
  const uint64_t seed = options_.seed;
  double rain = 0;
  // An event may start in each hour; it lasts 1–5 hours.
  for (int64_t start = hour_index - 4; start <= hour_index; ++start) {
    int month = Month(start * kHourMs);
    double p = (month >= 5 && month <= 10) ? 0.012 : 0.003;
    if (Uniform(seed, 400, static_cast<uint64_t>(start)) >= p) continue;
    int duration = 1 + static_cast<int>(5 * Uniform(seed, 401, static_cast<uint64_t>(start)));
    if (hour_index >= start + duration) continue;
    double u = Uniform(seed, 402, static_cast<uint64_t>(start));
    rain += 2 + 45 * u * u * u;
  }
  return rain;
}

double CityModel::BaseLevel(int g) const { return Round(0.05 + 0.1 * Uniform(options_.seed, 500, g), 0.01); }
double CityModel::AlertLevel(int g) const { return Round(0.35 + 0.15 * Uniform(options_.seed, 501, g), 0.05); }
double CityModel::DangerLevel(int g) const { return AlertLevel(g) + 0.3; }

double CityModel::WaterLevel(int g, int64_t t_ms) const {
  const uint64_t seed = options_.seed;
  double response = 0.004 + 0.004 * Uniform(seed, 502, g);  // metres per mm of recent rain
  double tau_hours = 4 + 8 * Uniform(seed, 503, g);          // how fast the street drains
  int64_t hour = t_ms >= 0 ? t_ms / kHourMs : (t_ms - kHourMs + 1) / kHourMs;
  double into_hour = static_cast<double>(t_ms - hour * kHourMs) / kHourMs;
  double acc = 0;
  for (int j = 0; j < 48; ++j) {
    double r = RainMmPerHour(hour - j);
    if (r == 0) continue;
    // The current hour counts for the part already fallen.
    double weight = j == 0 ? into_hour : 1.0;
    acc += r * weight * std::exp(-(j + (j == 0 ? 0 : into_hour - 0.5)) / tau_hours);
  }
  return Round(BaseLevel(g) + response * acc + 0.005 * SmoothNoise(seed, 504 + g, t_ms, 3'600'000), 0.01);
}

int CityModel::TotalSpots(int p) const { return 40 + 10 * static_cast<int>(76 * Uniform(options_.seed, 600, p)); }

int CityModel::OccupiedSpots(int p, int64_t t_ms) const {
  const uint64_t seed = options_.seed;
  double h = LocalHour(t_ms);
  bool weekend = Weekend(t_ms);
  double share;
  switch (Hash(seed, 601, p) % 3) {
    case 0:  // offices
      share = weekend ? 0.15 + 0.1 * Bump(h, 11, 3) : 0.1 + 0.8 * (Bump(h, 10, 2.2) + Bump(h, 15, 2.2)) / 1.2;
      break;
    case 1:  // shops and restaurants
      share = 0.1 + (weekend ? 0.8 : 0.6) * Bump(h, 19, 2.5) + 0.3 * Bump(h, 12, 1.5);
      break;
    default:  // residential
      share = 0.85 - 0.45 * (Bump(h, 10, 2.5) + Bump(h, 15, 2.5)) / 1.2 * (weekend ? 0.6 : 1.0);
  }
  share = std::clamp(share * (1 + 0.08 * SmoothNoise(seed, 602 + p, t_ms, 30 * 60 * 1000)), 0.0, 1.0);
  return static_cast<int>(std::lround(TotalSpots(p) * share));
}

// Lights follow the sun: on near 18:00 (17:20 in December, 18:40 in June), off near 06:00 (05:20 /
// 06:40 the other way round), each light a few minutes off the schedule.
int64_t CityModel::SwitchOnAt(int light, int64_t day) const {
  CivilDate d = CivilDateFromDays(day);
  int doy = static_cast<int>(day - DaysSinceEpoch({d.year, 1, 1}));
  double season = std::sin(2 * kPi * (doy - 80) / 365.0);  // +1 late June, -1 late December
  double minutes = 18 * 60 + 40 * season + 6 * (2 * Uniform(options_.seed, 700, light) - 1);
  return day * kDayMs - kLocalOffsetMs + static_cast<int64_t>(minutes * 60'000);
}
int64_t CityModel::SwitchOffAt(int light, int64_t day) const {
  CivilDate d = CivilDateFromDays(day);
  int doy = static_cast<int>(day - DaysSinceEpoch({d.year, 1, 1}));
  double season = std::sin(2 * kPi * (doy - 80) / 365.0);
  double minutes = 6 * 60 - 40 * season + 6 * (2 * Uniform(options_.seed, 701, light) - 1);
  return day * kDayMs - kLocalOffsetMs + static_cast<int64_t>(minutes * 60'000);
}

bool CityModel::LightOn(int light, int64_t t_ms) const {
  int64_t day = LocalDay(t_ms);
  return t_ms >= SwitchOnAt(light, day) || t_ms < SwitchOffAt(light, day);
}

// A lamp fails on about one night in 2,000 and is repaired within three days.
bool CityModel::LampDefective(int light, int64_t t_ms) const {
  int64_t day = LocalDay(t_ms);
  for (int64_t d = day - 2; d <= day; ++d) {
    if (Uniform(options_.seed, 702, light, static_cast<uint64_t>(d)) < 0.0005) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Entities and observations.

json CityModel::Observation(const Sensor& s, int64_t t) const {
  switch (s.feed) {
    case Feed::kAir: {
      double pm25 = Pm25(s.index, t);
      int aqi = AqiOfPm25(pm25);
      double pm10 = Round(pm25 * (1.45 + 0.15 * SmoothNoise(options_.seed, 800 + s.index, t, 6 * kHourMs)), 0.1);
      double no2 = Round(12 + 38 * TrafficDemand(t) * (0.7 + 0.6 * Uniform(options_.seed, 801, s.index)) +
                             5 * SmoothNoise(options_.seed, 802 + s.index, t, 2 * kHourMs),
                         0.1);
      return {{"pm25", pm25}, {"pm10", pm10}, {"no2", std::max(1.0, no2)}, {"airQualityIndex", aqi},
              {"airQualityLevel", AqiLevel(aqi)}};
    }
    case Feed::kTraffic: {
      TrafficState st = Traffic(s.index, t);
      return {{"intensity", st.intensity}, {"averageVehicleSpeed", st.average_speed_kmh}, {"occupancy", st.occupancy},
              {"congested", st.congested}};
    }
    case Feed::kFlood: {
      double level = WaterLevel(s.index, t);
      const char* status = level >= DangerLevel(s.index) ? "danger" : level >= AlertLevel(s.index) ? "alert" : "normal";
      return {{"currentLevel", level}, {"floodLevelStatus", status}};
    }
    case Feed::kParking: {
      int total = TotalSpots(s.index), occupied = OccupiedSpots(s.index, t);
      return {{"availableSpotNumber", total - occupied}, {"occupiedSpotNumber", occupied},
              {"occupancy", Round(static_cast<double>(occupied) / total, 0.01)}};
    }
    case Feed::kStreetlight:
      return {{"powerState", LightOn(s.index, t) ? "on" : "off"},
              {"status", LampDefective(s.index, t) ? "defectiveLamp" : "ok"}};
  }
  return json::object();
}

json CityModel::Entity(const Sensor& s, int64_t t_ms) const {
  // The latest observation at or before t.
  int64_t step = s.feed == Feed::kAir ? kHourMs : kFiveMinutesMs;
  int64_t observed = t_ms - ((t_ms % step) + step) % step;
  std::string at = FormatRfc3339(observed);
  json e = {{"id", s.id},
            {"type", s.type},
            {"name", {{"type", "Property"}, {"value", s.name}}},
            {"location", {{"type", "GeoProperty"}, {"value", {{"type", "Point"}, {"coordinates", {s.lon, s.lat}}}}}}};
  const json observation = Observation(s, s.feed == Feed::kStreetlight ? t_ms : observed);
  for (const auto& [k, v] : observation.items()) {
    e[k] = Property(v, at, UnitOf(k));
  }
  switch (s.feed) {
    case Feed::kAir:
    case Feed::kTraffic:
      e["dateObserved"] = {{"type", "Property"}, {"value", at}};
      break;
    case Feed::kFlood:
      e["alertLevel"] = {{"type", "Property"}, {"value", AlertLevel(s.index)}, {"unitCode", "MTR"}};
      e["dangerLevel"] = {{"type", "Property"}, {"value", DangerLevel(s.index)}, {"unitCode", "MTR"}};
      e["referenceLevel"] = {{"type", "Property"}, {"value", BaseLevel(s.index)}, {"unitCode", "MTR"}};
      break;
    case Feed::kParking:
      e["totalSpotNumber"] = {{"type", "Property"}, {"value", TotalSpots(s.index)}};
      break;
    case Feed::kStreetlight:
      break;
  }
  return e;
}

void CityModel::StepMeasurements(int64_t from_ms, int64_t to_ms, std::vector<Measurement>& out) const {
  if (to_ms <= from_ms) return;
  struct Tick {
    int64_t at;
    Feed feed;
  };
  std::vector<Tick> ticks;
  auto every = [&](int64_t period, Feed feed) {
    int64_t first = from_ms - ((from_ms % period) + period) % period + period;  // first multiple > from
    for (int64_t t = first; t <= to_ms; t += period) ticks.push_back({t, feed});
  };
  every(kHourMs, Feed::kAir);
  every(kFiveMinutesMs, Feed::kTraffic);
  every(kFiveMinutesMs, Feed::kFlood);
  every(kFiveMinutesMs, Feed::kParking);
  std::stable_sort(ticks.begin(), ticks.end(), [](const Tick& a, const Tick& b) { return a.at < b.at; });
  auto feed_range = [&](Feed f) {
    int k = static_cast<int>(f);
    int begin = feed_start_[k];
    int end = k + 1 < 5 ? feed_start_[k + 1] : static_cast<int>(sensors_.size());
    return std::pair{begin, end};
  };
  // Street lights: their switches in (from, to], merged by time.
  std::vector<Measurement> lights;
  auto [lb, le] = feed_range(Feed::kStreetlight);
  if (le > lb) {
    for (int64_t day = LocalDay(from_ms) - 1; day <= LocalDay(to_ms); ++day) {
      for (int i = lb; i < le; ++i) {
        const Sensor& s = sensors_[i];
        for (int64_t at : {SwitchOffAt(s.index, day), SwitchOnAt(s.index, day)}) {
          if (at > from_ms && at <= to_ms) lights.push_back({&s, at, Observation(s, at)});
        }
      }
    }
    std::stable_sort(lights.begin(), lights.end(),
                     [](const Measurement& a, const Measurement& b) { return a.at_ms < b.at_ms; });
  }
  size_t next_light = 0;
  for (const Tick& tick : ticks) {
    while (next_light < lights.size() && lights[next_light].at_ms <= tick.at) out.push_back(std::move(lights[next_light++]));
    auto [b, e] = feed_range(tick.feed);
    for (int i = b; i < e; ++i) out.push_back({&sensors_[i], tick.at, Observation(sensors_[i], tick.at)});
  }
  while (next_light < lights.size()) out.push_back(std::move(lights[next_light++]));
}

nlohmann::json CityModel::Fragment(const Measurement& m) {
  std::string at = FormatRfc3339(m.at_ms);
  json f = {{"id", m.sensor->id}, {"type", m.sensor->type}};
  for (const auto& [k, v] : m.values.items()) f[k] = Property(v, at, UnitOf(k));
  if (m.sensor->feed == Feed::kAir || m.sensor->feed == Feed::kTraffic) {
    f["dateObserved"] = {{"type", "Property"}, {"value", at}};
  }
  return f;
}

void CityModel::Step(int64_t from_ms, int64_t to_ms, std::vector<json>& out) const {
  std::vector<Measurement> ms;
  StepMeasurements(from_ms, to_ms, ms);
  out.reserve(out.size() + ms.size());
  for (const auto& m : ms) out.push_back(Fragment(m));
}

}  // namespace tl::citysim
