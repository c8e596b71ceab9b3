#include "web/request_metrics.h"

namespace vigil::web {

RequestMetrics::RequestMetrics() : collector_([this](MetricsWriter& w) { Collect(w); }) {}

void RequestMetrics::Observe(const std::string& handler, int code, double seconds) {
  const std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{handler, code}];
  Histogram& h = durations_[handler];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void RequestMetrics::Collect(MetricsWriter& w) const {
  const std::lock_guard<std::mutex> lock(mu_);
  w.Family("prometheus_http_requests_total", "counter", "Counter of HTTP requests.");
  for (const auto& [key, count] : requests_) {
    w.Sample("prometheus_http_requests_total",
             Labels{{"code", std::to_string(key.second)}, {"handler", key.first}},
             static_cast<double>(count));
  }
  w.Family("prometheus_http_request_duration_seconds", "histogram",
           "Histogram of latencies for HTTP requests.");
  for (const auto& [handler, h] : durations_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      w.Sample("prometheus_http_request_duration_seconds_bucket",
               Labels{{"handler", handler}, {"le", FormatFloat(kBuckets[i])}},
               static_cast<double>(cumulative));
    }
    w.Sample("prometheus_http_request_duration_seconds_bucket",
             Labels{{"handler", handler}, {"le", "+Inf"}}, static_cast<double>(h.count));
    w.Sample("prometheus_http_request_duration_seconds_sum", Labels{{"handler", handler}}, h.sum);
    w.Sample("prometheus_http_request_duration_seconds_count", Labels{{"handler", handler}},
             static_cast<double>(h.count));
  }
}

}  // namespace vigil::web
