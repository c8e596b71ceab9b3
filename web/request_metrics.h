// RequestMetrics: per-handler HTTP counters and latency histograms, exposed on
// /metrics under Prometheus's own names (prometheus_http_requests_total,
// prometheus_http_request_duration_seconds) so existing dashboards work.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "storage/metrics_registry.h"

namespace vigil::web {

class RequestMetrics {
 public:
  // Registers with MetricsRegistry::Global() until destroyed.
  RequestMetrics();

  // One answered request: `handler` is the route pattern ("/api/v1/query").
  void Observe(const std::string& handler, int code, double seconds);

 private:
  // Prometheus's buckets for prometheus_http_request_duration_seconds.
  static constexpr std::array<double, 9> kBuckets = {0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };

  void Collect(MetricsWriter& w) const;

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (handler, code)
  std::map<std::string, Histogram> durations_;                // by handler
  ScopedCollector collector_;
};

}  // namespace vigil::web
