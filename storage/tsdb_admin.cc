// Admin operations: delete series (immediate rewrite, no tombstones),
// snapshot, compaction and historical (bulk) appends.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/coding.h"
#include "storage/db_layout.h"
#include "base/logger.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace fs = std::filesystem;
namespace {

// Samples of `chunk` outside [mint, maxt].
Result<std::vector<Sample>> SamplesOutside(std::string_view chunk, int64_t mint, int64_t maxt) {
  auto samples = DecodeChunk(chunk);
  if (!samples.ok()) return samples.status();
  std::erase_if(*samples, [&](const Sample& s) { return s.t >= mint && s.t <= maxt; });
  return samples;
}

std::unique_ptr<XorChunkEncoder> Encode(std::span<const Sample> samples) {
  auto enc = std::make_unique<XorChunkEncoder>();
  for (const auto& s : samples) enc->Append(s.t, s.v);
  return enc;
}

}  // namespace

Status Tsdb::DeleteFromHead(MemSeries& s, int64_t mint, int64_t maxt) {
  std::lock_guard lock(s.mu);
  for (auto it = s.unflushed.begin(); it != s.unflushed.end();) {
    auto kept = SamplesOutside(it->bytes, mint, maxt);
    if (!kept.ok()) return kept.status();
    if (kept->empty()) {
      it = s.unflushed.erase(it);
      continue;
    }
    *it = {it->partition, kept->front().t, kept->back().t, Encode(*kept)->bytes()};
    ++it;
  }
  if (!s.open) return Status::OK();
  auto kept = SamplesOutside(s.open->bytes(), mint, maxt);
  if (!kept.ok()) return kept.status();
  if (kept->empty()) {
    s.open.reset();
  } else {
    s.open = Encode(*kept);
  }
  return Status::OK();
}

Status Tsdb::DeleteFromDisk(SeriesRef ref, int64_t mint, int64_t maxt) {
  const int64_t pmin = PartitionOf(mint, tuning_.partition_ms);
  const int64_t pmax = PartitionOf(maxt, tuning_.partition_ms);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCfChunks)));
  for (const int64_t p : Partitions()) {
    if (p < pmin || p > pmax) continue;
    const std::string prefix = ChunkSeriesPrefix(p, ref);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const int64_t chunk_min = DecodeOrderedInt64(it->key().ToStringView().substr(16));
      ChunkValue cv;
      if (!DecodeChunkValue(it->value().ToStringView(), chunk_min, &cv)) {
        return Status::Corruption("chunk value of series " + std::to_string(ref));
      }
      if (cv.max_time < mint || chunk_min > maxt) continue;
      auto kept = SamplesOutside(cv.chunk, mint, maxt);
      if (!kept.ok()) return kept.status();
      (void)batch.Delete(cf(kCfChunks), it->key());
      if (kept->empty()) continue;
      (void)batch.Put(cf(kCfChunks), ChunkKey(p, ref, kept->front().t),
                      EncodeChunkValue(kept->front().t, kept->back().t, Encode(*kept)->bytes()));
    }
  }
  VIGIL_RETURN_IF_ERROR(FromRocks(it->status(), "reading chunks to delete"));
  return FromRocks(db_->Write(StoreWrite(), &batch), "rewriting chunks");
}

Status Tsdb::DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) {
  VIGIL_RETURN_IF_ERROR(ValidateSelectorMatchers(matchers));
  std::lock_guard admin(admin_mu_);
  VIGIL_RETURN_IF_ERROR(FlushClosedChunks());
  auto series = MatchingSeries(mint, maxt, matchers);
  if (!series.ok()) return series.status();
  for (const auto& [ref, labels] : *series) {
    if (const auto s = head_.ByRef(ref)) VIGIL_RETURN_IF_ERROR(DeleteFromHead(*s, mint, maxt));
    VIGIL_RETURN_IF_ERROR(DeleteFromDisk(ref, mint, maxt));
  }
  VLOG_INFO("Deleted series data", {{"series", std::to_string(series->size())},
                                    {"mint", std::to_string(mint)},
                                    {"maxt", std::to_string(maxt)}});
  // The WAL still holds the deleted samples: checkpoint so replay cannot bring them back.
  return CheckpointLocked();
}

Status Tsdb::Snapshot(const std::string& dir, bool skip_head) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::InvalidArgument("snapshot directory already exists: " + dir);
  std::lock_guard admin(admin_mu_);
  if (!skip_head) VIGIL_RETURN_IF_ERROR(CheckpointLocked());
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating snapshot directory " + dir + ": " + ec.message());
  rocksdb::Checkpoint* raw = nullptr;
  VIGIL_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "creating checkpoint"));
  const std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  VIGIL_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint((fs::path(dir) / "db").string()),
                                  "writing snapshot to " + dir));
  if (skip_head) return Status::OK();
  // The WAL since the checkpoint holds what the head received meanwhile; a
  // record torn by this copy is truncated when the snapshot is opened.
  const std::string wal_copy = (fs::path(dir) / "wal").string();
  fs::create_directories(wal_copy, ec);
  auto segments = ListWalSegments(wal_dir());
  if (!segments.ok()) return segments.status();
  for (const uint32_t n : *segments) {
    fs::copy_file(WalSegmentPath(wal_dir(), n), WalSegmentPath(wal_copy, n), ec);
    if (ec) return Status::IOError("copying WAL segment into snapshot: " + ec.message());
  }
  return Status::OK();
}

Status Tsdb::Compact() {
  VIGIL_RETURN_IF_ERROR(FlushClosedChunks());
  VIGIL_RETURN_IF_ERROR(FlushMemtables());
  for (auto* h : cfs_) {
    VIGIL_RETURN_IF_ERROR(FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr),
                                    "compacting"));
  }
  return Status::OK();
}

Status Tsdb::WriteHistoricalPartition(const MemSeries& s, int64_t partition,
                                      std::span<const Sample> samples) {
  // Merge with what the partition already holds for the series; stored samples win.
  std::map<int64_t, double> merged;
  rocksdb::WriteBatch batch;
  const std::string prefix = ChunkSeriesPrefix(partition, s.ref);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(kCfChunks)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const int64_t chunk_min = DecodeOrderedInt64(it->key().ToStringView().substr(16));
    ChunkValue cv;
    if (!DecodeChunkValue(it->value().ToStringView(), chunk_min, &cv)) {
      return Status::Corruption("chunk value of series " + std::to_string(s.ref));
    }
    auto existing = DecodeChunk(cv.chunk);
    if (!existing.ok()) return existing.status();
    for (const auto& smp : *existing) merged[smp.t] = smp.v;
    (void)batch.Delete(cf(kCfChunks), it->key());
  }
  VIGIL_RETURN_IF_ERROR(FromRocks(it->status(), "reading chunks"));
  for (const auto& smp : samples) merged.try_emplace(smp.t, smp.v);
  std::vector<Sample> all;
  all.reserve(merged.size());
  for (const auto& [t, v] : merged) all.push_back({t, v});
  for (size_t i = 0; i < all.size(); i += kMaxChunkSamples) {
    const std::span<const Sample> part(all.data() + i, std::min<size_t>(kMaxChunkSamples, all.size() - i));
    (void)batch.Put(cf(kCfChunks), ChunkKey(partition, s.ref, part.front().t),
                    EncodeChunkValue(part.front().t, part.back().t, Encode(part)->bytes()));
  }
  for (const auto& l : s.labels) {
    (void)batch.Put(cf(kCfPostings), PostingKey(partition, l.name, l.value, s.ref), "");
  }
  std::string v;
  PutLabels(&v, s.labels);
  (void)batch.Put(cf(kCfSeries), SeriesKey(s.ref), v);
  (void)batch.Put(cf(kCfSeries), SeriesHashKey(s.labels.Hash(), s.ref), "");
  rocksdb::WriteOptions sync;
  sync.sync = true;  // these samples are in no Vigil WAL: through RocksDB's, synced
  if (Status st = FromRocks(db_->Write(sync, &batch), "writing historical chunks"); !st.ok()) {
    NoteWriteFailure(st);
    return st;
  }
  partitions_.Insert(partition);
  return Status::OK();
}

Status Tsdb::AppendHistorical(const Labels& labels, std::span<const Sample> samples) {
  if (samples.empty()) return Status::OK();
  if (writes_blocked()) return Writable();
  const int64_t now = options_.clock->NowMillis();
  VIGIL_RETURN_IF_ERROR(CheckNotInFuture(labels, samples.back().t, now));
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].t <= samples[i - 1].t) {
      return Status::InvalidArgument("historical samples must have strictly increasing timestamps");
    }
  }
  std::lock_guard admin(admin_mu_);
  bool created = false;
  auto series = GetOrCreateSeries(labels, &created);
  if (!series.ok()) return series.status();
  MemSeries& s = **series;
  {
    std::lock_guard lock(s.mu);
    const int64_t head_min = !s.unflushed.empty() ? s.unflushed.front().min_time
                             : s.open             ? s.open->min_time()
                                                  : kMaxTime;
    if (samples.back().t >= head_min) {
      return Status(StatusCode::kOutOfBounds,
                    "historical samples overlap the series' in-memory data; append them normally");
    }
  }
  size_t begin = 0;
  while (begin < samples.size()) {
    const int64_t p = PartitionOf(samples[begin].t, tuning_.partition_ms);
    size_t end = begin;
    while (end < samples.size() && PartitionOf(samples[end].t, tuning_.partition_ms) == p) ++end;
    VIGIL_RETURN_IF_ERROR(WriteHistoricalPartition(s, p, samples.subspan(begin, end - begin)));
    begin = end;
  }
  {
    std::lock_guard lock(s.mu);
    s.persisted = true;
  }
  int64_t cur = counters_.min_time.load();
  while (samples.front().t < cur && !counters_.min_time.compare_exchange_weak(cur, samples.front().t)) {
  }
  cur = counters_.max_time.load();
  while (samples.back().t > cur && !counters_.max_time.compare_exchange_weak(cur, samples.back().t)) {
  }
  return Status::OK();
}

}  // namespace vigil::storage
