// The store's write side: the commit path, the flush of closed chunks,
// checkpoints, maintenance and Close. Open and replay: tsdb_replay.cc.
#include "storage/tsdb.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>

#include "base/coding.h"
#include "base/logger.h"
#include "storage/data_dir_lock.h"
#include "storage/db_layout.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace fs = std::filesystem;

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  const StatusCode code = s.IsCorruption() ? StatusCode::kCorruption : StatusCode::kIOError;
  return Status(code, what + ": " + s.ToString());
}

namespace {

// The head CF value: labels, newest sample, open chunk partition, then (when
// the series has an open chunk) kHeadChunkWithState, the encoder's state and
// the chunk bytes. Layout: docs/format/rocksdb.md.
std::string EncodeHeadEntry(const MemSeries& s) {
  std::string v;
  PutLabels(&v, s.labels);
  PutVarint(&v, s.last_t);
  PutFixed64LE(&v, s.last_v_bits);
  PutVarint(&v, s.open_partition);
  if (s.open && s.open->num_samples() > 0) {
    v.push_back(static_cast<char>(kHeadChunkWithState));
    s.open->PutState(&v);
    v.append(s.open->bytes());
  }
  return v;
}

}  // namespace

Tsdb::Tsdb(const StorageOptions& options, const TsdbTuning& tuning)
    : options_(options),
      tuning_(tuning),
      health_(options.path),
      head_(tuning.partition_ms),
      retention_(options, tuning.partition_ms, this),
      flusher_([this](MemSeries& s) { return FlushSeries(s); },
               [this] { return writes_blocked(); }) {}

std::string Tsdb::db_dir() const { return (fs::path(options_.path) / "db").string(); }

std::string Tsdb::wal_dir() const { return (fs::path(options_.path) / "wal").string(); }

Tsdb::~Tsdb() {
  const Status s = Close();
  if (!s.ok()) VLOG_ERROR("closing the store failed", {{"err", s.ToString()}});
}

void Tsdb::StartThreads() {
  if (!tuning_.background) return;
  flusher_.Start();
  const int64_t tick = std::max<int64_t>(
      1, std::min(tuning_.maintenance_interval_ms, options_.wal_sync_interval_ms));
  maintenance_.Start(tick, [this, tick, timers = MaintenanceTimers{}]() mutable {
    MaintenanceTick(tick, timers);
  });
}

void Tsdb::StopThreads() {
  maintenance_.Stop();
  flusher_.Stop();  // after the maintenance thread: it drains what is queued
}

Status Tsdb::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  StopThreads();
  metrics_.reset();
  Status status = Checkpoint();
  if (wal_) {
    const Status sync = wal_->Sync();
    if (status.ok()) status = sync;
    wal_.reset();
  }
  for (auto* h : cfs_) {
    const rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
    (void)s;
  }
  cfs_.clear();
  if (db_) {
    const rocksdb::Status s = db_->Close();
    if (status.ok()) status = FromRocks(s, "closing RocksDB");
    db_.reset();
  }
  lock_.reset();
  return status;
}

Result<std::shared_ptr<MemSeries>> Tsdb::GetOrCreateSeries(const Labels& labels, bool* created) {
  *created = false;
  const uint64_t hash = labels.Hash();
  if (auto s = head_.ByLabels(labels, hash)) return s;
  if (labels.empty()) return Status::InvalidArgument("empty label set");
  for (const auto& l : labels) {
    if (l.name.size() > kMaxLabelBytes || l.value.size() > kMaxLabelBytes) {
      return Status::InvalidArgument("label name or value longer than 65535 bytes: " + l.name);
    }
  }
  // A series known on disk keeps its ref, so its old and new chunks join up.
  SeriesRef ref = 0;
  bool on_disk = false;
  const std::string prefix = SeriesHashPrefix(hash);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCfSeries)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const SeriesRef candidate = DecodeFixed64BE(it->key().ToStringView().substr(prefix.size()));
    std::string v;
    if (!db_->Get(rocksdb::ReadOptions(), cf(kCfSeries), SeriesKey(candidate), &v).ok()) continue;
    Decoder d(v);
    Labels stored;
    if (d.LabelSet(&stored) && stored == labels) {
      ref = candidate;
      on_disk = true;
      break;
    }
  }
  if (ref == 0) ref = next_ref_.fetch_add(1);
  auto s = head_.Insert(ref, labels, hash, created);
  if (*created && on_disk) {
    std::lock_guard lock(s->mu);
    s->persisted = true;
  }
  return s;
}

// How many samples ahead CommitBatch prefetches a series (BM_AppendByRef).
constexpr size_t kCommitPrefetchAhead = 8;

Status Tsdb::CommitBatch(std::vector<WalSample>& samples, std::vector<MemSeries*>& series) {
  if (samples.empty()) return Status::OK();
  if (writes_blocked()) return Writable();
  std::shared_lock barrier(commit_barrier_);
  VIGIL_RETURN_IF_ERROR(ResolveRemovedSeries(samples, series));
  {
    std::lock_guard order(wal_order_mu_);
    std::vector<WalSeries> new_series;
    std::vector<MemSeries*> flagged;
    for (MemSeries* s : series) {
      if (s->logged.load(std::memory_order_relaxed)) continue;
      s->logged.store(true, std::memory_order_relaxed);
      new_series.push_back({s->ref, s->labels.ToLabels()});
      flagged.push_back(s);
    }
    const std::string payload = EncodeWalCommit(new_series, samples);
    const Status st = wal_->Append(payload, options_.wal_sync == WalSyncPolicy::kEveryCommit);
    if (!st.ok()) {
      ++counters_.wal_writes_failed;
      for (auto* s : flagged) s->logged.store(false, std::memory_order_relaxed);
      NoteWalFailure(st);
      return writes_blocked() ? Writable() : st;
    }
  }
  int64_t lo = kMaxTime, hi = kMinTime;
  uint64_t appended = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    // A batch's series are scattered over the heap and mostly out of cache:
    // ask for the lines of a series some samples ahead (its lock, newest
    // sample and open chunk pointer) so those misses overlap.
    if (i + kCommitPrefetchAhead < series.size()) {
      const char* ahead = reinterpret_cast<const char*>(series[i + kCommitPrefetchAhead]);
      __builtin_prefetch(ahead, 1);
      __builtin_prefetch(ahead + 64, 1);
      __builtin_prefetch(ahead + 128, 1);
    }
    MemSeries& s = *series[i];
    bool cut = false;
    bool enqueue = false;
    AppendOutcome outcome;
    {
      std::lock_guard lock(s.mu);
      outcome = head_.Append(s, samples[i].t, samples[i].v, &cut);
      if (cut && !s.flush_queued) {
        s.flush_queued = true;
        enqueue = true;
      }
    }
    if (enqueue) EnqueueFlush(s);
    switch (outcome) {
      case AppendOutcome::kAppended:
        ++appended;
        lo = std::min(lo, samples[i].t);
        hi = std::max(hi, samples[i].t);
        break;
      case AppendOutcome::kOutOfOrder:
        ++counters_.out_of_order;
        break;
      case AppendOutcome::kDuplicate:
        ++counters_.duplicates;
        break;
      case AppendOutcome::kSameSample:
        break;
    }
  }
  counters_.samples_appended.fetch_add(appended, std::memory_order_relaxed);
  if (appended > 0) {
    AtomicMin(counters_.min_time, lo);
    AtomicMin(head_min_time_, lo);
    AtomicMax(counters_.max_time, hi);
  }
  return Status::OK();
}

void Tsdb::EnqueueFlush(MemSeries& s) {
  // The flusher keeps the series beyond the appender's ReadGuard, so it
  // gets the head's reference (once per chunk, not per sample). Under the
  // commit barrier a series that is not removed is the one at its ref.
  if (auto owner = head_.ByRef(s.ref); owner.get() == &s) {
    flusher_.Enqueue(owner);
    return;
  }
  std::lock_guard lock(s.mu);  // not reachable; the periodic flush takes its chunks
  s.flush_queued = false;
}

Status Tsdb::ResolveRemovedSeries(std::vector<WalSample>& samples,
                                  std::vector<MemSeries*>& series) {
  for (size_t i = 0; i < series.size(); ++i) {
    // Head GC sets `removed` only while it holds the barrier exclusively.
    if (!series[i]->removed.load(std::memory_order_relaxed)) continue;
    bool created = false;
    auto current = GetOrCreateSeries(series[i]->labels.ToLabels(), &created);
    if (!current.ok()) return current.status();
    series[i] = current.value().get();  // in the head until the barrier is released
    samples[i].ref = series[i]->ref;
  }
  return Status::OK();
}

Status Tsdb::FlushSeries(MemSeries& s) {
  const ChunkWriteTarget target{
      db_.get(),    cf(kCfChunks), cf(kCfPostings),          cf(kCfSeries),
      &partitions_, &health_,      &counters_.chunks_flushed};
  std::lock_guard lock(flush_mu_);
  return WriteClosedChunks(target, s);
}

Status Tsdb::FlushClosedChunks() {
  const int64_t newest = counters_.max_time.load();
  int64_t oldest = kMaxTime;
  Status status;
  head_.ForEachSeries([&](MemSeries& s) {
    status = FlushSeries(s);
    if (!status.ok()) return false;
    std::lock_guard lock(s.mu);
    oldest = std::min(oldest, Head::OldestInMemory(s));
    return true;
  });
  VIGIL_RETURN_IF_ERROR(status);
  SetHeadMinTime(oldest, newest);
  return Status::OK();
}

void Tsdb::SetHeadMinTime(int64_t oldest, int64_t newest) {
  const int64_t committed_meanwhile =
      newest == kMinTime ? kMinTime : newest - tuning_.head_gc_idle_ms;
  head_min_time_.store(std::min(oldest, committed_meanwhile));
}

Result<Labels> Tsdb::SeriesLabels(SeriesRef ref) const {
  if (const auto s = head_.ByRef(ref)) return s->labels.ToLabels();
  std::string v;
  if (!db_ || !db_->Get(rocksdb::ReadOptions(), cf(kCfSeries), SeriesKey(ref), &v).ok()) {
    return Status::NotFound("unknown series ref " + std::to_string(ref));
  }
  Decoder d(v);
  Labels labels;
  if (!d.LabelSet(&labels)) return Status::Corruption("bad series entry " + std::to_string(ref));
  return labels;
}

Status Tsdb::Checkpoint() {
  std::lock_guard admin(admin_mu_);
  return CheckpointLocked();
}

Status Tsdb::CheckpointLocked() {
  if (!wal_ || !db_) return Status::OK();
  if (writes_blocked()) return Writable();
  uint32_t segment = 0;
  uint64_t samples_at_cut = 0;
  {
    std::unique_lock barrier(commit_barrier_);
    samples_at_cut = counters_.samples_appended.load(std::memory_order_relaxed);
    auto cut = wal_->Cut();
    if (!cut.ok()) {
      NoteWalFailure(cut.status());
      return cut.status();
    }
    segment = *cut;
  }
  VIGIL_RETURN_IF_ERROR(FlushClosedChunks());
  rocksdb::WriteBatch batch;
  Status status;
  // Series inserted during the walk may be missed: their series records
  // are in WAL segments from `segment` on, which stay.
  head_.ForEachSeries([&](MemSeries& s) {
    {
      std::lock_guard lock(s.mu);
      // Every series, even without an open chunk: later WAL records may refer
      // to it while its own series record is in a segment deleted below.
      (void)batch.Put(cf(kCfHead), HeadKey(s.ref), EncodeHeadEntry(s));
    }
    if (batch.GetDataSize() > (16u << 20)) {
      status = FromRocks(db_->Write(StoreWrite(), &batch), "writing head checkpoint");
      batch.Clear();
    }
    return status.ok();
  });
  VIGIL_RETURN_IF_ERROR(status);
  std::string next, seg;
  PutUvarint(&next, next_ref_.load());
  PutUvarint(&seg, segment);
  (void)batch.Put(cf(kCfMeta), std::string(kMetaNextRef), next);
  (void)batch.Put(cf(kCfMeta), std::string(kMetaCheckpoint), seg);
  VIGIL_RETURN_IF_ERROR(FromRocks(db_->Write(StoreWrite(), &batch), "writing head checkpoint"));
  // Every RocksDB write so far reaches the disk before the WAL segments
  // that could replay it go.
  VIGIL_RETURN_IF_ERROR(FlushMemtables());
  const uint32_t keep_from = options_.wal_keep_from ? options_.wal_keep_from() : segment;
  VIGIL_RETURN_IF_ERROR(DeleteWalSegmentsBefore(wal_dir(), std::min(segment, keep_from)));
  checkpoint_bytes_mark_ = wal_->bytes_written();
  checkpoint_samples_mark_ = samples_at_cut;
  VLOG_DEBUG("WAL checkpoint written", {{"first_segment", std::to_string(segment)}});
  return Status::OK();
}

bool Tsdb::CheckpointDue() const {
  if (wal_->bytes_written() - checkpoint_bytes_mark_ >= tuning_.checkpoint_wal_bytes) return true;
  const uint64_t samples = counters_.samples_appended.load(std::memory_order_relaxed) -
                           checkpoint_samples_mark_.load(std::memory_order_relaxed);
  const uint64_t per_series =
      static_cast<uint64_t>(tuning_.checkpoint_samples_per_series) * head_.NumSeries();
  return samples >= std::max(static_cast<uint64_t>(tuning_.checkpoint_samples), per_series);
}

void Tsdb::MaintenanceTick(int64_t tick_ms, MaintenanceTimers& timers) {
  timers.since_sync += tick_ms;
  timers.since_retention += tick_ms;
  timers.since_gc += tick_ms;
  if (writes_blocked()) {
    // Nothing else writes until the cause is gone (disk full: space freed).
    (void)TryResumeWrites();
    return;
  }
  // Logs a failed background step; an IO error blocks writes.
  const auto check = [this](const Status& s, const char* what) {
    if (s.ok() || writes_blocked()) return;
    VLOG_ERROR(what, {{"err", s.ToString()}});
    NoteWriteFailure(s);
  };
  if (options_.wal_sync == WalSyncPolicy::kPeriodic &&
      timers.since_sync >= options_.wal_sync_interval_ms) {
    timers.since_sync = 0;
    const Status synced = wal_->Sync();
    if (!synced.ok()) VLOG_ERROR("WAL fsync failed", {{"err", synced.ToString()}});
    NoteWalFailure(synced);
  }
  if (CheckpointDue()) check(Checkpoint(), "WAL checkpoint failed");
  if (timers.since_gc >= tuning_.head_gc_interval_ms) {
    timers.since_gc = 0;
    const auto removed = CollectIdleSeries();
    check(removed.status(), "head garbage collection failed");
  }
  if (timers.since_retention >= tuning_.retention_interval_ms) {
    timers.since_retention = 0;
    check(ApplyRetention(), "applying retention failed");
  }
}

}  // namespace vigil::storage
