// Prometheus metrics: request counts and latency histograms by route and status, plus gauges
// supplied by other components (storage pool, connections) at scrape time.
//
// Thread-safety: Observe() and Render() are safe from any thread (one mutex; a scrape or an
// observation holds it for microseconds).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace tl::http {

class Metrics {
 public:
  // A gauge or counter read at scrape time: name, help, type ("gauge"|"counter"), reader.
  struct External {
    std::string name;
    std::string help;
    std::string type;
    std::function<double()> read;
    // Optional labels of this series, e.g. `reason="json"`; series sharing a name share HELP and TYPE.
    std::string labels = {};
  };

  void Observe(const std::string& method, const std::string& route, int status, double seconds);
  void AddExternal(External e);
  std::string Render() const;

  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
  std::vector<External> external_;
};

}  // namespace tl::http
