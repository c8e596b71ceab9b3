// Offline inspection: one pass over every sample of the store, bucketed by
// time partition. Offline tools may scan samples; the server never does.
#include "storage/tsdb_inspect.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "storage/db_layout.h"
#include "storage/tsdb.h"
#include "storage/top_n.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

// What one series contributed to one partition.
struct SeriesInPartition {
  int64_t min_time = kMaxTime;
  int64_t max_time = kMinTime;
  uint64_t samples = 0;
};

// Per series: its labels and per-partition figures.
struct ScannedSeries {
  Labels labels;
  std::map<int64_t, SeriesInPartition> partitions;
};

std::string Pair(const Label& l) { return l.name + "=" + l.value; }

}  // namespace

uint64_t Tsdb::PartitionBytes(int64_t partition) const {
  if (!db_) return 0;
  const std::string begin = PartitionPrefix(partition);
  const std::string end = PartitionPrefix(partition + 1);
  const rocksdb::Range range(begin, end);
  uint64_t total = 0;
  for (const int i : {kCfChunks, kCfPostings}) {
    uint64_t size = 0;
    rocksdb::SizeApproximationOptions options;
    options.include_memtables = true;
    options.include_files = true;
    if (db_->GetApproximateSizes(options, cf(i), &range, 1, &size).ok()) total += size;
  }
  return total;
}

LabelMatchers AllSeriesMatchers() {
  return {LabelMatcher::Make(MatchType::kRegexMatch, std::string(kMetricNameLabel), ".+").value()};
}

TsdbInspector::TsdbInspector(std::unique_ptr<Tsdb> db) : db_(std::move(db)) {}

TsdbInspector::~TsdbInspector() { (void)Close(); }

Result<std::unique_ptr<TsdbInspector>> TsdbInspector::Open(const std::string& dir,
                                                           TsdbTuning tuning) {
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(dir) / "db", ec)) {
    return Status::NotFound("no Vigil data directory at " + dir + " (it has no db/ folder)");
  }
  StorageOptions options;
  options.path = dir;
  options.retention_ms = 0;  // inspection never deletes anything
  options.wal_sync = WalSyncPolicy::kNever;
  tuning.background = false;
  auto db = Tsdb::Open(options, tuning);
  if (!db.ok()) return db.status();
  return std::unique_ptr<TsdbInspector>(new TsdbInspector(std::move(db).value()));
}

Status TsdbInspector::Close() {
  if (!db_) return Status::OK();
  Status st = db_->Close();
  db_.reset();
  return st;
}

Status TsdbInspector::ForEachSeries(
    const LabelMatchers& matchers, int64_t mint, int64_t maxt,
    const std::function<Status(const Labels&, SeriesIterator&)>& fn) {
  if (!db_) return Status::Unavailable("the store is closed");
  auto querier = db_->NewQuerier();
  if (!querier.ok()) return querier.status();
  auto series = (*querier)->Select(mint, maxt, matchers);
  if (!series.ok()) return series.status();
  for (const auto& s : *series) {
    auto it = s->Iterator();
    VIGIL_RETURN_IF_ERROR(fn(s->labels(), *it));
    VIGIL_RETURN_IF_ERROR(it->status());
  }
  return Status::OK();
}

namespace {

Result<std::vector<ScannedSeries>> ScanAll(TsdbInspector& inspector, int64_t partition_ms) {
  std::vector<ScannedSeries> out;
  const Status st = inspector.ForEachSeries(
      AllSeriesMatchers(), kMinTime, kMaxTime, [&](const Labels& labels, SeriesIterator& it) {
        ScannedSeries s{labels, {}};
        while (it.Next()) {
          const Sample smp = it.At();
          SeriesInPartition& p = s.partitions[PartitionOf(smp.t, partition_ms)];
          p.min_time = std::min(p.min_time, smp.t);
          p.max_time = std::max(p.max_time, smp.t);
          ++p.samples;
        }
        out.push_back(std::move(s));
        return Status::OK();
      });
  if (!st.ok()) return st;
  return out;
}

}  // namespace

Result<std::vector<PartitionSummary>> TsdbInspector::ListPartitions() {
  if (!db_) return Status::Unavailable("the store is closed");
  const int64_t pm = db_->partition_ms();
  auto scanned = ScanAll(*this, pm);
  if (!scanned.ok()) return scanned.status();
  std::map<int64_t, PartitionSummary> parts;
  for (const auto& s : *scanned) {
    for (const auto& [p, figures] : s.partitions) {
      auto [it, created] = parts.try_emplace(p);
      PartitionSummary& sum = it->second;
      if (created) sum = {p * pm, (p + 1) * pm, figures.min_time, figures.max_time, 0, 0, 0};
      sum.min_time = std::min(sum.min_time, figures.min_time);
      sum.max_time = std::max(sum.max_time, figures.max_time);
      ++sum.series;
      sum.samples += figures.samples;
    }
  }
  std::vector<PartitionSummary> out;
  for (auto& [p, sum] : parts) {
    sum.bytes = db_->PartitionBytes(p);
    out.push_back(sum);
  }
  return out;
}

Result<StoreAnalysis> TsdbInspector::Analyze(size_t limit) {
  if (!db_) return Status::Unavailable("the store is closed");
  auto scanned = ScanAll(*this, db_->partition_ms());
  if (!scanned.ok()) return scanned.status();
  const StorageStats stats = db_->Stats(0);
  StoreAnalysis a;
  a.series = scanned->size();
  a.chunks = stats.chunk_count;
  a.bytes_on_disk = stats.bytes_on_disk;
  std::set<int64_t> all_partitions;
  std::map<std::string, uint64_t> by_metric, by_pair, churn_pairs;
  std::map<std::string, std::set<std::string>> values;
  // label pair -> the partitions it appears in.
  std::map<std::string, std::set<int64_t>> pair_partitions;
  int64_t lo = kMaxTime, hi = kMinTime;
  for (const auto& s : *scanned) {
    for (const auto& [p, f] : s.partitions) {
      all_partitions.insert(p);
      a.samples += f.samples;
      lo = std::min(lo, f.min_time);
      hi = std::max(hi, f.max_time);
    }
    ++by_metric[std::string(s.labels.MetricName())];
    for (const auto& l : s.labels) {
      ++by_pair[Pair(l)];
      values[l.name].insert(l.value);
      for (const auto& [p, f] : s.partitions) pair_partitions[Pair(l)].insert(p);
    }
  }
  a.partitions = all_partitions.size();
  if (hi != kMinTime) {
    a.min_time = lo;
    a.max_time = hi;
  }
  for (const auto& s : *scanned) {
    if (s.partitions.empty() || all_partitions.empty()) continue;
    const bool churned = s.partitions.begin()->first != *all_partitions.begin() ||
                         s.partitions.rbegin()->first != *all_partitions.rbegin();
    if (!churned) continue;
    for (const auto& l : s.labels) ++churn_pairs[Pair(l)];
  }
  std::map<std::string, uint64_t> value_counts, value_churn;
  for (const auto& [name, vals] : values) value_counts[name] = vals.size();
  for (const auto& [pair, parts] : pair_partitions) {
    if (parts.size() < all_partitions.size()) ++value_churn[pair.substr(0, pair.find('='))];
  }
  a.series_by_metric = TopN(by_metric, limit);
  a.values_by_label_name = TopN(value_counts, limit);
  a.series_by_label_pair = TopN(by_pair, limit);
  a.churn_by_label_pair = TopN(churn_pairs, limit);
  a.value_churn_by_label_name = TopN(value_churn, limit);
  return a;
}

}  // namespace vigil::storage
