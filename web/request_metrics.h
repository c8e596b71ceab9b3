// RequestMetrics: per-handler HTTP counters, latency and response-size
// histograms, and the readiness gauge, exposed on /metrics under Prometheus's
// own names (prometheus_http_requests_total, prometheus_http_request_duration_seconds,
// prometheus_http_response_size_bytes, prometheus_ready) so existing dashboards work.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "base/metrics_registry.h"

namespace vigil::web {

class RequestMetrics {
 public:
  // Registers with MetricsRegistry::Global() until destroyed; `ready` is the
  // server's readiness flag, read at collection time.
  explicit RequestMetrics(const std::atomic<bool>* ready = nullptr);

  // One answered request: `handler` is the route pattern ("/api/v1/query"),
  // `bytes` the size of the response body.
  void Observe(const std::string& handler, int code, double seconds, size_t bytes);

 private:
  // Prometheus's buckets for prometheus_http_request_duration_seconds.
  static constexpr std::array<double, 9> kDurationBuckets = {0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120};
  // prometheus_http_response_size_bytes: exponential, 100 B to 1 GB (x10).
  static constexpr std::array<double, 8> kSizeBuckets = {1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  // One histogram of one handler; counts per bucket are not cumulative.
  template <size_t N>
  struct Histogram {
    std::array<uint64_t, N> buckets{};
    uint64_t count = 0;
    double sum = 0;
    void Observe(const std::array<double, N>& bounds, double v);
  };

  void Collect(MetricsWriter& w) const;
  template <size_t N>
  static void WriteHistogram(MetricsWriter& w, const std::string& name, const std::string& help,
                             const std::array<double, N>& bounds,
                             const std::map<std::string, Histogram<N>>& by_handler);

  const std::atomic<bool>* ready_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;             // (handler, code)
  std::map<std::string, Histogram<kDurationBuckets.size()>> durations_;  // by handler
  std::map<std::string, Histogram<kSizeBuckets.size()>> sizes_;          // by handler
  ScopedCollector collector_;
};

}  // namespace vigil::web
