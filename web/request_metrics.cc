#include "web/request_metrics.h"

namespace vigil::web {

RequestMetrics::RequestMetrics(const std::atomic<bool>* ready)
    : ready_(ready), collector_([this](MetricsWriter& w) { Collect(w); }) {}

template <size_t N>
void RequestMetrics::Histogram<N>::Observe(const std::array<double, N>& bounds, double v) {
  for (size_t i = 0; i < N; ++i) {
    if (v <= bounds[i]) {
      ++buckets[i];
      break;
    }
  }
  ++count;
  sum += v;
}

void RequestMetrics::Observe(const std::string& handler, int code, double seconds, size_t bytes) {
  const std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{handler, code}];
  durations_[handler].Observe(kDurationBuckets, seconds);
  sizes_[handler].Observe(kSizeBuckets, static_cast<double>(bytes));
}

template <size_t N>
void RequestMetrics::WriteHistogram(MetricsWriter& w, const std::string& name,
                                    const std::string& help, const std::array<double, N>& bounds,
                                    const std::map<std::string, Histogram<N>>& by_handler) {
  w.Family(name, "histogram", help);
  for (const auto& [handler, h] : by_handler) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N; ++i) {
      cumulative += h.buckets[i];
      w.Sample(name + "_bucket", Labels{{"handler", handler}, {"le", FormatFloat(bounds[i])}},
               static_cast<double>(cumulative));
    }
    w.Sample(name + "_bucket", Labels{{"handler", handler}, {"le", "+Inf"}},
             static_cast<double>(h.count));
    w.Sample(name + "_sum", Labels{{"handler", handler}}, h.sum);
    w.Sample(name + "_count", Labels{{"handler", handler}}, static_cast<double>(h.count));
  }
}

void RequestMetrics::Collect(MetricsWriter& w) const {
  if (ready_ != nullptr) {
    w.Family("prometheus_ready", "gauge",
             "Whether Prometheus startup was fully completed and the server is ready for normal "
             "operation.");
    w.Sample("prometheus_ready", Labels{}, ready_->load() ? 1 : 0);
  }
  const std::lock_guard<std::mutex> lock(mu_);
  w.Family("prometheus_http_requests_total", "counter", "Counter of HTTP requests.");
  for (const auto& [key, count] : requests_) {
    w.Sample("prometheus_http_requests_total",
             Labels{{"code", std::to_string(key.second)}, {"handler", key.first}},
             static_cast<double>(count));
  }
  WriteHistogram(w, "prometheus_http_request_duration_seconds",
                 "Histogram of latencies for HTTP requests.", kDurationBuckets, durations_);
  WriteHistogram(w, "prometheus_http_response_size_bytes",
                 "Histogram of response size for HTTP requests.", kSizeBuckets, sizes_);
}

}  // namespace vigil::web
