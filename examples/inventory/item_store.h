// ItemStore: the demo's stand-in for MongoDB behind a Redis cache. Items live
// in memory; reads go through a small cache (hits and misses are counted) and
// a configurable fraction of database calls fail, so the error metrics move.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "examples/inventory/inventory_metrics.h"

namespace inventory {

struct Item {
  int64_t id = 0;
  std::string name;
  double unit_price = 0;
  int64_t quantity = 0;
};

enum class StoreError { kNone, kNotFound, kDatabase };

class ItemStore {
 public:
  ItemStore(InventoryMetrics* metrics, double db_error_rate, uint64_t seed);

  std::vector<Item> List(StoreError* error);
  std::optional<Item> Get(int64_t id, StoreError* error);
  std::optional<Item> Create(Item item, StoreError* error);
  std::optional<Item> Update(int64_t id, const Item& item, StoreError* error);
  bool Delete(int64_t id, StoreError* error);

  size_t size() const;
  // A simulated database latency in seconds for one call (log-normal-ish).
  double SampleLatency();

 private:
  // True when the simulated database call fails (and counts it).
  bool DbFails();

  InventoryMetrics* metrics_;
  const double db_error_rate_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<int64_t, Item> items_;
  std::set<int64_t> cached_;  // ids whose last read is "in Redis"
  int64_t next_id_ = 1;
};

}  // namespace inventory
