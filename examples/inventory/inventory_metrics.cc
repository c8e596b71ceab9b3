#include "examples/inventory/inventory_metrics.h"

#include <charconv>

namespace inventory {
namespace {

// Shortest round-trip digits ("0.005", not "0.0050000000000000001").
std::string Number(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

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
  const std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  Family(out, "inventory_requests_total", "counter", "Total number of HTTP requests");
  for (const auto& [key, count] : requests_) {
    const auto& [method, endpoint, status] = key;
    out += "inventory_requests_total{method=\"" + method + "\",endpoint=\"" + endpoint +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  Family(out, "inventory_request_duration_seconds", "histogram",
         "Duration of HTTP requests in seconds");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += bucket_counts_[i];
    out += "inventory_request_duration_seconds_bucket{le=\"" + Number(kBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += "inventory_request_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(duration_count_) + "\n";
  out += "inventory_request_duration_seconds_sum " + Number(duration_sum_) + "\n";
  out += "inventory_request_duration_seconds_count " + std::to_string(duration_count_) + "\n";
  Family(out, "inventory_items_total", "gauge", "Total number of items in the inventory");
  out += "inventory_items_total " + Number(items) + "\n";
  Family(out, "inventory_cache_hits_total", "counter", "Total number of cache hits");
  out += "inventory_cache_hits_total " + std::to_string(cache_hits_) + "\n";
  Family(out, "inventory_cache_misses_total", "counter", "Total number of cache misses");
  out += "inventory_cache_misses_total " + std::to_string(cache_misses_) + "\n";
  Family(out, "inventory_db_errors_total", "counter", "Total number of database errors");
  out += "inventory_db_errors_total " + std::to_string(db_errors_) + "\n";
  return out;
}

}  // namespace inventory
