// Retention: the store's time and size limits (the flags, or the values set
// at runtime and persisted), the pass that applies them, and the counts of
// what the passes removed. Whole time partitions leave the store, oldest
// first: by time once their last millisecond is older than the newest sample
// minus the retention, by size while the store is larger than the limit
// (never the partition of the newest sample). Per-metric retention rules
// (storage/retention_rules.h) remove matching series from a partition
// earlier. Nothing scans samples.
//
// Retention decides; a RetentionStore (the Tsdb) deletes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "base/labels.h"
#include "base/status.h"
#include "storage/storage.h"

namespace vigil::storage {

// The operations of the store a retention pass needs.
class RetentionStore {
 public:
  virtual ~RetentionStore() = default;
  // Partitions that hold chunks on disk, ascending.
  virtual std::vector<int64_t> Partitions() const = 0;
  // Deletes partitions first..last (inclusive) with their postings.
  virtual Status DropPartitions(int64_t first, int64_t last) = 0;
  // Bytes the store takes on disk (RocksDB's live files and the WAL).
  virtual uint64_t BytesOnDisk() const = 0;
  // Refs and labels of every series with samples in [mint, maxt].
  virtual Result<std::vector<std::pair<SeriesRef, Labels>>> SeriesInRange(int64_t mint,
                                                                          int64_t maxt) = 0;
  // Deletes the chunks and postings of `series` in `partition`, in one write.
  virtual Status DeleteSeriesInPartition(int64_t partition,
                                         const std::vector<std::pair<SeriesRef, Labels>>& series) = 0;
  // Persists limits set at runtime, so that they survive a restart.
  virtual Status PersistRetention(int64_t retention_ms, int64_t retention_bytes) = 0;
};

class Retention {
 public:
  // Limits and rules from `options`; `store` must outlive this object.
  Retention(const StorageOptions& options, int64_t partition_ms, RetentionStore* store);

  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Limits persisted by an earlier Set (read at open); they override the flags.
  void Restore(int64_t retention_ms, int64_t retention_bytes);
  // Persists and applies new limits (negative ones are refused).
  [[nodiscard]] Status Set(int64_t retention_ms, int64_t retention_bytes);
  RetentionSettings Get() const;

  // One retention pass, measuring from `newest` (the newest sample time, but
  // never ahead of the clock; kMinTime for an empty store). The caller
  // serializes passes with other deletions and checks that writes are not
  // blocked.
  [[nodiscard]] Status Apply(int64_t newest);

  // Counts for Stats and /metrics.
  int64_t last_run_ms() const { return last_run_ms_.load(); }  // clock time; 0 before the first pass
  uint64_t time_retentions() const { return time_retentions_.load(); }  // partitions dropped by time
  uint64_t size_retentions() const { return size_retentions_.load(); }  // partitions dropped by size
  // (partition, series) pairs removed by retention rules.
  uint64_t rule_deletions() const { return rule_deletions_.load(); }

 private:
  // Drops the partitions that every retention expired.
  [[nodiscard]] Status ApplyTime(int64_t newest, int64_t newest_partition);
  // Per-metric rules: removes matching series from partitions their
  // retention expired, before the partition itself goes.
  [[nodiscard]] Status ApplyRules(int64_t newest, int64_t newest_partition);
  // Drops the oldest partitions while the store is over the size limit.
  [[nodiscard]] Status ApplySize(int64_t newest_partition);

  const std::vector<RetentionRule> rules_;
  const Clock* const clock_;
  const int64_t partition_ms_;
  RetentionStore* const store_;
  std::atomic<int64_t> retention_ms_;
  std::atomic<int64_t> retention_bytes_;
  std::atomic<bool> from_runtime_{false};  // set at runtime (persisted), overriding the flags
  std::atomic<int64_t> last_run_ms_{0};
  std::atomic<uint64_t> time_retentions_{0};
  std::atomic<uint64_t> size_retentions_{0};
  std::atomic<uint64_t> rule_deletions_{0};
  // Partition -> distinct retentions already applied to it by ApplyRules;
  // only Apply touches it.
  std::map<int64_t, size_t> rule_passes_;
};

}  // namespace vigil::storage
