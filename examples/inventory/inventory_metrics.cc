#include "examples/inventory/inventory_metrics.h"

#include "base/metrics_registry.h"

namespace inventory {

void InventoryMetrics::ObserveRequest(const std::string& method, const std::string& endpoint,
                                      int status, double seconds) {
  const std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{method, endpoint, status}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++bucket_counts_[i];
      break;
    }
  }
  ++duration_count_;
  duration_sum_ += seconds;
}

void InventoryMetrics::CacheHit() {
  const std::lock_guard<std::mutex> lock(mu_);
  ++cache_hits_;
}

void InventoryMetrics::CacheMiss() {
  const std::lock_guard<std::mutex> lock(mu_);
  ++cache_misses_;
}

void InventoryMetrics::DbError() {
  const std::lock_guard<std::mutex> lock(mu_);
  ++db_errors_;
}

std::string InventoryMetrics::Render(double items) const {
  using vigil::Labels;
  const std::lock_guard<std::mutex> lock(mu_);
  vigil::MetricsWriter w;
  w.Family("inventory_requests_total", "counter", "Total number of HTTP requests");
  for (const auto& [key, count] : requests_) {
    const auto& [method, endpoint, status] = key;
    w.Sample("inventory_requests_total",
             Labels{{"method", method}, {"endpoint", endpoint}, {"status", std::to_string(status)}},
             static_cast<double>(count));
  }
  w.Family("inventory_request_duration_seconds", "histogram",
           "Duration of HTTP requests in seconds");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += bucket_counts_[i];
    w.Sample("inventory_request_duration_seconds_bucket",
             Labels{{"le", vigil::FormatFloat(kBuckets[i])}}, static_cast<double>(cumulative));
  }
  w.Sample("inventory_request_duration_seconds_bucket", Labels{{"le", "+Inf"}},
           static_cast<double>(duration_count_));
  w.Sample("inventory_request_duration_seconds_sum", duration_sum_);
  w.Sample("inventory_request_duration_seconds_count", static_cast<double>(duration_count_));
  w.Family("inventory_items_total", "gauge", "Total number of items in the inventory");
  w.Sample("inventory_items_total", items);
  w.Family("inventory_cache_hits_total", "counter", "Total number of cache hits");
  w.Sample("inventory_cache_hits_total", static_cast<double>(cache_hits_));
  w.Family("inventory_cache_misses_total", "counter", "Total number of cache misses");
  w.Sample("inventory_cache_misses_total", static_cast<double>(cache_misses_));
  w.Family("inventory_db_errors_total", "counter", "Total number of database errors");
  w.Sample("inventory_db_errors_total", static_cast<double>(db_errors_));
  return w.text();
}

}  // namespace inventory
