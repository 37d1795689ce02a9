#include "http/metrics.h"

#include <fmt/format.h>

#include <set>

namespace tl::http {

void Metrics::Observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto& s = series_[{method, route, status}];
  s.count++;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) s.buckets[i]++;
  }
}

void Metrics::AddExternal(External e) {
  std::lock_guard lock(mu_);
  external_.push_back(std::move(e));
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP thanglong_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE thanglong_http_requests_total counter\n";
  for (const auto& [k, s] : series_) {
    const auto& [method, route, status] = k;
    out += fmt::format("thanglong_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", method, route,
                       status, s.count);
  }
  out += "# HELP thanglong_http_request_duration_seconds HTTP request latency by route and status.\n";
  out += "# TYPE thanglong_http_request_duration_seconds histogram\n";
  for (const auto& [k, s] : series_) {
    const auto& [method, route, status] = k;
    std::string labels = fmt::format("method=\"{}\",route=\"{}\",status=\"{}\"", method, route, status);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("thanglong_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels, kBuckets[i],
                         s.buckets[i]);
    }
    out += fmt::format("thanglong_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, s.count);
    out += fmt::format("thanglong_http_request_duration_seconds_sum{{{}}} {}\n", labels, s.sum);
    out += fmt::format("thanglong_http_request_duration_seconds_count{{{}}} {}\n", labels, s.count);
  }
  std::set<std::string> described;
  for (const auto& e : external_) {
    if (described.insert(e.name).second) out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", e.name, e.help, e.name, e.type);
    if (e.labels.empty()) {
      out += fmt::format("{} {}\n", e.name, e.read());
    } else {
      out += fmt::format("{}{{{}}} {}\n", e.name, e.labels, e.read());
    }
  }
  return out;
}

}  // namespace tl::http
