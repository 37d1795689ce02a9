// A small city for the simulator's tests (3 air stations replaying the measured PM2.5, 4 intersections,
// 2 flood gauges, 2 car parks, 5 street lights): 16 sensors with the default seed.
#pragma once

#include <gtest/gtest.h>

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

}  // namespace tl::testing
