#include "storage/tsdb.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <limits>

#include "base/coding.h"
#include "storage/data_dir_lock.h"
#include "storage/db_layout.h"
#include "base/logger.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace fs = std::filesystem;

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  const StatusCode code = s.IsCorruption() ? StatusCode::kCorruption : StatusCode::kIOError;
  return Status(code, what + ": " + s.ToString());
}

namespace {

void AtomicMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void AtomicMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

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

// The head CF value: labels, newest sample, open chunk partition and bytes.
std::string EncodeHeadEntry(const MemSeries& s) {
  std::string v;
  PutLabels(&v, s.labels);
  PutVarint(&v, s.last_t);
  PutFixed64LE(&v, s.last_v_bits);
  PutVarint(&v, s.open_partition);
  if (s.open) v.append(s.open->bytes());  // empty: the series has no open chunk
  return v;
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

// WAL replay looks a series up per sample. Refs are handed out densely, so a
// vector indexed by ref replaces the locked hash lookup and shared_ptr copy
// of Head::ByRef (replay is single-threaded and nothing leaves the head
// meanwhile). Refs outside the table's span fall back to Head::ByRef.
class ReplaySeriesTable {
 public:
  explicit ReplaySeriesTable(const Head& head) : head_(head) {
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

 private:
  static constexpr SeriesRef kMaxSlots = SeriesRef{1} << 26;  // 512 MiB of pointers at most
  const Head& head_;
  SeriesRef base_ = 0;
  std::vector<MemSeries*> slots_;
};

Tsdb::Tsdb(const StorageOptions& options, const TsdbTuning& tuning)
    : options_(options),
      tuning_(tuning),
      db_dir_((fs::path(options.path) / "db").string()),
      wal_dir_((fs::path(options.path) / "wal").string()),
      head_(tuning.partition_ms),
      retention_ms_(options.retention_ms),
      retention_bytes_(options.retention_bytes) {}

Tsdb::~Tsdb() {
  const Status s = Close();
  if (!s.ok()) VLOG_ERROR("closing the store failed", {{"err", s.ToString()}});
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
  VIGIL_RETURN_IF_ERROR(db->LoadHeadCheckpoint());
  VIGIL_RETURN_IF_ERROR(db->ReplayWalRecords());
  WalWriterOptions wal_options;
  wal_options.max_record_bytes = tuning.wal_max_record_bytes;
  wal_options.recovery_backoff_ms = tuning.wal_recovery_backoff_ms;
  auto wal = WalWriter::Open(db->wal_dir_, wal_options);
  if (!wal.ok()) return wal.status();
  db->wal_ = std::move(wal.value());
  for (const auto& s : db->head_.AllSeries()) {
    if (!s->unflushed.empty()) db->EnqueueFlush(s);
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
  rocks_listener_ = NewRocksErrorListener(this);
  rocksdb::Options options = DbOptions();
  options.listeners.push_back(rocks_listener_);
  const rocksdb::Status s = rocksdb::DB::Open(options, db_dir_, descs, &cfs_, &raw);
  if (!s.ok()) {
    const std::string damaged = s.IsCorruption() ? FindDamagedTable(db_dir_) : "";
    return FromRocks(s, "cannot open the RocksDB store in " + db_dir_ +
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
      retention_ms_ = ms;
      retention_bytes_ = bytes;
      retention_from_runtime_ = true;
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
    partitions_.insert(p);
    if (first) AtomicMin(min_time_, DecodeOrderedInt64(key.substr(16)));
    first = false;
    ChunkValue cv;
    if (DecodeChunkValue(it->value().ToStringView(), DecodeOrderedInt64(key.substr(16)), &cv)) {
      AtomicMax(max_time_, cv.max_time);
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
    auto samples = d.rest().empty() ? Result<std::vector<Sample>>(std::vector<Sample>())
                                    : DecodeChunk(d.rest());
    if (!samples.ok()) {
      VLOG_WARN("skipping a damaged head checkpoint chunk", {{"ref", std::to_string(ref)}});
      continue;
    }
    bool created = false;
    auto s = head_.Insert(ref, labels, labels.Hash(), &created);
    std::lock_guard lock(s->mu);
    s->logged = false;  // the WAL segments holding its record are gone: log it again
    if (!samples->empty()) {
      s->open = std::make_unique<XorChunkEncoder>();
      s->open_partition = partition;
      for (const auto& smp : *samples) s->open->Append(smp.t, smp.v);
      AtomicMin(min_time_, samples->front().t);
    }
    s->last_t = last_t;
    s->last_v_bits = last_v;
    AtomicMax(max_time_, last_t);
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
  ReplaySeriesTable table(head_);
  WalReplayStats damage;
  const auto apply = [&](std::string_view payload) {
    auto commit = DecodeWalCommit(payload);
    if (!commit.ok()) {
      ++wal_corruptions_;
      VLOG_WARN("skipping an undecodable WAL record", {{"err", commit.status().ToString()}});
      return;
    }
    ApplyReplayedCommit(*commit, table);
    ++records;
  };
  const Status s = ReplayWal(wal_dir_, static_cast<uint32_t>(first), apply, &damage);
  wal_corruptions_ += damage.damaged_segments;
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
  int64_t lo = kMaxTime, hi = kMinTime;
  for (const auto& smp : commit.samples) {
    MemSeries* s = table.Find(smp.ref);
    if (s == nullptr) continue;  // its series record was lost, or the series left the head (on disk)
    bool cut = false;
    std::lock_guard lock(s->mu);
    // Samples already in the checkpoint (or rejected originally) fail the
    // ordering check here exactly as they did at commit time.
    if (head_.Append(*s, smp.t, smp.v, &cut) == AppendOutcome::kAppended) {
      lo = std::min(lo, smp.t);
      hi = std::max(hi, smp.t);
    }
  }
  if (lo <= hi) {
    AtomicMin(min_time_, lo);
    AtomicMax(max_time_, hi);
  }
}

void Tsdb::StartThreads() {
  if (!tuning_.background) return;
  flusher_ = std::thread([this] { FlusherLoop(); });
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
}

void Tsdb::StopThreads() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  {
    std::lock_guard lock(flush_mu_);
    flush_cv_.notify_all();
  }
  stop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (maintenance_.joinable()) maintenance_.join();
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

Status Tsdb::CommitBatch(std::vector<WalSample>& samples,
                         std::vector<std::shared_ptr<MemSeries>>& series) {
  if (samples.empty()) return Status::OK();
  if (writes_blocked()) return Writable();
  std::shared_lock barrier(commit_barrier_);
  VIGIL_RETURN_IF_ERROR(ResolveRemovedSeries(samples, series));
  {
    std::lock_guard order(wal_order_mu_);
    std::vector<WalSeries> new_series;
    std::vector<MemSeries*> flagged;
    for (const auto& s : series) {
      if (s->logged.load(std::memory_order_relaxed)) continue;
      s->logged.store(true, std::memory_order_relaxed);
      new_series.push_back({s->ref, s->labels});
      flagged.push_back(s.get());
    }
    const std::string payload = EncodeWalCommit(new_series, samples);
    const Status st = wal_->Append(payload, options_.wal_sync == WalSyncPolicy::kEveryCommit);
    if (!st.ok()) {
      ++wal_writes_failed_;
      for (auto* s : flagged) s->logged.store(false, std::memory_order_relaxed);
      NoteWalFailure(st);
      return writes_blocked() ? Writable() : st;
    }
  }
  int64_t lo = kMaxTime, hi = kMinTime;
  uint64_t appended = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
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
    if (enqueue) EnqueueFlush(series[i]);
    switch (outcome) {
      case AppendOutcome::kAppended:
        ++appended;
        lo = std::min(lo, samples[i].t);
        hi = std::max(hi, samples[i].t);
        break;
      case AppendOutcome::kOutOfOrder: ++out_of_order_; break;
      case AppendOutcome::kDuplicate: ++duplicates_; break;
      case AppendOutcome::kSameSample: break;
    }
  }
  samples_appended_.fetch_add(appended, std::memory_order_relaxed);
  if (appended > 0) {
    AtomicMin(min_time_, lo);
    AtomicMin(head_min_time_, lo);
    AtomicMax(max_time_, hi);
  }
  return Status::OK();
}

Status Tsdb::ResolveRemovedSeries(std::vector<WalSample>& samples,
                                  std::vector<std::shared_ptr<MemSeries>>& series) {
  for (size_t i = 0; i < series.size(); ++i) {
    // Head GC sets `removed` only while it holds the barrier exclusively.
    if (!series[i]->removed.load(std::memory_order_relaxed)) continue;
    bool created = false;
    auto current = GetOrCreateSeries(series[i]->labels, &created);
    if (!current.ok()) return current.status();
    series[i] = std::move(current.value());
    samples[i].ref = series[i]->ref;
  }
  return Status::OK();
}

void Tsdb::EnqueueFlush(const std::shared_ptr<MemSeries>& s) {
  {
    std::lock_guard lock(flush_mu_);
    flush_queue_.push_back(s);
  }
  flush_cv_.notify_one();
}

Status Tsdb::FlushSeries(MemSeries& s) {
  std::vector<ChunkCopy> chunks;
  int64_t indexed = kMinTime;
  bool persisted = false;
  {
    std::lock_guard lock(s.mu);
    chunks = s.unflushed;
    indexed = s.indexed_partition;
    persisted = s.persisted;
  }
  if (chunks.empty()) return Status::OK();
  if (writes_blocked()) return Writable();
  rocksdb::WriteBatch batch;
  std::vector<int64_t> new_partitions;
  for (const auto& c : chunks) {
    (void)batch.Put(cf(kCfChunks), ChunkKey(c.partition, s.ref, c.min_time),
                    EncodeChunkValue(c.min_time, c.max_time, c.bytes));
    if (c.partition == indexed) continue;
    indexed = c.partition;
    new_partitions.push_back(c.partition);
    for (const auto& l : s.labels) {
      (void)batch.Put(cf(kCfPostings), PostingKey(c.partition, l.name, l.value, s.ref), "");
    }
  }
  if (!persisted) {
    std::string v;
    PutLabels(&v, s.labels);
    (void)batch.Put(cf(kCfSeries), SeriesKey(s.ref), v);
    (void)batch.Put(cf(kCfSeries), SeriesHashKey(s.labels.Hash(), s.ref), "");
  }
  if (Status st = FromRocks(db_->Write(StoreWrite(), &batch), "writing chunks"); !st.ok()) {
    NoteWriteFailure(st);
    return st;
  }
  {
    std::lock_guard lock(partitions_mu_);
    partitions_.insert(new_partitions.begin(), new_partitions.end());
  }
  chunks_flushed_.fetch_add(chunks.size(), std::memory_order_relaxed);
  std::lock_guard lock(s.mu);
  const int64_t flushed_until = chunks.back().min_time;
  while (!s.unflushed.empty() && s.unflushed.front().min_time <= flushed_until) {
    s.unflushed.erase(s.unflushed.begin());
  }
  s.indexed_partition = std::max(s.indexed_partition, indexed);
  s.persisted = true;
  return Status::OK();
}

Status Tsdb::FlushClosedChunks() {
  const int64_t newest = max_time_.load();
  int64_t oldest = kMaxTime;
  for (const auto& s : head_.AllSeries()) {
    VIGIL_RETURN_IF_ERROR(FlushSeries(*s));
    std::lock_guard lock(s->mu);
    oldest = std::min(oldest, Head::OldestInMemory(*s));
  }
  SetHeadMinTime(oldest, newest);
  return Status::OK();
}

void Tsdb::SetHeadMinTime(int64_t oldest, int64_t newest) {
  const int64_t committed_meanwhile = newest == kMinTime ? kMinTime : newest - tuning_.head_gc_idle_ms;
  head_min_time_.store(std::min(oldest, committed_meanwhile));
}

void Tsdb::FlusherLoop() {
  for (;;) {
    std::vector<std::shared_ptr<MemSeries>> batch;
    {
      std::unique_lock lock(flush_mu_);
      flush_cv_.wait(lock, [&] { return !flush_queue_.empty() || stopping_.load(); });
      if (flush_queue_.empty()) return;
      while (!flush_queue_.empty() && batch.size() < 1024) {
        batch.push_back(std::move(flush_queue_.front()));
        flush_queue_.pop_front();
      }
    }
    for (const auto& s : batch) {
      const Status st = FlushSeries(*s);
      // While writes are blocked the chunks wait in memory; TryResumeWrites flushes them.
      if (!st.ok() && !writes_blocked()) VLOG_ERROR("flushing chunks failed", {{"err", st.ToString()}});
      bool again = false;
      {
        std::lock_guard lock(s->mu);
        again = !s->unflushed.empty() && st.ok();
        s->flush_queued = again;
      }
      if (again) EnqueueFlush(s);
    }
  }
}

Status Tsdb::Checkpoint() {
  std::lock_guard admin(admin_mu_);
  return CheckpointLocked();
}

Status Tsdb::CheckpointLocked() {
  if (!wal_ || !db_) return Status::OK();
  if (writes_blocked()) return Writable();
  uint32_t segment = 0;
  {
    std::unique_lock barrier(commit_barrier_);
    auto cut = wal_->Cut();
    if (!cut.ok()) {
      NoteWalFailure(cut.status());
      return cut.status();
    }
    segment = *cut;
  }
  VIGIL_RETURN_IF_ERROR(FlushClosedChunks());
  rocksdb::WriteBatch batch;
  for (const auto& s : head_.AllSeries()) {
    std::lock_guard lock(s->mu);
    // Every series, even without an open chunk: later WAL records may refer
    // to it while its own series record is in a segment deleted below.
    (void)batch.Put(cf(kCfHead), HeadKey(s->ref), EncodeHeadEntry(*s));
    if (batch.GetDataSize() > (16u << 20)) {
      VIGIL_RETURN_IF_ERROR(FromRocks(db_->Write(StoreWrite(), &batch), "writing head checkpoint"));
      batch.Clear();
    }
  }
  std::string next, seg;
  PutUvarint(&next, next_ref_.load());
  PutUvarint(&seg, segment);
  (void)batch.Put(cf(kCfMeta), std::string(kMetaNextRef), next);
  (void)batch.Put(cf(kCfMeta), std::string(kMetaCheckpoint), seg);
  VIGIL_RETURN_IF_ERROR(FromRocks(db_->Write(StoreWrite(), &batch), "writing head checkpoint"));
  // Every RocksDB write so far reaches the disk before the WAL segments
  // that could replay it go.
  VIGIL_RETURN_IF_ERROR(FlushMemtables());
  VIGIL_RETURN_IF_ERROR(DeleteWalSegmentsBefore(wal_dir_, segment));
  checkpoint_bytes_mark_ = wal_->bytes_written();
  VLOG_DEBUG("WAL checkpoint written", {{"first_segment", std::to_string(segment)}});
  return Status::OK();
}

void Tsdb::MaintenanceLoop() {
  int64_t since_sync = 0;
  int64_t since_retention = 0;
  int64_t since_gc = 0;
  const int64_t tick = std::max<int64_t>(
      1, std::min(tuning_.maintenance_interval_ms, options_.wal_sync_interval_ms));
  // Logs a failed background step; an IO error blocks writes.
  const auto check = [this](const Status& s, const char* what) {
    if (s.ok() || writes_blocked()) return;
    VLOG_ERROR(what, {{"err", s.ToString()}});
    NoteWriteFailure(s);
  };
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(tick), [&] { return stopping_.load(); })) {
    lock.unlock();
    since_sync += tick;
    since_retention += tick;
    since_gc += tick;
    if (writes_blocked()) {
      // Nothing else writes until the cause is gone (disk full: space freed).
      (void)TryResumeWrites();
      lock.lock();
      continue;
    }
    if (options_.wal_sync == WalSyncPolicy::kPeriodic && since_sync >= options_.wal_sync_interval_ms) {
      since_sync = 0;
      const Status synced = wal_->Sync();
      if (!synced.ok()) VLOG_ERROR("WAL fsync failed", {{"err", synced.ToString()}});
      NoteWalFailure(synced);
    }
    if (wal_->bytes_written() - checkpoint_bytes_mark_ >= tuning_.checkpoint_wal_bytes) {
      check(Checkpoint(), "WAL checkpoint failed");
    }
    if (since_gc >= tuning_.head_gc_interval_ms) {
      since_gc = 0;
      const auto removed = CollectIdleSeries();
      check(removed.status(), "head garbage collection failed");
    }
    if (since_retention >= tuning_.retention_interval_ms) {
      since_retention = 0;
      check(ApplyRetention(), "applying retention failed");
    }
    lock.lock();
  }
}

std::vector<int64_t> Tsdb::Partitions() const {
  std::lock_guard lock(partitions_mu_);
  return {partitions_.begin(), partitions_.end()};
}

}  // namespace vigil::storage
