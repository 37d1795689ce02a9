#include "modules/citysim/air_series.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <string_view>

#include "core/civil_date.h"

namespace tl::citysim {
namespace {

constexpr int kSlots = 366 * 24;
constexpr int64_t kHanoiOffsetMs = 7LL * 3600 * 1000;
// A year counts as measured when at least this share of its hours holds a value.
constexpr double kCompleteShare = 0.9;

// Day of a leap year (0-based) of month/day, so every calendar day has one slot.
int LeapDayIndex(int month, int day) {
  static constexpr std::array<int, 12> kBefore = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335};
  return kBefore[month - 1] + day - 1;
}

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<AirSeries> AirSeries::Load(const std::vector<std::string>& csv_paths) {
  std::map<int, std::vector<double>> by_year;  // NaN-free: negative = missing
  for (const auto& path : csv_paths) {
    std::ifstream in(path);
    if (!in) return InvalidArgument("cannot read " + path, "air_quality_file");
    std::string line;
    if (!std::getline(in, line) || line.rfind("Site,Parameter,Date", 0) != 0) {
      return InvalidArgument(path + " is not the station's hourly CSV (header Site,Parameter,Date (LT),...)",
                             "air_quality_file");
    }
    int line_no = 1;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line == "\r") continue;
      auto f = SplitCsv(line);
      int year = 0, month = 0, day = 0, hour = 0;
      double raw = 0;
      if (f.size() < 11 || !ParseNumber(f[3], year) || !ParseNumber(f[4], month) || !ParseNumber(f[5], day) ||
          !ParseNumber(f[6], hour) || !ParseNumber(f[10], raw) || !IsValidCivilDate(year, month, day) || hour < 0 ||
          hour > 23) {
        return InvalidArgument(path + " line " + std::to_string(line_no) + ": not an hourly PM2.5 row",
                               "air_quality_file");
      }
      auto& slots = by_year[year];
      if (slots.empty()) slots.assign(kSlots, -1.0);
      if (raw >= 0) slots[LeapDayIndex(month, day) * 24 + hour] = raw;
    }
  }
  AirSeries series;
  for (auto& [year, slots] : by_year) {
    if (!IsLeapYear(year)) {  // 29 February replays the 28th
      int feb28 = LeapDayIndex(2, 28) * 24, feb29 = LeapDayIndex(2, 29) * 24;
      std::copy_n(slots.begin() + feb28, 24, slots.begin() + feb29);
    }
    int days = IsLeapYear(year) ? 366 : 365;
    int valid = static_cast<int>(std::count_if(slots.begin(), slots.end(), [](double v) { return v >= 0; }));
    if (valid < kCompleteShare * days * 24) continue;
    // A missing hour takes the nearest measured hour before it, else the first one after it.
    double last = -1;
    for (double& v : slots) {
      if (v >= 0) last = v;
      else v = last;
    }
    auto first = std::find_if(slots.begin(), slots.end(), [](double v) { return v >= 0; });
    for (auto it = slots.begin(); it != first; ++it) *it = *first;
    series.years_.push_back({year, std::move(slots)});
  }
  if (series.years_.empty()) {
    return InvalidArgument("no file holds a complete year of hourly PM2.5", "air_quality_file");
  }
  return series;
}

double AirSeries::At(int64_t unix_ms) const {
  int64_t local = unix_ms + kHanoiOffsetMs;
  int64_t days = local >= 0 ? local / 86'400'000 : (local - 86'399'999) / 86'400'000;
  int hour = static_cast<int>((local - days * 86'400'000) / 3'600'000);
  CivilDate d = CivilDateFromDays(days);
  int n = static_cast<int>(years_.size());
  const Year& y = years_[((d.year % n) + n) % n];
  return y.hours[LeapDayIndex(d.month, d.day) * 24 + hour];
}

std::vector<int> AirSeries::Years() const {
  std::vector<int> out;
  for (const auto& y : years_) out.push_back(y.year);
  return out;
}

}  // namespace tl::citysim
