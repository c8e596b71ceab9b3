// Per-metric retention: which series a rule covers, and the per-partition,
// per-series deletion the background retention runs for them.
#include "storage/retention_rules.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>

#include "storage/db_layout.h"
#include "base/logger.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {

int64_t EffectiveRetention(const std::vector<RetentionRule>& rules, int64_t global_ms,
                           const Labels& labels) {
  for (const auto& rule : rules) {
    if (MatchesAll(rule.matchers, labels)) return rule.retention_ms;
  }
  return global_ms;
}

int64_t PartitionDropRetention(const std::vector<RetentionRule>& rules, int64_t global_ms) {
  if (global_ms <= 0) return 0;
  int64_t longest = global_ms;
  for (const auto& rule : rules) longest = std::max(longest, rule.retention_ms);
  return longest;
}

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

Status Tsdb::DeleteSeriesInPartition(rocksdb::WriteBatch& batch, int64_t partition, SeriesRef ref,
                                     const Labels& labels) {
  const std::string begin = ChunkSeriesPrefix(partition, ref);
  VIGIL_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(cf(kCfChunks), begin, PrefixEnd(begin)),
                                  "deleting expired chunks"));
  for (const auto& l : labels) {
    VIGIL_RETURN_IF_ERROR(
        FromRocks(batch.Delete(cf(kCfPostings), PostingKey(partition, l.name, l.value, ref)),
                  "deleting expired postings"));
  }
  return Status::OK();
}

Status Tsdb::ApplyRetentionRules(int64_t newest) {
  const auto& rules = options_.retention_rules;
  if (rules.empty()) return Status::OK();
  const int64_t global = retention_ms_.load();
  const int64_t pm = tuning_.partition_ms;
  const int64_t newest_partition = PartitionOf(newest, pm);
  const LabelMatchers all = {LabelMatcher::Make(MatchType::kRegexMatch, "__name__", ".+").value()};
  const std::vector<int64_t> parts = Partitions();
  std::erase_if(rule_passes_,
                [&](const auto& pass) { return !std::ranges::binary_search(parts, pass.first); });
  for (const int64_t p : parts) {
    if (p >= newest_partition) break;
    const int64_t end = (p + 1) * pm - 1;
    const size_t expired = ExpiredRetentions(rules, global, end, newest);
    // A partition is visited again only when one more retention expired it.
    if (expired == 0 || rule_passes_[p] == expired) continue;
    auto series = MatchingSeries(p * pm, end, all);
    if (!series.ok()) return series.status();
    rocksdb::WriteBatch batch;
    uint64_t deleted = 0;
    for (const auto& [ref, labels] : *series) {
      const int64_t keep = EffectiveRetention(rules, global, labels);
      if (keep <= 0 || end >= newest - keep) continue;
      VIGIL_RETURN_IF_ERROR(DeleteSeriesInPartition(batch, p, ref, labels));
      ++deleted;
    }
    if (deleted > 0) {
      VIGIL_RETURN_IF_ERROR(
          FromRocks(db_->Write(StoreWrite(), &batch), "applying retention rules"));
      rule_deletions_ += deleted;
      VLOG_INFO(
          "Retention rules deleted series data",
          {{"partition_start_ms", std::to_string(p * pm)}, {"series", std::to_string(deleted)}});
    }
    rule_passes_[p] = expired;
  }
  return Status::OK();
}

}  // namespace vigil::storage
