// The city simulator's model over the real PM2.5 files in data/air-quality/: the replay of the
// measured station, the daily curves, rain and flooding, lights, determinism and the step's output.
#include "modules/citysim/city_model.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/civil_date.h"
#include "core/clock.h"

namespace tl::citysim {
namespace {

const std::string kRoot = THANGLONG_TEST_DATA_ROOT;

AirSeries LoadAir() {
  auto air = AirSeries::Load({kRoot + "/air-quality/hanoi-pm25-2016.csv", kRoot + "/air-quality/hanoi-pm25-2017.csv",
                              kRoot + "/air-quality/hanoi-pm25-2018.csv"});
  EXPECT_TRUE(air.ok()) << air.status().ToString();
  return std::move(*air);
}

// Unix ms of a Hà Nội local time.
int64_t Local(int y, int mo, int d, int h, int mi = 0) {
  return (DaysSinceEpoch({y, mo, d}) * 86400 + h * 3600 + mi * 60 - 7 * 3600) * 1000LL;
}

CityModel Model(CityOptions o = {}) {
  auto m = CityModel::Create(std::move(o), LoadAir());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(*m);
}

TEST(AirSeries, ReplaysTheMeasuredHourOfTheMatchingYear) {
  AirSeries air = LoadAir();
  EXPECT_EQ(air.Years(), (std::vector<int>{2016, 2017, 2018}));
  // data/air-quality/hanoi-pm25-2017.csv: 2017-01-01 23:00 raw 81.9; 2017-01-06 08:00 raw 35.0.
  EXPECT_DOUBLE_EQ(air.At(Local(2017, 1, 1, 23, 30)), 81.9);
  // 2017 % 3 == 1 replays 2017; 2020 (also % 3 == 1) replays the same hour of 2017.
  EXPECT_DOUBLE_EQ(air.At(Local(2020, 1, 1, 23)), 81.9);
  // The missing 09:00 takes the hour before it.
  EXPECT_DOUBLE_EQ(air.At(Local(2017, 1, 6, 9)), 35.0);
  // 29 February of a leap year replays the 28th of a year without one.
  EXPECT_DOUBLE_EQ(air.At(Local(2020, 2, 29, 12)), air.At(Local(2017, 2, 28, 12)));
}

TEST(AirSeries, RefusesAFileThatIsNotTheStationsCsv) {
  std::string path = ::testing::TempDir() + "/not-air.csv";
  std::ofstream(path) << "a,b,c\n1,2,3\n";
  auto air = AirSeries::Load({path});
  ASSERT_FALSE(air.ok());
  EXPECT_EQ(air.status().field(), "air_quality_file");
  std::ofstream(path) << "Site,Parameter,Date (LT),Year,Month,Day,Hour,NowCast Conc.,AQI,AQI Category,Raw Conc.\n"
                      << "Hanoi,PM2.5,x,2017,13,01,00,1,1,Good,1\n";
  air = AirSeries::Load({path});
  ASSERT_FALSE(air.ok());
  EXPECT_NE(air.status().message().find("line 2"), std::string::npos);
  auto none = AirSeries::Load({kRoot + "/air-quality/missing.csv"});
  EXPECT_FALSE(none.ok());
}

TEST(CityModel, AqiFollowsTheEpaBreakpoints) {
  EXPECT_EQ(AqiOfPm25(0), 0);
  EXPECT_EQ(AqiOfPm25(12.0), 50);
  EXPECT_EQ(AqiOfPm25(35.4), 100);
  EXPECT_EQ(AqiOfPm25(55.4), 150);
  EXPECT_EQ(AqiOfPm25(150.4), 200);
  EXPECT_EQ(AqiOfPm25(250.4), 300);
  EXPECT_EQ(AqiOfPm25(900), 500);
  EXPECT_STREQ(AqiLevel(AqiOfPm25(160)), "veryUnhealthy");
  EXPECT_STREQ(AqiLevel(AqiOfPm25(5)), "good");
}

TEST(CityModel, RefusesCountsOutOfRange) {
  CityOptions o;
  o.air_stations = 0;
  auto m = CityModel::Create(o, LoadAir());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "air_stations");
  o = {};
  o.streetlights = 100'001;
  m = CityModel::Create(o, LoadAir());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "streetlights");
  o = {};
  o.anchors = {{2.35, 48.85, 1}};  // Paris
  m = CityModel::Create(o, LoadAir());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().field(), "anchors");
}

TEST(CityModel, PlacesTheRequestedSensorsInsideHanoiWithUniqueIds) {
  CityModel m = Model();
  const auto& sensors = m.Sensors();
  ASSERT_EQ(sensors.size(), 12u + 500 + 30 + 200 + 10'000);
  std::set<std::string> ids;
  std::map<std::string, int> per_type;
  for (const auto& s : sensors) {
    ids.insert(s.id);
    per_type[s.type]++;
    EXPECT_GE(s.lon, 105.285);
    EXPECT_LE(s.lon, 106.02);
    EXPECT_GE(s.lat, 20.564);
    EXPECT_LE(s.lat, 21.386);
  }
  EXPECT_EQ(ids.size(), sensors.size());
  EXPECT_EQ(per_type["TrafficFlowObserved"], 500);
  EXPECT_EQ(per_type["Streetlight"], 10'000);
  EXPECT_EQ(sensors[0].id, "urn:ngsi-ld:AirQualityObserved:HN-AQ-US-EMBASSY");
}

TEST(CityModel, AnchorsGatherTheSensors) {
  CityOptions o;
  o.anchors = {{105.70, 21.20, 1}};
  CityModel m = Model(o);
  for (const auto& s : m.Sensors()) {
    if (s.index == 0 && s.feed == Feed::kAir) continue;  // the real station stays where it is
    EXPECT_NEAR(s.lon, 105.70, 0.06) << s.id;
    EXPECT_NEAR(s.lat, 21.20, 0.05) << s.id;
  }
}

TEST(CityModel, AnOutlineKeepsEverySensorInsideIt) {
  auto ring = LoadBoundary(kRoot + "/geo/hanoi-outline.geojson");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  // A small square around Hoàn Kiếm instead, so that the test shows the redraws work.
  CityOptions o;
  o.boundary = {{105.80, 21.00}, {105.90, 21.00}, {105.90, 21.06}, {105.80, 21.06}, {105.80, 21.00}};
  o.streetlights = 2000;
  CityModel m = Model(o);
  int outside = 0;
  for (const auto& s : m.Sensors()) outside += !(s.lon >= 105.80 && s.lon <= 105.90 && s.lat >= 21.00 && s.lat <= 21.06);
  EXPECT_EQ(outside, 0);  // the measured station (7 Láng Hạ) is inside this square too
  EXPECT_FALSE(LoadBoundary(kRoot + "/air-quality/README.md").ok());
}

TEST(CityModel, IsDeterministicPerSeed) {
  CityModel a = Model(), b = Model();
  CityOptions other;
  other.seed = 7;
  CityModel c = Model(other);
  int64_t t = Local(2026, 11, 23, 8, 5);
  EXPECT_EQ(a.Entity(a.Sensors()[100], t).dump(), b.Entity(b.Sensors()[100], t).dump());
  EXPECT_NE(a.Entity(a.Sensors()[100], t).dump(), c.Entity(c.Sensors()[100], t).dump());
}

TEST(CityModel, StationsFollowTheMeasuredSeries) {
  CityModel m = Model();
  int64_t t = Local(2017, 1, 1, 23, 10);
  EXPECT_DOUBLE_EQ(m.Pm25(0, t), 81.9);
  for (int s = 1; s < 12; ++s) {
    double v = m.Pm25(s, t);
    EXPECT_GE(v, 81.9 * 0.75 * 0.85 - 0.1) << s;
    EXPECT_LE(v, 81.9 * 1.25 * 1.15 + 0.1) << s;
  }
}

TEST(CityModel, TrafficPeaksOnWorkingDayMorningsAndIsLighterAtWeekends) {
  CityModel m = Model();
  // Monday 23 and Sunday 22 November 2026.
  double night = 0, peak = 0, sunday_peak = 0;
  int congested_peak = 0, congested_night = 0;
  for (int i = 0; i < 500; ++i) {
    auto n = m.Traffic(i, Local(2026, 11, 23, 3));
    auto p = m.Traffic(i, Local(2026, 11, 23, 8));
    auto w = m.Traffic(i, Local(2026, 11, 22, 8));
    night += n.intensity;
    peak += p.intensity;
    sunday_peak += w.intensity;
    congested_peak += p.congested;
    congested_night += n.congested;
    EXPECT_GE(n.average_speed_kmh, p.average_speed_kmh - 4) << i;
    EXPECT_EQ(p.congested, p.average_speed_kmh < 15);
  }
  EXPECT_GT(peak, 5 * night);
  EXPECT_LT(sunday_peak, 0.8 * peak);
  EXPECT_GT(congested_peak, 25);  // the rush hour jams some intersections
  EXPECT_EQ(congested_night, 0);
}

TEST(CityModel, RainRaisesGaugesAboveTheirAlertLevelInTheRainySeason) {
  CityModel m = Model();
  int alerts = 0;
  double dry_max = 0;
  for (int day = 1; day <= 92; ++day) {  // June to August 2026, every hour
    for (int h = 0; h < 24; ++h) {
      int64_t t = Local(2026, 6, 1, h) + (day - 1) * 86'400'000LL;
      for (int g = 0; g < 30; ++g) {
        auto e = m.Entity(m.Sensors()[12 + 500 + g], t);
        if (e["currentLevel"]["value"].get<double>() >= e["alertLevel"]["value"].get<double>()) ++alerts;
      }
    }
  }
  int dry_hours = 0;
  for (int h = 0; h < 24 * 60; ++h) {  // after two days without rain, gauges are back near their base
    int64_t t = Local(2026, 1, 1, 0) + h * 3'600'000LL;
    bool rained = false;
    for (int j = 0; j < 48; ++j) rained |= m.RainMmPerHour(t / 3'600'000 - j) > 0;
    if (rained) continue;
    ++dry_hours;
    dry_max = std::max(dry_max, m.WaterLevel(0, t));
  }
  EXPECT_GT(alerts, 0);
  EXPECT_GT(dry_hours, 100);
  EXPECT_LT(dry_max, 0.35);
}

TEST(CityModel, LightsAreOnAtNightAndOffAtNoon) {
  CityModel m = Model();
  int on_night = 0, on_noon = 0;
  for (int i = 0; i < 10'000; ++i) {
    on_night += m.LightOn(i, Local(2026, 11, 23, 22));
    on_noon += m.LightOn(i, Local(2026, 11, 23, 12));
  }
  EXPECT_EQ(on_night, 10'000);
  EXPECT_EQ(on_noon, 0);
}

TEST(CityModel, AStepYieldsEveryObservationOfItsPeriodInTimeOrder) {
  CityModel m = Model();
  int64_t from = Local(2026, 11, 23, 17, 0), to = Local(2026, 11, 23, 18, 0);
  std::vector<nlohmann::json> out;
  m.Step(from, to, out);
  std::map<std::string, int> per_type;
  std::string last;
  for (const auto& f : out) {
    per_type[f["type"].get<std::string>()]++;
    for (auto& [k, v] : f.items()) {
      if (k == "id" || k == "type" || k == "dateObserved") continue;
      std::string at = v["observedAt"].get<std::string>();
      EXPECT_GE(at, last) << f.dump();
      last = at;
      EXPECT_GT(at, FormatRfc3339(from));
      EXPECT_LE(at, FormatRfc3339(to));
    }
  }
  EXPECT_EQ(per_type["AirQualityObserved"], 12);        // one hourly observation
  EXPECT_EQ(per_type["TrafficFlowObserved"], 500 * 12);  // every 5 minutes
  EXPECT_EQ(per_type["FloodMonitoring"], 30 * 12);
  EXPECT_EQ(per_type["OffStreetParking"], 200 * 12);
  // Dusk in late November is near 17:25: every light switches on within this hour.
  EXPECT_EQ(per_type["Streetlight"], 10'000);
  // Consecutive steps cover a period exactly once.
  std::vector<nlohmann::json> a, b;
  m.Step(from, from + 1'800'000, a);
  m.Step(from + 1'800'000, to, b);
  EXPECT_EQ(a.size() + b.size(), out.size());
}

TEST(CityModel, EntitiesCarryTheSmartDataModelsAttributes) {
  CityModel m = Model();
  int64_t t = Local(2026, 11, 23, 9, 7);
  auto air = m.Entity(m.Sensors()[0], t);
  EXPECT_EQ(air["type"], "AirQualityObserved");
  EXPECT_EQ(air["location"]["value"]["type"], "Point");
  EXPECT_EQ(air["pm25"]["unitCode"], "GQ");
  EXPECT_EQ(air["pm25"]["observedAt"], FormatRfc3339(Local(2026, 11, 23, 9)));
  EXPECT_EQ(air["airQualityIndex"]["value"].get<int>(), AqiOfPm25(air["pm25"]["value"].get<double>()));
  auto park = m.Entity(m.Sensors()[12 + 500 + 30], t);
  EXPECT_EQ(park["type"], "OffStreetParking");
  int total = park["totalSpotNumber"]["value"], free = park["availableSpotNumber"]["value"];
  EXPECT_GE(free, 0);
  EXPECT_LE(free, total);
  EXPECT_EQ(free + park["occupiedSpotNumber"]["value"].get<int>(), total);
  auto light = m.Entity(m.Sensors().back(), t);
  EXPECT_EQ(light["powerState"]["value"], "off");
}

}  // namespace
}  // namespace tl::citysim
