// Tsdb: the RocksDB-backed Storage. The head takes appends (WAL first), a
// ChunkFlusher thread moves closed chunks into RocksDB, a maintenance thread
// syncs the WAL, checkpoints it, collects idle head series and runs
// Retention. See ARCHITECTURE.md "Storage design" and docs/format/*.md.
//
// Where the pieces are: open and WAL replay in tsdb_replay.cc (as
// Prometheus's head_wal.go), the commit and flush paths and checkpoints in
// tsdb.cc, appenders in tsdb_appender.cc, queries in tsdb_querier.cc, head GC
// in tsdb_head_gc.cc, deletes, snapshots and bulk appends in tsdb_admin.cc,
// write health in tsdb_write_health.cc, stats and metrics in tsdb_stats.cc.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/metrics_registry.h"
#include "storage/chunk_flusher.h"
#include "storage/head.h"
#include "storage/partition_set.h"
#include "storage/periodic_thread.h"
#include "storage/retention.h"
#include "storage/storage.h"
#include "storage/tsdb_counters.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_record.h"
#include "storage/write_health.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace vigil::storage {

class DataDirLock;
struct HeadEntry;
struct ReplayTarget;
struct TsdbReadView;

// Internal tuning knobs with defaults; tests shrink them.
struct TsdbTuning {
  int64_t partition_ms = 24LL * 3600 * 1000;   // a time partition is a day
  int64_t checkpoint_wal_bytes = 128LL << 20;  // checkpoint when the WAL grew this much
  int64_t maintenance_interval_ms = 1000;      // real time between maintenance passes
  int64_t retention_interval_ms = 60 * 1000;   // real time between retention passes
  // A checkpoint is also due when this many samples were committed since the
  // last one (but at least checkpoint_samples_per_series per head series):
  // bounds the WAL tail a restart replays in samples, whatever their WAL
  // bytes. 8 M samples replay in ~1-2 s on 2 cores. A checkpoint rewrites
  // every head series (O(head series), a few microseconds each), so the floor
  // keeps its cost per sample small on a large head: with 32 per series it is
  // a fraction of a percent of the append cost, and from ~250 k series on the
  // 128 MiB WAL trigger comes first anyway.
  int64_t checkpoint_samples = 8'000'000;
  int64_t checkpoint_samples_per_series = 32;
  // A head series with no sample newer than (newest sample - this) leaves the
  // head once its chunks are in RocksDB. At least the appendable window (1 h):
  // a series re-created later cannot then take samples older than its old ones.
  int64_t head_gc_idle_ms = 3600 * 1000;
  int64_t head_gc_interval_ms = 60 * 1000;  // real time between head GC passes
  bool background = true;                   // run the flusher and maintenance threads
  // A commit larger than this is written as several WAL fragment records.
  uint32_t wal_max_record_bytes = kWalMaxRecordSize;
  // After a failure that blocked writes (a WAL fsync failure, a full disk, a
  // failed RocksDB write) appends are refused; time between attempts to resume
  // (RocksDB's Resume(), the WAL's rewrite of its unsynced commits to a new
  // segment).
  int64_t wal_recovery_backoff_ms = 1000;
};

// The store. Its parts: Head (in-memory series and open chunks), WalWriter,
// RocksDB (closed chunks, postings, series, head checkpoint), ChunkFlusher,
// Retention, WriteHealth, TsdbCounters, PartitionSet.
class Tsdb final : public Storage, private RetentionStore {
 public:
  static Result<std::unique_ptr<Tsdb>> Open(const StorageOptions& options,
                                            const TsdbTuning& tuning = {});
  ~Tsdb() override;

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier() override;
  StorageStats Stats(size_t limit) const override;
  Status DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) override;
  Status CleanTombstones() override { return Status::OK(); }
  Status Snapshot(const std::string& dir, bool skip_head) override;
  Status Compact() override;
  Status Close() override;
  Status SetRetention(int64_t retention_ms, int64_t retention_bytes) override;
  RetentionSettings GetRetention() const override;
  Status Writable() const override;
  Status AppendHistorical(const Labels& labels, std::span<const Sample> samples) override;
  std::string WalDir() const override { return wal_dir(); }
  Result<Labels> SeriesLabels(SeriesRef ref) const override;

  // One retention pass (the maintenance thread calls it; tests call it directly).
  [[nodiscard]] Status ApplyRetention();
  // Persists the head's open chunks and drops the WAL segments they cover.
  [[nodiscard]] Status Checkpoint();
  // Writes every closed head chunk to RocksDB now.
  [[nodiscard]] Status FlushClosedChunks();
  // Head garbage collection (the maintenance thread calls it; tests call it
  // directly): writes the chunks of every series idle for head_gc_idle_ms to
  // RocksDB, then removes those series from the head and from the head
  // checkpoint. Their data stays queryable from RocksDB. Returns how many
  // series left the head.
  [[nodiscard]] Result<size_t> CollectIdleSeries();
  // Partitions that hold chunks on disk, ascending.
  std::vector<int64_t> Partitions() const override { return partitions_.List(); }
  // While writes are blocked (disk full, RocksDB background error): tries to
  // leave that state (the maintenance thread calls it; tests call it
  // directly). Returns Writable().
  Status TryResumeWrites();
  // Length of one time partition in milliseconds.
  int64_t partition_ms() const { return tuning_.partition_ms; }
  // RocksDB's estimate of the bytes one partition's chunks and postings take
  // on disk, after compression (storage/tsdb_inspect.cc; offline tools).
  uint64_t PartitionBytes(int64_t partition) const;

 private:
  // The appender (tsdb_appender.cc) is part of the commit path: nested, it
  // reads the head, counters and clock directly, without an indirection per
  // sample.
  class TsdbAppender;
  // What queriers read (tsdb_querier.cc); valid while the store is open.
  TsdbReadView ReadView() const;

  Tsdb(const StorageOptions& options, const TsdbTuning& tuning);
  std::string db_dir() const;
  std::string wal_dir() const;

  // Open and WAL replay (tsdb_replay.cc).
  [[nodiscard]] Status OpenDb();
  [[nodiscard]] Status LoadMeta();
  [[nodiscard]] Status LoadHeadCheckpoint();
  // One decoded head CF entry into the head (its open chunk moves there).
  void ApplyHeadEntry(HeadEntry& e);
  [[nodiscard]] Status ReplayWalRecords();
  void ApplyReplayedCommit(const WalCommit& commit, ReplayTarget& target);

  void StartThreads();
  void StopThreads();
  // Elapsed time per maintenance duty (the maintenance thread's own state).
  struct MaintenanceTimers {
    int64_t since_sync = 0;
    int64_t since_retention = 0;
    int64_t since_gc = 0;
  };
  // One maintenance tick, `tick_ms` after the previous one.
  void MaintenanceTick(int64_t tick_ms, MaintenanceTimers& timers);
  // Whether the WAL bytes or the samples since the last checkpoint call for one.
  bool CheckpointDue() const;
  void RegisterMetrics();

  // Series lookup/creation for appenders: head, then the series CF (so a
  // series keeps its ref across restarts), else a fresh ref.
  Result<std::shared_ptr<MemSeries>> GetOrCreateSeries(const Labels& labels, bool* created);
  // `series` parallel to `samples`; the caller holds a Head::ReadGuard.
  [[nodiscard]] Status CommitBatch(std::vector<WalSample>& samples, std::vector<MemSeries*>& series);
  // Replaces series the head dropped since the appender resolved them by the
  // series now in the head for their labels. Caller holds commit_barrier_.
  [[nodiscard]] Status ResolveRemovedSeries(std::vector<WalSample>& samples,
                                            std::vector<MemSeries*>& series);
  // Hands `s` (a chunk was cut) to the flusher; caller holds commit_barrier_.
  void EnqueueFlush(MemSeries& s);
  // Sets head_min_time_ after a scan of the head found `oldest` in memory;
  // samples committed during the scan are assumed no older than
  // newest - head_gc_idle_ms (at least the appendable window).
  void SetHeadMinTime(int64_t oldest, int64_t newest);
  // Head series idle since `cutoff`, their open chunks closed (head GC step
  // 1); *oldest_kept is the oldest in-memory sample of the other series.
  // The caller holds a Head::ReadGuard while it uses them.
  std::vector<MemSeries*> CutIdleSeries(int64_t cutoff, int64_t* oldest_kept);
  // WriteClosedChunks into this store (the ChunkFlusher's flush).
  [[nodiscard]] Status FlushSeries(MemSeries& s);

  // RetentionStore (retention.cc decides, these delete; admin_mu_ held).
  [[nodiscard]] Status DropPartitions(int64_t first, int64_t last) override;
  uint64_t BytesOnDisk() const override;
  Result<std::vector<std::pair<SeriesRef, Labels>>> SeriesInRange(int64_t mint,
                                                                  int64_t maxt) override;
  [[nodiscard]] Status DeleteSeriesInPartition(
      int64_t partition, const std::vector<std::pair<SeriesRef, Labels>>& series) override;
  [[nodiscard]] Status PersistRetention(int64_t retention_ms, int64_t retention_bytes) override;

  Result<std::vector<std::pair<SeriesRef, Labels>>> MatchingSeries(int64_t mint, int64_t maxt,
                                                                   const LabelMatchers& matchers);
  [[nodiscard]] Status DeleteFromHead(MemSeries& s, int64_t mint, int64_t maxt);
  [[nodiscard]] Status DeleteFromDisk(SeriesRef ref, int64_t mint, int64_t maxt);
  [[nodiscard]] Status WriteHistoricalPartition(const MemSeries& s, int64_t partition,
                                                std::span<const Sample> samples);
  [[nodiscard]] Status CheckpointLocked();

  // Time sanity (tsdb_appender.cc): the newest sample time that retention,
  // head GC and the appendable window may measure from: never ahead of the
  // clock, so a stored sample from the far future cannot move them.
  int64_t NewestForRetention() const;
  // Refuses `t` when it is more than max_time_ahead_ms ahead of `now`.
  [[nodiscard]] Status CheckNotInFuture(const Labels& labels, int64_t t, int64_t now);
  // The same for a head series (its labels are materialised only on refusal).
  [[nodiscard]] Status CheckNotInFuture(const CompactLabels& labels, int64_t t, int64_t now);

  // Write health (tsdb_write_health.cc). A failed write of RocksDB, a
  // poisoned WAL or a failed WAL write on a disk short of space blocks
  // writes (health_): appends fail fast with kUnavailable, the flusher,
  // head GC, checkpoints and retention pause (nothing writes through a failed
  // RocksDB writer), queries go on. TryResumeWrites lifts it.
  bool writes_blocked() const { return health_.blocked(); }
  // An error of a background write: IO errors block writes.
  void NoteWriteFailure(const Status& s);
  // An error of a WAL append, sync or cut: blocks writes unless the WAL cut
  // the failed write off and stays durable on a disk with room.
  void NoteWalFailure(const Status& s);
  // Makes every RocksDB write so far durable in SST files before a checkpoint
  // deletes the Vigil WAL segments that could replay them.
  [[nodiscard]] Status FlushMemtables();

  rocksdb::ColumnFamilyHandle* cf(int i) const { return cfs_[i]; }

  const StorageOptions options_;
  const TsdbTuning tuning_;
  std::unique_ptr<DataDirLock> lock_;
  // Declared before db_: RocksDB's error listener reports into it.
  WriteHealth health_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // owned by db_, destroyed in Close
  std::unique_ptr<WalWriter> wal_;
  Head head_;
  TsdbCounters counters_;
  PartitionSet partitions_;
  Retention retention_;
  ChunkFlusher flusher_;

  std::atomic<SeriesRef> next_ref_{1};
  // Lower bound of the samples still in head memory: AtomicMin on commit,
  // recomputed by head GC. Decides whether the head index answers a range.
  std::atomic<int64_t> head_min_time_{kMinTime};
  // WAL size at the last checkpoint; the next one is due checkpoint_wal_bytes later.
  std::atomic<int64_t> checkpoint_bytes_mark_{0};
  // counters_.samples_appended at the last checkpoint.
  std::atomic<uint64_t> checkpoint_samples_mark_{0};

  // Commits hold it shared around "WAL write + head apply"; a checkpoint
  // takes it exclusively only to cut the WAL segment.
  std::shared_mutex commit_barrier_;
  // Serializes the WAL write of series records with their `logged` flag.
  std::mutex wal_order_mu_;
  std::mutex admin_mu_;  // one checkpoint / retention / delete at a time
  // One FlushSeries at a time: the flusher thread and FlushClosedChunks may
  // copy the same closed chunks; without it the flusher's write could land
  // after FlushClosedChunks returned (and after a retention run it preceded).
  std::mutex flush_mu_;

  bool closed_ = false;
  PeriodicThread maintenance_;
  std::unique_ptr<ScopedCollector> metrics_;
};

}  // namespace vigil::storage
