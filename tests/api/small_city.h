// A small city for the simulator's tests (3 air stations replaying the measured PM2.5, 4 intersections,
// 2 flood gauges, 2 car parks, 5 street lights): 16 sensors with the default seed; and a run of it
// played as fast as the feed takes it.
#pragma once

#include <gtest/gtest.h>

#include <sstream>

#include "app/city_simulation.h"
#include "modules/citysim/city_model.h"
#include "tests/support/scratch_store.h"

namespace tl::testing {

inline citysim::CityModel SmallCity() {
  auto air = citysim::AirSeries::Load({DataRoot() + "/air-quality/hanoi-pm25-2016.csv",
                                       DataRoot() + "/air-quality/hanoi-pm25-2017.csv",
                                       DataRoot() + "/air-quality/hanoi-pm25-2018.csv"});
  EXPECT_TRUE(air.ok()) << air.status().ToString();
  citysim::CityOptions o;
  o.air_stations = 3;
  o.intersections = 4;
  o.flood_gauges = 2;
  o.parkings = 2;
  o.streetlights = 5;
  auto city = citysim::CityModel::Create(o, std::move(*air));
  EXPECT_TRUE(city.ok()) << city.status().ToString();
  return std::move(*city);
}

// `duration_ms` of simulated time from `start_ms`, at full speed, without progress lines.
inline app::CitySimulationOptions FastRun(int64_t start_ms, int64_t duration_ms) {
  app::CitySimulationOptions o;
  o.start_ms = start_ms;
  o.duration_ms = duration_ms;
  o.speed = 0;
  o.progress = false;
  return o;
}

inline Result<app::CitySimulationReport> Play(const citysim::CityModel& city, app::CityFeed& feed,
                                              const app::CitySimulationOptions& o) {
  std::ostringstream log;
  return app::SimulateCity(city, feed, o, [] { return false; }, log);
}

}  // namespace tl::testing
