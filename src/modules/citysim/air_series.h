// The measured hourly PM2.5 of Hà Nội's US Embassy station (data/air-quality/), for the city simulator
// to replay.
//
// Load() reads the station's CSV files (columns as in data/air-quality/README.md; "Raw Conc." is the
// hour's measurement, -999 a missing hour) into hourly values keyed by local (UTC+7) date and hour.
// At() answers for any instant: it takes the same month, day and hour of one of the loaded years,
// cycling through them by the instant's year (so consecutive simulated years replay different
// measured years), 29 February falling back to the 28th; a missing hour takes the nearest measured
// hour before it (within the year), else after it.
//
// Thread-safety: immutable after Load(); safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace tl::citysim {

class AirSeries {
 public:
  // Fails (InvalidArgument naming the file) on a file that is not the station's CSV, and when no
  // file holds a complete year.
  static Result<AirSeries> Load(const std::vector<std::string>& csv_paths);

  // PM2.5 in µg/m³ for the local hour containing `unix_ms`.
  double At(int64_t unix_ms) const;
  // The measured years held, ascending.
  std::vector<int> Years() const;

 private:
  struct Year {
    int year = 0;
    std::vector<double> hours;  // 366 × 24, indexed by (day of a leap year, 0-based) × 24 + hour
  };
  std::vector<Year> years_;
};

}  // namespace tl::citysim
