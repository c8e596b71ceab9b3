#include "storage/retention.h"

#include <algorithm>
#include <set>
#include <string>

#include "base/logger.h"
#include "storage/db_layout.h"
#include "storage/retention_rules.h"

namespace vigil::storage {
namespace {

// Distinct retentions whose cutoff lies after the partition's last millisecond.
size_t ExpiredRetentions(const std::vector<RetentionRule>& rules, int64_t global_ms,
                         int64_t partition_end, int64_t newest) {
  std::set<int64_t> expired;
  for (const auto& rule : rules) {
    if (partition_end < newest - rule.retention_ms) expired.insert(rule.retention_ms);
  }
  if (global_ms > 0 && partition_end < newest - global_ms) expired.insert(global_ms);
  return expired.size();
}

}  // namespace

Retention::Retention(const StorageOptions& options, int64_t partition_ms, RetentionStore* store)
    : rules_(options.retention_rules),
      clock_(options.clock),
      partition_ms_(partition_ms),
      store_(store),
      retention_ms_(options.retention_ms),
      retention_bytes_(options.retention_bytes) {}

void Retention::Restore(int64_t retention_ms, int64_t retention_bytes) {
  retention_ms_ = retention_ms;
  retention_bytes_ = retention_bytes;
  from_runtime_ = true;
}

Status Retention::Set(int64_t retention_ms, int64_t retention_bytes) {
  if (retention_ms < 0 || retention_bytes < 0) {
    return Status::InvalidArgument("retention limits must not be negative");
  }
  VIGIL_RETURN_IF_ERROR(store_->PersistRetention(retention_ms, retention_bytes));
  Restore(retention_ms, retention_bytes);
  VLOG_INFO("Retention changed", {{"retention_ms", std::to_string(retention_ms)},
                                  {"retention_bytes", std::to_string(retention_bytes)}});
  return Status::OK();
}

RetentionSettings Retention::Get() const {
  return {retention_ms_.load(), retention_bytes_.load(), from_runtime_.load()};
}

Status Retention::Apply(int64_t newest) {
  if (!store_->Partitions().empty() && newest != kMinTime) {
    const int64_t newest_partition = PartitionOf(newest, partition_ms_);
    VIGIL_RETURN_IF_ERROR(ApplyTime(newest, newest_partition));
    VIGIL_RETURN_IF_ERROR(ApplyRules(newest, newest_partition));
    VIGIL_RETURN_IF_ERROR(ApplySize(newest_partition));
  }
  last_run_ms_ = clock_->NowMillis();
  return Status::OK();
}

Status Retention::ApplyTime(int64_t newest, int64_t newest_partition) {
  // With per-metric rules, whole partitions go only once the longest rule
  // expired them; ApplyRules removes the other series earlier.
  const int64_t keep_ms = PartitionDropRetention(rules_, retention_ms_.load());
  if (keep_ms <= 0) return Status::OK();
  const std::vector<int64_t> parts = store_->Partitions();
  // A partition goes once its last millisecond is older than newest - retention.
  const int64_t cutoff = newest - keep_ms;
  int64_t last_expired = kMinTime;
  for (const int64_t p : parts) {
    if ((p + 1) * partition_ms_ - 1 < cutoff && p < newest_partition) last_expired = p;
  }
  if (last_expired == kMinTime) return Status::OK();
  VIGIL_RETURN_IF_ERROR(store_->DropPartitions(parts.front(), last_expired));
  time_retentions_ += static_cast<uint64_t>(
      std::ranges::count_if(parts, [&](int64_t p) { return p <= last_expired; }));
  return Status::OK();
}

Status Retention::ApplyRules(int64_t newest, int64_t newest_partition) {
  if (rules_.empty()) return Status::OK();
  const int64_t global = retention_ms_.load();
  const int64_t pm = partition_ms_;
  const std::vector<int64_t> parts = store_->Partitions();
  std::erase_if(rule_passes_,
                [&](const auto& pass) { return !std::ranges::binary_search(parts, pass.first); });
  for (const int64_t p : parts) {
    if (p >= newest_partition) break;
    const int64_t end = (p + 1) * pm - 1;
    const size_t expired = ExpiredRetentions(rules_, global, end, newest);
    // A partition is visited again only when one more retention expired it.
    if (expired == 0 || rule_passes_[p] == expired) continue;
    auto series = store_->SeriesInRange(p * pm, end);
    if (!series.ok()) return series.status();
    std::erase_if(*series, [&](const auto& entry) {
      const int64_t keep = EffectiveRetention(rules_, global, entry.second);
      return keep <= 0 || end >= newest - keep;
    });
    if (!series->empty()) {
      VIGIL_RETURN_IF_ERROR(store_->DeleteSeriesInPartition(p, *series));
      rule_deletions_ += series->size();
      VLOG_INFO("Retention rules deleted series data",
                {{"partition_start_ms", std::to_string(p * pm)},
                 {"series", std::to_string(series->size())}});
    }
    rule_passes_[p] = expired;
  }
  return Status::OK();
}

Status Retention::ApplySize(int64_t newest_partition) {
  const int64_t keep_bytes = retention_bytes_.load();
  if (keep_bytes <= 0) return Status::OK();
  std::vector<int64_t> parts = store_->Partitions();
  while (parts.size() > 1 && parts.front() < newest_partition &&
         static_cast<int64_t>(store_->BytesOnDisk()) > keep_bytes) {
    VIGIL_RETURN_IF_ERROR(store_->DropPartitions(parts.front(), parts.front()));
    ++size_retentions_;
    parts = store_->Partitions();
  }
  return Status::OK();
}

}  // namespace vigil::storage
