// TsdbCounters: the store's event counters and sample time bounds, updated
// lock-free by the append, flush, head GC and replay paths and read by
// Tsdb::Stats (/api/v1/status/tsdb) and the store's /metrics families
// (tsdb_stats.cc). Retention counts its own passes (storage/retention.h),
// write health its blocks (storage/write_health.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "storage/storage.h"

namespace vigil::storage {

struct TsdbCounters {
  std::atomic<int64_t> min_time{kMaxTime};  // oldest sample in the store
  std::atomic<int64_t> max_time{kMinTime};  // newest sample in the store
  std::atomic<uint64_t> samples_appended{0};
  std::atomic<uint64_t> out_of_order{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> out_of_bounds{0};      // too old, or too far in the future
  std::atomic<uint64_t> too_far_in_future{0};  // also counted in out_of_bounds
  std::atomic<uint64_t> chunks_flushed{0};
  std::atomic<uint64_t> head_series_removed{0};
  std::atomic<uint64_t> wal_corruptions{0};
  std::atomic<uint64_t> wal_writes_failed{0};
};

// Lowers `a` to `v` when `v` is smaller (relaxed; a time bound).
inline void AtomicMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// Raises `a` to `v` when `v` is larger (relaxed; a time bound, a next ref).
template <typename T>
inline void AtomicMax(std::atomic<T>& a, std::type_identity_t<T> v) {
  T cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

}  // namespace vigil::storage
