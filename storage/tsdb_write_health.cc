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
#include <sys/statvfs.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "base/logger.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"
#include "storage/write_health.h"

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

void Tsdb::NoteWriteFailure(const Status& s) {
  if (s.code() == StatusCode::kIOError) health_.Block(s);
}

void Tsdb::NoteWalFailure(const Status& s) {
  if (s.code() != StatusCode::kIOError) return;
  if (wal_->healthy() && FreeBytes(options_.path) >= kResumeMinFreeBytes) {
    VLOG_WARN("WAL write failed and was cut off again; only this commit failed",
              {{"err", s.ToString()}});
    return;
  }
  health_.Block(s);
}

Status Tsdb::Writable() const { return health_.Writable(); }

Status Tsdb::TryResumeWrites() {
  if (!writes_blocked() || !db_ || !wal_) return Writable();
  if (!health_.TakeResumeAttempt(options_.clock->NowMillis(), tuning_.wal_recovery_backoff_ms)) {
    return Writable();
  }
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
    health_.Unblock();
  }
  VLOG_INFO("Storage writable again: appends resumed", {{"path", options_.path}});
  const Status flushed = FlushClosedChunks();
  if (!flushed.ok()) NoteWriteFailure(flushed);
  return Writable();
}

Status Tsdb::FlushMemtables() {
  rocksdb::FlushOptions options;
  options.wait = true;
  const Status s = FromRocks(db_->Flush(options, cfs_), "flushing memtables");
  NoteWriteFailure(s);
  return s;
}

}  // namespace vigil::storage
