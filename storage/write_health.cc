#include "storage/write_health.h"

#include <rocksdb/listener.h>

#include "base/logger.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

const char* BackgroundReasonName(rocksdb::BackgroundErrorReason r) {
  switch (r) {
    case rocksdb::BackgroundErrorReason::kFlush: return "flush";
    case rocksdb::BackgroundErrorReason::kCompaction: return "compaction";
    case rocksdb::BackgroundErrorReason::kWriteCallback: return "write";
    case rocksdb::BackgroundErrorReason::kMemTable: return "memtable";
    case rocksdb::BackgroundErrorReason::kManifestWrite: return "manifest write";
    case rocksdb::BackgroundErrorReason::kFlushNoWAL: return "flush";
    case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL: return "manifest write";
  }
  return "background work";
}

class RocksErrorListener final : public rocksdb::EventListener {
 public:
  explicit RocksErrorListener(WriteHealth* health) : health_(health) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    health_->Block(FromRocks(*error, std::string("RocksDB ") + BackgroundReasonName(reason)));
  }

  // RocksDB's own recovery from NoSpace waits for as much free space as a
  // memtable can hold (64 MiB), which a small disk never has, and keeps
  // DB::Resume() busy meanwhile: Tsdb::TryResumeWrites resumes instead.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    if (auto_recovery != nullptr) *auto_recovery = false;
  }

  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    VLOG_INFO("RocksDB background error recovery ended",
              {{"old_err", info.old_bg_error.ToString()}, {"new_err", info.new_bg_error.ToString()}});
  }

 private:
  WriteHealth* health_;
};

}  // namespace

bool IsDiskFull(const Status& s) {
  return s.message().find("No space left") != std::string::npos ||
         s.message().find("no space left") != std::string::npos;
}

std::shared_ptr<rocksdb::EventListener> NewRocksErrorListener(WriteHealth* health) {
  return std::make_shared<RocksErrorListener>(health);
}

void WriteHealth::Block(const Status& cause) {
  std::lock_guard lock(mu_);
  if (blocked_.load(std::memory_order_relaxed)) return;
  reason_ = (IsDiskFull(cause) ? "disk full in " + data_dir_ + ": " : std::string("write failed: ")) +
            cause.message();
  blocked_.store(true, std::memory_order_release);
  blocks_.fetch_add(1, std::memory_order_relaxed);
  VLOG_ERROR("Storage writes blocked: appends are refused until the cause is fixed; queries go on",
             {{"reason", reason_}});
}

void WriteHealth::Unblock() {
  std::lock_guard lock(mu_);
  reason_.clear();
  blocked_.store(false, std::memory_order_release);
}

Status WriteHealth::Writable() const {
  if (!blocked()) return Status::OK();
  std::lock_guard lock(mu_);
  return Status::Unavailable("storage is not writable: " + reason_);
}

bool WriteHealth::TakeResumeAttempt(int64_t now_ms, int64_t backoff_ms) {
  const int64_t last = last_resume_attempt_ms_.load();
  if (last != 0 && now_ms - last < backoff_ms) return false;
  last_resume_attempt_ms_ = now_ms;
  return true;
}

void WriteHealth::WriteMetrics(MetricsWriter& w) const {
  w.Family("vigil_tsdb_writes_blocked", "gauge",
           "1 while the store refuses appends because a write failed (reason: disk_full or "
           "io_error); it resumes by itself once writes succeed again.");
  if (!blocked()) {
    w.Sample("vigil_tsdb_writes_blocked", 0);
  } else {
    std::lock_guard lock(mu_);
    const bool full = reason_.starts_with("disk full");
    w.Sample("vigil_tsdb_writes_blocked", Labels({{"reason", full ? "disk_full" : "io_error"}}), 1);
  }
  w.Family("vigil_tsdb_write_blocks_total", "counter",
           "Times the store started refusing appends because a write failed.");
  w.Sample("vigil_tsdb_write_blocks_total", static_cast<double>(blocks_.load()));
}

}  // namespace vigil::storage
