// Opening the store: RocksDB and its column families, the persisted meta
// (retention set at runtime, the next series ref, partitions on disk), the
// head checkpoint, then the WAL written since that checkpoint, replayed into
// the head (as Prometheus's head_wal.go). Commits replay exactly as they were
// applied: samples the checkpoint already holds, or that were refused at
// commit time, fail the head's ordering check again.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "base/coding.h"
#include "base/logger.h"
#include "storage/data_dir_lock.h"
#include "storage/db_layout.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace fs = std::filesystem;
namespace {

rocksdb::Options DbOptions() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  o.max_open_files = -1;  // open every table at start: damaged files are reported at Open
  o.keep_log_file_num = 3;
  o.max_background_jobs = 2;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kZSTD;
  o.atomic_flush = true;  // writes skip RocksDB's WAL: flush every column family together
  o.info_log = NewRocksInfoLogger();  // no LOG file: it aborts RocksDB on a full disk
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return o;
}

// When RocksDB reports corruption it may name the MANIFEST that refers to a
// damaged table rather than the table itself: check every table file.
std::string FindDamagedTable(const std::string& db_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(db_dir, ec)) {
    if (entry.path().extension() != ".sst") continue;
    rocksdb::SstFileReader reader(DbOptions());
    rocksdb::Status s = reader.Open(entry.path().string());
    if (s.ok()) s = reader.VerifyChecksum();
    if (!s.ok()) return entry.path().string();
  }
  return "";
}

}  // namespace

// Appends replayed samples to their series on worker threads while the
// replaying thread reads and decodes the next records. A series always goes
// to the same worker, and a worker takes its batches in the order they were
// sent, so every series gets its samples in WAL order.
class ReplayAppendShards {
 public:
  ReplayAppendShards(const Head& head, size_t workers)
      : head_(head),
        batch_samples_(kSamplesInFlight / workers),
        workers_(workers),
        pending_(workers) {
    for (auto& w : workers_) w.thread = std::thread([this, &w] { Run(w); });
  }
  ~ReplayAppendShards() { Finish(); }

  void Add(MemSeries* s, int64_t t, double v) {
    // By address: the series itself is not touched here (a cache miss each).
    const size_t shard = (reinterpret_cast<uintptr_t>(s) / alignof(MemSeries)) % workers_.size();
    auto& batch = pending_[shard];
    batch.push_back({s, t, v});
    if (batch.size() >= batch_samples_) Send(shard);
  }

  // Waits until every sample added so far is appended. Returns the time
  // range of the samples appended (lo > hi when none was).
  std::pair<int64_t, int64_t> Finish() {
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (!pending_[i].empty()) Send(i);
      {
        std::lock_guard lock(workers_[i].mu);
        workers_[i].done = true;
      }
      workers_[i].cv.notify_all();
    }
    int64_t lo = kMaxTime, hi = kMinTime;
    for (auto& w : workers_) {
      if (w.thread.joinable()) w.thread.join();
      lo = std::min(lo, w.lo);
      hi = std::max(hi, w.hi);
    }
    return {lo, hi};
  }

 private:
  struct Job {
    MemSeries* series;
    int64_t t;
    double v;
  };
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;  // a batch arrived, a batch was taken, or done
    std::deque<std::vector<Job>> queue;
    bool done = false;
    int64_t lo = kMaxTime, hi = kMinTime;  // written by the worker, read after join
    std::thread thread;
  };
  // A batch spans several scrapes of the worker's series, so sorting it by
  // series gives each series a run of samples: one lock and one cache miss
  // per run instead of per sample. Samples held: (queued + 1) batches per
  // worker, 24 bytes each, ~75 MB in all.
  static constexpr size_t kSamplesInFlight = size_t{1} << 20;
  static constexpr size_t kMaxQueuedBatches = 2;

  void Send(size_t shard) {
    Worker& w = workers_[shard];
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] { return w.queue.size() < kMaxQueuedBatches; });
      w.queue.push_back(std::move(pending_[shard]));
    }
    w.cv.notify_all();
    pending_[shard] = {};
    pending_[shard].reserve(batch_samples_);
  }

  void Run(Worker& w) {
    for (;;) {
      std::vector<Job> batch;
      {
        std::unique_lock lock(w.mu);
        w.cv.wait(lock, [&] { return !w.queue.empty() || w.done; });
        if (w.queue.empty()) return;
        batch = std::move(w.queue.front());
        w.queue.pop_front();
      }
      w.cv.notify_all();
      // Stable: each series keeps its samples in WAL order.
      std::stable_sort(batch.begin(), batch.end(), [](const Job& a, const Job& b) {
        return std::less<>()(a.series, b.series);
      });
      for (size_t i = 0; i < batch.size();) {
        MemSeries& s = *batch[i].series;
        std::lock_guard lock(s.mu);
        for (; i < batch.size() && batch[i].series == &s; ++i) Append(w, s, batch[i]);
      }
    }
  }

  void Append(Worker& w, MemSeries& s, const Job& job) const {
    bool cut = false;
    // Samples already in the checkpoint (or rejected originally) fail the
    // ordering check here exactly as they did at commit time.
    if (head_.Append(s, job.t, job.v, &cut) == AppendOutcome::kAppended) {
      w.lo = std::min(w.lo, job.t);
      w.hi = std::max(w.hi, job.t);
    }
  }

  const Head& head_;
  const size_t batch_samples_;
  std::deque<Worker> workers_;             // not movable: the threads hold references
  std::vector<std::vector<Job>> pending_;  // per worker, filled by the replaying thread
};

// One worker per core but the one that reads and decodes the WAL.
size_t ReplayWorkers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp<size_t>(cores > 1 ? cores - 1 : 1, 1, 8);
}

// WAL replay looks a series up per sample. Refs are handed out densely, so a
// vector indexed by ref replaces the locked hash lookup and shared_ptr copy
// of Head::ByRef (only the replaying thread uses the table, and nothing
// leaves the head meanwhile). Refs outside the table's span fall back to
// Head::ByRef. The samples of the series it finds go to `shards`.
class ReplaySeriesTable {
 public:
  ReplaySeriesTable(const Head& head, ReplayAppendShards& shards) : head_(head), shards_(shards) {
    const auto all = head.AllSeries();
    SeriesRef lo = std::numeric_limits<SeriesRef>::max(), hi = 0;
    for (const auto& s : all) {
      lo = std::min(lo, s->ref);
      hi = std::max(hi, s->ref);
    }
    base_ = all.empty() ? 0 : lo;
    for (const auto& s : all) Add(s->ref, s.get());
  }

  MemSeries* Find(SeriesRef ref) const {
    if (ref >= base_ && ref - base_ < slots_.size() && slots_[ref - base_] != nullptr) {
      return slots_[ref - base_];
    }
    return head_.ByRef(ref).get();  // the head keeps it alive
  }

  // Records that WAL ref `ref` names `s` (normally s->ref == ref).
  void Add(SeriesRef ref, MemSeries* s) {
    if (ref < base_) return;
    const SeriesRef slot = ref - base_;
    // Sparse refs (after heavy churn) must not blow up the table.
    if (slot >= slots_.size() && slot < kMaxSlots) {
      slots_.resize(std::min(kMaxSlots, std::max<SeriesRef>(slot + 1, slots_.size() * 2)));
    }
    if (slot < slots_.size()) slots_[slot] = s;
  }

  ReplayAppendShards& shards() { return shards_; }

 private:
  static constexpr SeriesRef kMaxSlots = SeriesRef{1} << 26;  // 512 MiB of pointers at most
  const Head& head_;
  ReplayAppendShards& shards_;
  SeriesRef base_ = 0;
  std::vector<MemSeries*> slots_;
};

Result<std::unique_ptr<Tsdb>> Tsdb::Open(const StorageOptions& options, const TsdbTuning& tuning) {
  std::error_code ec;
  fs::create_directories(options.path, ec);
  if (ec) return Status::IOError("cannot create data directory " + options.path + ": " + ec.message());
  std::unique_ptr<Tsdb> db(new Tsdb(options, tuning));
  if (!options.no_lockfile) {
    auto lock = DataDirLock::Acquire(options.path);
    if (!lock.ok()) return lock.status();
    db->lock_ = std::move(lock.value());
  }
  VIGIL_RETURN_IF_ERROR(db->OpenDb());
  VIGIL_RETURN_IF_ERROR(db->LoadMeta());
  VIGIL_RETURN_IF_ERROR(db->LoadHeadCheckpoint());
  VIGIL_RETURN_IF_ERROR(db->ReplayWalRecords());
  WalWriterOptions wal_options;
  wal_options.max_record_bytes = tuning.wal_max_record_bytes;
  wal_options.recovery_backoff_ms = tuning.wal_recovery_backoff_ms;
  auto wal = WalWriter::Open(db->wal_dir(), wal_options);
  if (!wal.ok()) return wal.status();
  db->wal_ = std::move(wal.value());
  for (const auto& s : db->head_.AllSeries()) {
    if (!s->unflushed.empty()) db->flusher_.Enqueue(s);
  }
  db->RegisterMetrics();
  db->StartThreads();
  VLOG_INFO("TSDB started", {{"path", options.path},
                             {"series", std::to_string(db->head_.NumSeries())},
                             {"partitions", std::to_string(db->Partitions().size())}});
  return db;
}

Status Tsdb::OpenDb() {
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const char* name :
       {rocksdb::kDefaultColumnFamilyName.c_str(), kSeriesCf, kPostingsCf, kChunksCf, kMetaCf, kHeadCf}) {
    descs.emplace_back(name, rocksdb::ColumnFamilyOptions(DbOptions()));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options = DbOptions();
  options.listeners.push_back(NewRocksErrorListener(&health_));
  const rocksdb::Status s = rocksdb::DB::Open(options, db_dir(), descs, &cfs_, &raw);
  if (!s.ok()) {
    const std::string damaged = s.IsCorruption() ? FindDamagedTable(db_dir()) : "";
    return FromRocks(s, "cannot open the RocksDB store in " + db_dir() +
                            (damaged.empty() ? std::string(" (a file there is damaged or unreadable)")
                                             : " (damaged file: " + damaged + ")"));
  }
  db_.reset(raw);
  return Status::OK();
}

Status Tsdb::LoadMeta() {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kCfMeta), std::string(kMetaRetention), &v);
  if (s.ok()) {
    Decoder d(v);
    int64_t ms = 0, bytes = 0;
    if (d.Varint(&ms) && d.Varint(&bytes)) {
      retention_.Restore(ms, bytes);
    }
  }
  s = db_->Get(rocksdb::ReadOptions(), cf(kCfMeta), std::string(kMetaNextRef), &v);
  if (s.ok()) {
    Decoder d(v);
    uint64_t next = 1;
    if (d.Uvarint(&next)) next_ref_ = std::max<SeriesRef>(next, 1);
  }
  // Partitions with chunks: hop from one partition to the next.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCfChunks)));
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Seek(PartitionPrefix(PartitionOfKey(it->key().ToStringView()) + 1))) {
    const std::string_view key = it->key().ToStringView();
    const int64_t p = PartitionOfKey(key);
    partitions_.Insert(p);
    if (first) AtomicMin(counters_.min_time, DecodeOrderedInt64(key.substr(16)));
    first = false;
    ChunkValue cv;
    if (DecodeChunkValue(it->value().ToStringView(), DecodeOrderedInt64(key.substr(16)), &cv)) {
      AtomicMax(counters_.max_time, cv.max_time);
    }
  }
  return FromRocks(it->status(), "scanning chunk partitions");
}

Status Tsdb::LoadHeadCheckpoint() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCfHead)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const SeriesRef ref = DecodeFixed64BE(it->key().ToStringView());
    Decoder d(it->value().ToStringView());
    Labels labels;
    int64_t last_t = 0, partition = 0;
    uint64_t last_v = 0;
    if (!d.LabelSet(&labels) || !d.Varint(&last_t) || !d.Fixed64LE(&last_v) || !d.Varint(&partition)) {
      VLOG_WARN("skipping a damaged head checkpoint entry", {{"ref", std::to_string(ref)}});
      continue;
    }
    // The open chunk continues where it stopped: no re-encoding of its samples.
    std::unique_ptr<XorChunkEncoder> open;
    if (!d.rest().empty()) {
      open = XorChunkEncoder::Resume(d.rest());
      if (!open) {
        VLOG_WARN("skipping a damaged head checkpoint chunk", {{"ref", std::to_string(ref)}});
        continue;
      }
      if (open->num_samples() == 0) open.reset();
    }
    bool created = false;
    auto s = head_.Insert(ref, labels, labels.Hash(), &created);
    std::lock_guard lock(s->mu);
    s->logged = false;  // the WAL segments holding its record are gone: log it again
    if (open) {
      AtomicMin(counters_.min_time, open->min_time());
      s->open = std::move(open);
      s->open_partition = partition;
    }
    s->last_t = last_t;
    s->last_v_bits = last_v;
    AtomicMax(counters_.max_time, last_t);
    if (ref >= next_ref_) next_ref_ = ref + 1;
  }
  return FromRocks(it->status(), "reading the head checkpoint");
}

Status Tsdb::ReplayWalRecords() {
  std::string v;
  uint64_t first = 0;
  if (db_->Get(rocksdb::ReadOptions(), cf(kCfMeta), std::string(kMetaCheckpoint), &v).ok()) {
    Decoder d(v);
    if (!d.Uvarint(&first)) first = 0;
  }
  uint64_t records = 0;
  ReplayAppendShards shards(head_, ReplayWorkers());
  ReplaySeriesTable table(head_, shards);
  WalReplayStats damage;
  const auto apply = [&](std::string_view payload) {
    auto commit = DecodeWalCommit(payload);
    if (!commit.ok()) {
      ++counters_.wal_corruptions;
      VLOG_WARN("skipping an undecodable WAL record", {{"err", commit.status().ToString()}});
      return;
    }
    ApplyReplayedCommit(*commit, table);
    ++records;
  };
  const Status s = ReplayWal(wal_dir(), static_cast<uint32_t>(first), apply, &damage);
  const auto [lo, hi] = shards.Finish();  // every replayed sample is in the head
  if (lo <= hi) {
    AtomicMin(counters_.min_time, lo);
    AtomicMax(counters_.max_time, hi);
  }
  counters_.wal_corruptions += damage.damaged_segments;
  VLOG_INFO("WAL replay completed", {{"records", std::to_string(records)},
                                     {"first_segment", std::to_string(first)}});
  return s;
}

void Tsdb::ApplyReplayedCommit(const WalCommit& commit, ReplaySeriesTable& table) {
  for (const auto& ws : commit.series) {
    if (table.Find(ws.ref) != nullptr) continue;
    bool created = false;
    const auto s = head_.Insert(ws.ref, ws.labels, ws.labels.Hash(), &created);
    table.Add(ws.ref, s.get());
    if (ws.ref >= next_ref_) next_ref_ = ws.ref + 1;
  }
  for (const auto& smp : commit.samples) {
    MemSeries* s = table.Find(smp.ref);
    if (s == nullptr) continue;  // its series record was lost, or the series left the head (on disk)
    table.shards().Add(s, smp.t, smp.v);
  }
}

}  // namespace vigil::storage
