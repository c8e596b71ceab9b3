// InventoryMetrics: the six metrics the Inventory Manager exposes, kept in
// memory and rendered in the Prometheus text format 0.0.4.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace inventory {

class InventoryMetrics {
 public:
  // One handled request: counts it and observes its duration.
  void ObserveRequest(const std::string& method, const std::string& endpoint, int status,
                      double seconds);
  void CacheHit();
  void CacheMiss();
  void DbError();

  // The /metrics page; `items` is the current inventory_items_total.
  std::string Render(double items) const;

 private:
  // Histogram upper bounds in seconds (prom-client's defaults).
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};  // non-cumulative
  uint64_t duration_count_ = 0;
  double duration_sum_ = 0;
  uint64_t cache_hits_ = 0;
  uint64_t cache_misses_ = 0;
  uint64_t db_errors_ = 0;
};

}  // namespace inventory
