// Retention: whole time partitions leave the store via DeleteRange plus a
// compaction of that key range; never by scanning samples.
#include <rocksdb/db.h>

#include <algorithm>

#include "base/coding.h"
#include "storage/db_layout.h"
#include "base/logger.h"
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
  {
    std::lock_guard lock(partitions_mu_);
    partitions_.erase(partitions_.lower_bound(first), partitions_.upper_bound(last));
    if (!partitions_.empty()) {
      int64_t oldest = *partitions_.begin() * tuning_.partition_ms;
      int64_t cur = min_time_.load();
      while (cur < oldest && !min_time_.compare_exchange_weak(cur, oldest)) {
      }
    }
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

Status Tsdb::ApplyRetention() {
  std::lock_guard admin(admin_mu_);
  if (!db_) return Status::OK();
  if (writes_blocked()) return Writable();
  std::vector<int64_t> parts = Partitions();
  // Measured from the newest sample but never from beyond the clock: a
  // sample stored from the far future must not expire the whole history.
  const int64_t newest = NewestForRetention();
  if (parts.empty() || newest == kMinTime) {
    last_retention_run_ms_ = options_.clock->NowMillis();
    return Status::OK();
  }
  const int64_t newest_partition = PartitionOf(newest, tuning_.partition_ms);
  // With per-metric rules, whole partitions go only once the longest rule
  // expired them; ApplyRetentionRules removes the other series earlier.
  const int64_t keep_ms = PartitionDropRetention(options_.retention_rules, retention_ms_.load());
  if (keep_ms > 0) {
    // A partition goes once its last millisecond is older than newest - retention.
    const int64_t cutoff = newest - keep_ms;
    int64_t last_expired = kMinTime;
    for (const int64_t p : parts) {
      if ((p + 1) * tuning_.partition_ms - 1 < cutoff && p < newest_partition) last_expired = p;
    }
    if (last_expired != kMinTime) {
      VIGIL_RETURN_IF_ERROR(DropPartitions(parts.front(), last_expired));
      time_retentions_ += static_cast<uint64_t>(std::ranges::count_if(
          parts, [&](int64_t p) { return p <= last_expired; }));
      parts = Partitions();
    }
  }
  VIGIL_RETURN_IF_ERROR(ApplyRetentionRules(newest));
  const int64_t keep_bytes = retention_bytes_.load();
  while (keep_bytes > 0 && parts.size() > 1 && parts.front() < newest_partition &&
         static_cast<int64_t>(BytesOnDisk()) > keep_bytes) {
    VIGIL_RETURN_IF_ERROR(DropPartitions(parts.front(), parts.front()));
    ++size_retentions_;
    parts = Partitions();
  }
  last_retention_run_ms_ = options_.clock->NowMillis();
  return Status::OK();
}

Status Tsdb::SetRetention(int64_t retention_ms, int64_t retention_bytes) {
  if (retention_ms < 0 || retention_bytes < 0) {
    return Status::InvalidArgument("retention limits must not be negative");
  }
  std::string v;
  PutVarint(&v, retention_ms);
  PutVarint(&v, retention_bytes);
  VIGIL_RETURN_IF_ERROR(FromRocks(db_->Put(StoreWrite(), cf(kCfMeta), std::string(kMetaRetention), v),
                                  "persisting retention"));
  VIGIL_RETURN_IF_ERROR(FlushMemtables());
  retention_ms_ = retention_ms;
  retention_bytes_ = retention_bytes;
  retention_from_runtime_ = true;
  VLOG_INFO("Retention changed", {{"retention_ms", std::to_string(retention_ms)},
                                  {"retention_bytes", std::to_string(retention_bytes)}});
  return Status::OK();
}

RetentionSettings Tsdb::GetRetention() const {
  return {retention_ms_.load(), retention_bytes_.load(), retention_from_runtime_.load()};
}

}  // namespace vigil::storage
