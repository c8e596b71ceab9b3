#include "examples/inventory/item_store.h"

#include <cmath>

namespace inventory {

ItemStore::ItemStore(InventoryMetrics* metrics, double db_error_rate, uint64_t seed)
    : metrics_(metrics), db_error_rate_(db_error_rate), rng_(seed) {}

bool ItemStore::DbFails() {
  std::uniform_real_distribution<double> u(0, 1);
  if (u(rng_) >= db_error_rate_) return false;
  metrics_->DbError();
  return true;
}

double ItemStore::SampleLatency() {
  const std::lock_guard<std::mutex> lock(mu_);
  // Median ~20 ms with a long tail, like a service with a database behind it.
  std::lognormal_distribution<double> latency(std::log(0.02), 0.8);
  return latency(rng_);
}

size_t ItemStore::size() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

std::vector<Item> ItemStore::List(StoreError* error) {
  const std::lock_guard<std::mutex> lock(mu_);
  *error = DbFails() ? StoreError::kDatabase : StoreError::kNone;
  if (*error != StoreError::kNone) return {};
  std::vector<Item> out;
  for (const auto& [id, item] : items_) out.push_back(item);
  return out;
}

std::optional<Item> ItemStore::Get(int64_t id, StoreError* error) {
  const std::lock_guard<std::mutex> lock(mu_);
  *error = StoreError::kNone;
  if (cached_.count(id) > 0) {
    metrics_->CacheHit();
  } else {
    metrics_->CacheMiss();
    if (DbFails()) {
      *error = StoreError::kDatabase;
      return std::nullopt;
    }
  }
  const auto it = items_.find(id);
  if (it == items_.end()) {
    *error = StoreError::kNotFound;
    return std::nullopt;
  }
  cached_.insert(id);
  return it->second;
}

std::optional<Item> ItemStore::Create(Item item, StoreError* error) {
  const std::lock_guard<std::mutex> lock(mu_);
  *error = DbFails() ? StoreError::kDatabase : StoreError::kNone;
  if (*error != StoreError::kNone) return std::nullopt;
  item.id = next_id_++;
  items_[item.id] = item;
  return item;
}

std::optional<Item> ItemStore::Update(int64_t id, const Item& item, StoreError* error) {
  const std::lock_guard<std::mutex> lock(mu_);
  *error = DbFails() ? StoreError::kDatabase : StoreError::kNone;
  if (*error != StoreError::kNone) return std::nullopt;
  const auto it = items_.find(id);
  if (it == items_.end()) {
    *error = StoreError::kNotFound;
    return std::nullopt;
  }
  it->second = item;
  it->second.id = id;
  cached_.erase(id);  // write-through invalidation
  return it->second;
}

bool ItemStore::Delete(int64_t id, StoreError* error) {
  const std::lock_guard<std::mutex> lock(mu_);
  *error = DbFails() ? StoreError::kDatabase : StoreError::kNone;
  if (*error != StoreError::kNone) return false;
  cached_.erase(id);
  if (items_.erase(id) == 0) {
    *error = StoreError::kNotFound;
    return false;
  }
  return true;
}

}  // namespace inventory
