// Write health: what the store does when the disk fills up or a write fails.
// A failed write that leaves the store in doubt blocks writes: any failed
// RocksDB write (foreground or background), a WAL whose durability is unknown
// (a failed fsync poisoned the writer), or a failed WAL write on a disk short
// of space. Appends then fail fast with kUnavailable (scrapes report it,
// remote write answers 503 so senders retry), background writers pause so
// that nothing writes through a RocksDB writer that already failed, and
// queries keep reading. A failed WAL write that the WAL cut off again, on a
// disk with room, fails only its own commit (the WAL stays whole, so the next
// commit may simply try). The maintenance thread lifts the block, at most once
// per TsdbTuning::wal_recovery_backoff_ms, once the file system has room:
// RocksDB's DB::Resume(), then WalWriter::Cut(), which is also the WAL's own
// recovery (a poisoned writer rewrites its unsynced commits into a new,
// synced segment; a healthy one starts a fresh segment, so a record torn by
// the failure ends the old one), then the flusher catches up. Acknowledged
// samples stay in the head and the WAL throughout.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <sys/statvfs.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "base/logger.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

// Free space needed before writes are tried again: room for a memtable flush
// and a WAL segment's first records.
constexpr uint64_t kResumeMinFreeBytes = 4u << 20;

uint64_t FreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

bool IsDiskFull(const Status& s) {
  return s.message().find("No space left") != std::string::npos ||
         s.message().find("no space left") != std::string::npos;
}

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

}  // namespace

// Turns RocksDB's background errors (a flush or compaction that hit a full
// disk) into blocked writes; Tsdb::TryResumeWrites calls DB::Resume().
class RocksErrorListener final : public rocksdb::EventListener {
 public:
  explicit RocksErrorListener(Tsdb* db) : db_(db) {}

  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    db_->BlockWrites(FromRocks(*error, std::string("RocksDB ") + BackgroundReasonName(reason)));
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
  Tsdb* db_;
};

namespace {

// RocksDB's info log, sent to Vigil's log (warnings and errors only) instead
// of a LOG file in the data directory: on a full disk RocksDB 7.8's file
// logger writes through its failed writer on the next line and aborts on an
// assertion (WritableFileWriter::AssertFalseAndGetStatusForPrevError).
class RocksInfoLogger final : public rocksdb::Logger {
 public:
  RocksInfoLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      VLOG_ERROR("RocksDB", {{"msg", buf}});
    } else {
      VLOG_WARN("RocksDB", {{"msg", buf}});
    }
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewRocksInfoLogger() { return std::make_shared<RocksInfoLogger>(); }

std::shared_ptr<rocksdb::EventListener> NewRocksErrorListener(Tsdb* db) {
  return std::make_shared<RocksErrorListener>(db);
}

void Tsdb::BlockWrites(const Status& cause) {
  std::lock_guard lock(write_health_mu_);
  if (writes_blocked_.load(std::memory_order_relaxed)) return;
  write_block_reason_ =
      (IsDiskFull(cause) ? "disk full in " + options_.path + ": " : std::string("write failed: ")) +
      cause.message();
  writes_blocked_.store(true, std::memory_order_release);
  write_failures_.fetch_add(1, std::memory_order_relaxed);
  VLOG_ERROR("Storage writes blocked: appends are refused until the cause is fixed; queries go on",
             {{"reason", write_block_reason_}});
}

void Tsdb::NoteWriteFailure(const Status& s) {
  if (s.code() == StatusCode::kIOError) BlockWrites(s);
}

void Tsdb::NoteWalFailure(const Status& s) {
  if (s.code() != StatusCode::kIOError) return;
  if (wal_->healthy() && FreeBytes(options_.path) >= kResumeMinFreeBytes) {
    VLOG_WARN("WAL write failed and was cut off again; only this commit failed",
              {{"err", s.ToString()}});
    return;
  }
  BlockWrites(s);
}

Status Tsdb::Writable() const {
  if (!writes_blocked()) return Status::OK();
  std::lock_guard lock(write_health_mu_);
  return Status::Unavailable("storage is not writable: " + write_block_reason_);
}

Status Tsdb::TryResumeWrites() {
  if (!writes_blocked() || !db_ || !wal_) return Writable();
  const int64_t now = options_.clock->NowMillis();
  if (now - last_resume_attempt_ms_.load() < tuning_.wal_recovery_backoff_ms &&
      last_resume_attempt_ms_.load() != 0) {
    return Writable();
  }
  last_resume_attempt_ms_ = now;
  if (FreeBytes(options_.path) < kResumeMinFreeBytes) return Writable();
  std::lock_guard admin(admin_mu_);
  const rocksdb::Status resumed = db_->Resume();
  if (!resumed.ok()) {
    VLOG_WARN("Storage still not writable: RocksDB did not resume", {{"err", resumed.ToString()}});
    return Writable();
  }
  {
    std::unique_lock barrier(commit_barrier_);
    // Also the WAL's recovery when a failed fsync poisoned it.
    const auto cut = wal_->Cut();
    if (!cut.ok()) {
      VLOG_WARN("Storage still not writable: cannot start a WAL segment", {{"err", cut.status().ToString()}});
      return Writable();
    }
    std::lock_guard lock(write_health_mu_);
    write_block_reason_.clear();
    writes_blocked_.store(false, std::memory_order_release);
  }
  VLOG_INFO("Storage writable again: appends resumed", {{"path", options_.path}});
  const Status flushed = FlushClosedChunks();
  if (!flushed.ok()) NoteWriteFailure(flushed);
  return Writable();
}

void Tsdb::RegisterWriteHealthMetrics(MetricsWriter& w) const {
  w.Family("vigil_tsdb_writes_blocked", "gauge",
           "1 while the store refuses appends because a write failed (reason: disk_full or "
           "io_error); it resumes by itself once writes succeed again.");
  if (!writes_blocked()) {
    w.Sample("vigil_tsdb_writes_blocked", 0);
  } else {
    std::lock_guard lock(write_health_mu_);
    const bool full = write_block_reason_.starts_with("disk full");
    w.Sample("vigil_tsdb_writes_blocked", Labels({{"reason", full ? "disk_full" : "io_error"}}), 1);
  }
  w.Family("vigil_tsdb_write_blocks_total", "counter",
           "Times the store started refusing appends because a write failed.");
  w.Sample("vigil_tsdb_write_blocks_total", static_cast<double>(write_failures_.load()));
  w.Family("vigil_tsdb_too_far_in_future_samples_total", "counter",
           "Samples refused because their timestamp was further ahead of the wall clock than "
           "--storage.tsdb.max-time-ahead.");
  w.Sample("vigil_tsdb_too_far_in_future_samples_total",
           static_cast<double>(too_far_in_future_.load()));
}

Status Tsdb::FlushMemtables() {
  rocksdb::FlushOptions options;
  options.wait = true;
  const Status s = FromRocks(db_->Flush(options, cfs_), "flushing memtables");
  NoteWriteFailure(s);
  return s;
}

}  // namespace vigil::storage
