// WriteHealth: whether the store accepts writes. A failed write that leaves
// the store in doubt (see tsdb_write_health.cc) blocks writes: appends then
// fail fast with kUnavailable, the background writers pause, queries go on,
// until Tsdb::TryResumeWrites lifts the block. Thread-safe; blocked() is a
// single atomic load, cheap enough for every append.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/metrics_registry.h"
#include "base/status.h"

namespace rocksdb {
class EventListener;
}  // namespace rocksdb

namespace vigil::storage {

class WriteHealth {
 public:
  // `data_dir` names the store in the reason of a block.
  explicit WriteHealth(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // Blocks writes because of `cause` (a no-op while already blocked); the
  // first cause is the reason Writable() reports.
  void Block(const Status& cause);
  // Lifts the block (the store resumed writing).
  void Unblock();
  bool blocked() const { return blocked_.load(std::memory_order_acquire); }
  // OK, or kUnavailable with the reason writes are blocked.
  Status Writable() const;
  // True when a resume attempt at `now_ms` is due: none was made yet, or the
  // last one is at least `backoff_ms` old. Records the attempt when due.
  bool TakeResumeAttempt(int64_t now_ms, int64_t backoff_ms);
  // The vigil_tsdb_writes_blocked and vigil_tsdb_write_blocks_total families.
  void WriteMetrics(MetricsWriter& w) const;

 private:
  const std::string data_dir_;
  std::atomic<bool> blocked_{false};
  std::atomic<uint64_t> blocks_{0};  // times writes got blocked
  std::atomic<int64_t> last_resume_attempt_ms_{0};
  mutable std::mutex mu_;
  std::string reason_;  // why writes are blocked; mu_
};

// True when `s` reports a full disk.
bool IsDiskFull(const Status& s);

// A RocksDB listener that turns background errors (a flush or compaction that
// hit a full disk) into blocked writes, and leaves recovery to the store
// (Tsdb::TryResumeWrites) instead of RocksDB's own.
std::shared_ptr<rocksdb::EventListener> NewRocksErrorListener(WriteHealth* health);

}  // namespace vigil::storage
