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
#include <bit>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

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

std::string FormatSeconds(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration<double>(d).count()) + "s";
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
    std::vector<Job> scratch;              // the worker's radix sort buffer
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
    pending_[shard] = TakeSpare();
  }

  // An emptied batch a worker gave back (its pages already faulted in), or a
  // new one: a million-job batch is 24 MB, which malloc would hand back to
  // the kernel and fault in again for every batch.
  std::vector<Job> TakeSpare() {
    std::vector<Job> batch;
    {
      std::lock_guard lock(spare_mu_);
      if (!spare_.empty()) {
        batch = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    batch.clear();
    batch.reserve(batch_samples_);
    return batch;
  }
  void GiveBack(std::vector<Job> batch) {
    std::lock_guard lock(spare_mu_);
    spare_.push_back(std::move(batch));
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
      GroupBySeries(batch, w.scratch);
      for (size_t i = 0; i < batch.size();) {
        MemSeries& s = *batch[i].series;
        std::lock_guard lock(s.mu);
        for (; i < batch.size() && batch[i].series == &s; ++i) Append(w, s, batch[i]);
      }
      GiveBack(std::move(batch));
    }
  }

  // Sorts the batch by series address, stably (each series keeps its samples
  // in WAL order): a least-significant-digit radix sort, at most 11 bits a
  // pass, of the address relative to the batch's lowest in units of
  // kGranule (two series are at least sizeof(MemSeries) apart, so each keeps
  // a key of its own), skipping passes whose digit is the same for every
  // job. Two or three linear passes where a comparison sort of a million
  // jobs took twenty merge levels.
  static void GroupBySeries(std::vector<Job>& batch, std::vector<Job>& scratch) {
    if (batch.size() < 2) return;
    uintptr_t lo = std::numeric_limits<uintptr_t>::max(), hi = 0;
    for (const Job& j : batch) {
      const auto a = reinterpret_cast<uintptr_t>(j.series);
      lo = std::min(lo, a);
      hi = std::max(hi, a);
    }
    constexpr uintptr_t kGranule = std::bit_floor(sizeof(MemSeries));
    const auto key = [lo](const Job& j) {
      return (reinterpret_cast<uintptr_t>(j.series) - lo) / kGranule;
    };
    const int bits = std::bit_width((hi - lo) / kGranule);
    const int passes = (bits + 10) / 11;
    if (passes == 0) return;  // one series
    const int digit_bits = (bits + passes - 1) / passes;
    const uintptr_t mask = (uintptr_t{1} << digit_bits) - 1;
    scratch.resize(batch.size());
    std::vector<size_t> count(size_t{1} << digit_bits);
    for (int shift = 0; shift < bits; shift += digit_bits) {
      std::fill(count.begin(), count.end(), 0);
      for (const Job& j : batch) ++count[(key(j) >> shift) & mask];
      if (*std::max_element(count.begin(), count.end()) == batch.size())
        continue;  // one digit: no move
      size_t at = 0;
      for (size_t& c : count) at += std::exchange(c, at);
      for (const Job& j : batch) scratch[count[(key(j) >> shift) & mask]++] = j;
      batch.swap(scratch);
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
  std::mutex spare_mu_;
  std::vector<std::vector<Job>> spare_;  // emptied batches, for TakeSpare
};

// Where replayed samples go: the head's series by ref (Head::Find, no lock
// or reference count: nothing leaves the head during replay), and the rare
// WAL ref whose labels the head already holds under another ref.
struct ReplayTarget {
  ReplayAppendShards& shards;
  std::unordered_map<SeriesRef, MemSeries*> aliases;

  MemSeries* Find(const Head& head, SeriesRef ref) const {
    if (MemSeries* s = head.Find(ref)) return s;
    if (aliases.empty()) return nullptr;
    const auto it = aliases.find(ref);
    return it == aliases.end() ? nullptr : it->second;
  }
};

// One worker per core but the one that reads and decodes the WAL.
size_t ReplayWorkers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp<size_t>(cores > 1 ? cores - 1 : 1, 1, 8);
}

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
  const auto started = std::chrono::steady_clock::now();
  VIGIL_RETURN_IF_ERROR(db->LoadHeadCheckpoint());
  VLOG_INFO("head checkpoint loaded",
            {{"series", std::to_string(db->head_.NumSeries())},
             {"duration", FormatSeconds(std::chrono::steady_clock::now() - started)}});
  VIGIL_RETURN_IF_ERROR(db->ReplayWalRecords());
  WalWriterOptions wal_options;
  wal_options.max_record_bytes = tuning.wal_max_record_bytes;
  wal_options.recovery_backoff_ms = tuning.wal_recovery_backoff_ms;
  auto wal = WalWriter::Open(db->wal_dir(), wal_options);
  if (!wal.ok()) return wal.status();
  db->wal_ = std::move(wal.value());
  // Chunks replay closed go to the flusher (no threads run yet: no locks).
  db->head_.ForEachSeries([&db](MemSeries& s) {
    if (!s.unflushed.empty()) db->flusher_.Enqueue(db->head_.ByRef(s.ref));
    return true;
  });
  db->RegisterMetrics();
  db->StartThreads();
  VLOG_INFO("TSDB started", {{"path", options.path},
                             {"series", std::to_string(db->head_.NumSeries())},
                             {"partitions", std::to_string(db->Partitions().size())}});
  return db;
}

Status Tsdb::OpenDb() {
  // RocksDB lists the directory before creating it and logs the failed
  // listing as an error: a fresh data dir would start with an error line.
  std::error_code ec;
  fs::create_directories(db_dir(), ec);
  if (ec) return Status::IOError("cannot create " + db_dir() + ": " + ec.message());
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

// One decoded head CF entry: a series and its state at the checkpoint.
struct HeadEntry {
  SeriesRef ref = 0;
  CompactLabels labels;  // straight from the entry's bytes, in the head's form
  uint64_t hash = 0;
  int64_t last_t = 0;
  uint64_t last_v = 0;
  int64_t partition = 0;
  std::unique_ptr<XorChunkEncoder> open;  // null: no open chunk
};

namespace {

// Decodes a head CF value; false (after logging) when it is damaged.
bool DecodeHeadEntry(SeriesRef ref, std::string_view value, HeadEntry* e) {
  Decoder d(value);
  e->ref = ref;
  if (!CompactLabels::Decode(d, &e->labels) || !d.Varint(&e->last_t) || !d.Fixed64LE(&e->last_v) ||
      !d.Varint(&e->partition)) {
    VLOG_WARN("skipping a damaged head checkpoint entry", {{"ref", std::to_string(ref)}});
    return false;
  }
  e->hash = e->labels.Hash();
  // The open chunk continues where it stopped: no re-encoding of its samples,
  // and with its stored state (written since) no decoding either.
  if (!d.rest().empty()) {
    const bool with_state = static_cast<uint8_t>(d.rest()[0]) == kHeadChunkWithState;
    e->open = with_state ? XorChunkEncoder::Restore(d.rest().substr(1))
                         : XorChunkEncoder::Resume(d.rest());
    if (!e->open) {
      VLOG_WARN("skipping a damaged head checkpoint chunk", {{"ref", std::to_string(ref)}});
      return false;
    }
    if (e->open->num_samples() == 0) e->open.reset();
  }
  return true;
}

// Batches handed from one producer thread to one consumer, in order; the
// producer waits while kMaxQueued batches are queued.
template <typename T>
class BatchPipe {
 public:
  void Push(std::vector<T> batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
    queue_.push_back(std::move(batch));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // False once the pipe is closed and drained.
  bool Pop(std::vector<T>* batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return false;
    *batch = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  static constexpr size_t kMaxQueued = 4;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<T>> queue_;
  bool closed_ = false;
};

}  // namespace

// Two stages: a thread reads and decodes the head CF (labels, open chunk),
// the opening thread inserts the series into the head in ref order (the
// head's postings are sorted ref lists: in order, an insert is an append).
Status Tsdb::LoadHeadCheckpoint() {
  constexpr size_t kBatch = 4096;
  BatchPipe<HeadEntry> pipe;
  Status status;
  std::thread reader([&] {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;  // read once
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kCfHead)));
    std::vector<HeadEntry> batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      batch.emplace_back();
      if (!DecodeHeadEntry(DecodeFixed64BE(it->key().ToStringView()), it->value().ToStringView(),
                           &batch.back())) {
        batch.pop_back();
      }
      if (batch.size() == kBatch) {
        pipe.Push(std::exchange(batch, std::vector<HeadEntry>()));
        batch.reserve(kBatch);
      }
    }
    if (!batch.empty()) pipe.Push(std::move(batch));
    status = FromRocks(it->status(), "reading the head checkpoint");
    pipe.Close();
  });
  std::vector<HeadEntry> batch;
  while (pipe.Pop(&batch)) {
    for (auto& e : batch) ApplyHeadEntry(e);
  }
  reader.join();
  return status;
}

void Tsdb::ApplyHeadEntry(HeadEntry& e) {
  bool created = false;
  auto s = head_.Insert(e.ref, std::move(e.labels), e.hash, &created);
  std::lock_guard lock(s->mu);
  s->logged = false;  // the WAL segments holding its record are gone: log it again
  if (e.open) {
    AtomicMin(counters_.min_time, e.open->min_time());
    s->open = std::move(e.open);
    s->open_partition = e.partition;
  }
  s->last_t = e.last_t;
  s->last_v_bits = e.last_v;
  AtomicMax(counters_.max_time, e.last_t);
  AtomicMax(next_ref_, e.ref + 1);
}

Status Tsdb::ReplayWalRecords() {
  std::string v;
  uint64_t first = 0;
  if (db_->Get(rocksdb::ReadOptions(), cf(kCfMeta), std::string(kMetaCheckpoint), &v).ok()) {
    Decoder d(v);
    if (!d.Uvarint(&first)) first = 0;
  }
  const auto started = std::chrono::steady_clock::now();
  uint64_t records = 0;
  uint64_t samples = 0;
  ReplayAppendShards shards(head_, ReplayWorkers());
  // Nothing leaves the head during replay; the guard makes Head::Find's
  // pointers valid under the head's rule all the same.
  const Head::ReadGuard guard(head_);
  ReplayTarget target{shards, {}};
  WalReplayStats damage;
  // Three stages: a thread reads and decodes the WAL's records, this one
  // creates their series and routes their samples, the shards' workers
  // append them.
  BatchPipe<WalCommit> pipe;
  Status s;
  std::thread reader([&] {
    constexpr size_t kBatchSamples = 1 << 16;
    std::vector<WalCommit> batch;
    size_t batch_samples = 0;
    const auto decode = [&](std::string_view payload) {
      auto commit = DecodeWalCommit(payload);
      if (!commit.ok()) {
        ++counters_.wal_corruptions;
        VLOG_WARN("skipping an undecodable WAL record", {{"err", commit.status().ToString()}});
        return;
      }
      batch_samples += commit->samples.size() + commit->series.size();
      batch.push_back(std::move(commit.value()));
      if (batch_samples >= kBatchSamples) {
        pipe.Push(std::exchange(batch, std::vector<WalCommit>()));
        batch_samples = 0;
      }
    };
    s = ReplayWal(wal_dir(), static_cast<uint32_t>(first), decode, &damage);
    if (!batch.empty()) pipe.Push(std::move(batch));
    pipe.Close();
  });
  std::vector<WalCommit> batch;
  while (pipe.Pop(&batch)) {
    for (const WalCommit& commit : batch) {
      ApplyReplayedCommit(commit, target);
      ++records;
      samples += commit.samples.size();
    }
  }
  reader.join();
  const auto [lo, hi] = shards.Finish();  // every replayed sample is in the head
  if (lo <= hi) {
    AtomicMin(counters_.min_time, lo);
    AtomicMax(counters_.max_time, hi);
  }
  counters_.wal_corruptions += damage.damaged_segments;
  VLOG_INFO("WAL replay completed",
            {{"records", std::to_string(records)},
             {"samples", std::to_string(samples)},
             {"first_segment", std::to_string(first)},
             {"duration", FormatSeconds(std::chrono::steady_clock::now() - started)}});
  return s;
}

void Tsdb::ApplyReplayedCommit(const WalCommit& commit, ReplayTarget& target) {
  for (const auto& ws : commit.series) {
    if (head_.Find(ws.ref) != nullptr) continue;
    bool created = false;
    const auto s = head_.Insert(ws.ref, ws.labels, ws.labels.Hash(), &created);
    if (s->ref != ws.ref) target.aliases[ws.ref] = s.get();
    AtomicMax(next_ref_, ws.ref + 1);
  }
  for (const auto& smp : commit.samples) {
    // Null: its series record was lost, or the series left the head (its data is on disk).
    if (MemSeries* s = target.Find(head_, smp.ref)) target.shards.Add(s, smp.t, smp.v);
  }
}

}  // namespace vigil::storage
