// The store's side of retention (storage/retention.h decides what goes):
// whole time partitions leave via DeleteRange plus a compaction of that key
// range, series of a partition via a range delete of their chunk keys and
// their postings; never by scanning samples.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "base/coding.h"
#include "base/logger.h"
#include "storage/db_layout.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {

Status Tsdb::DropPartitions(int64_t first, int64_t last) {
  const std::string begin = PartitionPrefix(first);
  const std::string end = PartitionPrefix(last + 1);
  for (const int cf_index : {kCfChunks, kCfPostings}) {
    VIGIL_RETURN_IF_ERROR(FromRocks(db_->DeleteRange(StoreWrite(), cf(cf_index), begin, end),
                                    "deleting expired partitions"));
  }
  if (const auto oldest = partitions_.Erase(first, last)) {
    AtomicMax(counters_.min_time, *oldest * tuning_.partition_ms);
  }
  const rocksdb::Slice b(begin), e(end);
  for (const int cf_index : {kCfChunks, kCfPostings}) {
    VIGIL_RETURN_IF_ERROR(FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), cf(cf_index), &b, &e),
                                    "compacting expired partitions"));
  }
  VLOG_INFO("Deleted expired time partitions",
            {{"first_partition_start_ms", std::to_string(first * tuning_.partition_ms)},
             {"last_partition_end_ms", std::to_string((last + 1) * tuning_.partition_ms)}});
  return Status::OK();
}

Result<std::vector<std::pair<SeriesRef, Labels>>> Tsdb::SeriesInRange(int64_t mint, int64_t maxt) {
  const LabelMatchers all = {LabelMatcher::Make(MatchType::kRegexMatch, "__name__", ".+").value()};
  return MatchingSeries(mint, maxt, all);
}

Status Tsdb::DeleteSeriesInPartition(int64_t partition,
                                     const std::vector<std::pair<SeriesRef, Labels>>& series) {
  rocksdb::WriteBatch batch;
  for (const auto& [ref, labels] : series) {
    const std::string begin = ChunkSeriesPrefix(partition, ref);
    VIGIL_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(cf(kCfChunks), begin, PrefixEnd(begin)),
                                    "deleting expired chunks"));
    for (const auto& l : labels) {
      VIGIL_RETURN_IF_ERROR(
          FromRocks(batch.Delete(cf(kCfPostings), PostingKey(partition, l.name, l.value, ref)),
                    "deleting expired postings"));
    }
  }
  return FromRocks(db_->Write(StoreWrite(), &batch), "applying retention rules");
}

Status Tsdb::PersistRetention(int64_t retention_ms, int64_t retention_bytes) {
  std::string v;
  PutVarint(&v, retention_ms);
  PutVarint(&v, retention_bytes);
  VIGIL_RETURN_IF_ERROR(FromRocks(db_->Put(StoreWrite(), cf(kCfMeta), std::string(kMetaRetention), v),
                                  "persisting retention"));
  return FlushMemtables();
}

Status Tsdb::ApplyRetention() {
  std::lock_guard admin(admin_mu_);
  if (!db_) return Status::OK();
  if (writes_blocked()) return Writable();
  // Measured from the newest sample but never from beyond the clock: a
  // sample stored from the far future must not expire the whole history.
  return retention_.Apply(NewestForRetention());
}

Status Tsdb::SetRetention(int64_t retention_ms, int64_t retention_bytes) {
  return retention_.Set(retention_ms, retention_bytes);
}

RetentionSettings Tsdb::GetRetention() const { return retention_.Get(); }

}  // namespace vigil::storage
