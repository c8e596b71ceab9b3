// PartitionSet: the time partitions that hold chunks on disk, shared by the
// flusher and historical appends (which add partitions), retention (which
// drops them) and queries (which visit them). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

namespace vigil::storage {

class PartitionSet {
 public:
  template <typename It>
  void Insert(It first, It last) {
    std::lock_guard lock(mu_);
    partitions_.insert(first, last);
  }
  void Insert(int64_t partition) {
    std::lock_guard lock(mu_);
    partitions_.insert(partition);
  }

  // Removes partitions first..last (inclusive); returns the oldest partition
  // left, if any.
  std::optional<int64_t> Erase(int64_t first, int64_t last) {
    std::lock_guard lock(mu_);
    partitions_.erase(partitions_.lower_bound(first), partitions_.upper_bound(last));
    if (partitions_.empty()) return std::nullopt;
    return *partitions_.begin();
  }

  // The partitions, ascending.
  std::vector<int64_t> List() const {
    std::lock_guard lock(mu_);
    return {partitions_.begin(), partitions_.end()};
  }

 private:
  mutable std::mutex mu_;
  std::set<int64_t> partitions_;
};

}  // namespace vigil::storage
