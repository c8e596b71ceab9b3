// Statistics for /api/v1/status/tsdb and the store's own /metrics families.
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

std::vector<CountByName> TopN(const std::map<std::string, uint64_t>& counts, size_t limit) {
  std::vector<CountByName> out;
  out.reserve(counts.size());
  for (const auto& [name, count] : counts) out.push_back({name, count});
  const size_t n = std::min(limit, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(),
                    [](const CountByName& a, const CountByName& b) {
                      return a.count != b.count ? a.count > b.count : a.name < b.name;
                    });
  out.resize(n);
  return out;
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

}  // namespace

uint64_t Tsdb::BytesOnDisk() const {
  uint64_t sst = 0;
  for (const int i : {kCfSeries, kCfPostings, kCfChunks, kCfHead}) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf(i), "rocksdb.live-sst-files-size", &v)) sst += v;
  }
  return sst + DirectoryBytes(wal_dir_);
}

StorageStats Tsdb::Stats(size_t limit) const {
  StorageStats st;
  st.num_series = head_.NumSeries();
  st.samples_appended = samples_appended_.load();
  st.out_of_order_samples = out_of_order_.load();
  st.duplicate_samples = duplicates_.load();
  st.last_retention_run_ms = last_retention_run_ms_.load();
  st.time_retentions = time_retentions_.load();
  st.size_retentions = size_retentions_.load();
  const int64_t lo = min_time_.load(), hi = max_time_.load();
  if (hi != kMinTime) {
    st.min_time = lo;
    st.max_time = hi;
  }
  if (db_) {
    uint64_t disk_chunks = 0;
    db_->GetIntProperty(cf(kCfChunks), "rocksdb.estimate-num-keys", &disk_chunks);
    st.chunk_count = disk_chunks;
    st.bytes_on_disk = BytesOnDisk();
  }
  for (const auto& s : head_.AllSeries()) {
    std::lock_guard lock(s->mu);
    st.chunk_count += s->unflushed.size() + (s->open ? 1 : 0);
  }
  std::map<std::string, uint64_t> by_metric, values_by_name, bytes_by_name, by_pair;
  head_.VisitIndex([&](const std::string& name, const std::string& value, size_t n) {
    ++st.num_label_pairs;
    if (name == kMetricNameLabel) by_metric[value] += n;
    ++values_by_name[name];
    bytes_by_name[name] += value.size() * n;
    by_pair[name + "=" + value] += n;
  });
  st.series_count_by_metric_name = TopN(by_metric, limit);
  st.label_value_count_by_label_name = TopN(values_by_name, limit);
  st.memory_in_bytes_by_label_name = TopN(bytes_by_name, limit);
  st.series_count_by_label_pair = TopN(by_pair, limit);
  return st;
}

void Tsdb::RegisterMetrics() {
  metrics_ = std::make_unique<ScopedCollector>([this](MetricsWriter& w) {
    const auto family = [&w](const char* name, const char* type, const char* help, double v) {
      w.Family(name, type, help);
      w.Sample(name, v);
    };
    const int64_t lo = min_time_.load(), hi = max_time_.load();
    const bool empty = hi == kMinTime;
    family("prometheus_tsdb_head_series", "gauge", "Total number of series in the head block.",
           static_cast<double>(head_.NumSeries()));
    family("prometheus_tsdb_head_series_removed_total", "counter",
           "Total number of series removed in the head",
           static_cast<double>(head_series_removed_.load()));
    family("prometheus_tsdb_head_samples_appended_total", "counter", "Total number of appended samples.",
           static_cast<double>(samples_appended_.load()));
    family("prometheus_tsdb_out_of_order_samples_total", "counter",
           "Total number of out of order samples ingestion failed attempts.",
           static_cast<double>(out_of_order_.load()));
    family("prometheus_tsdb_out_of_bound_samples_total", "counter",
           "Total number of out of bound samples ingestion failed attempts.",
           static_cast<double>(out_of_bounds_.load()));
    family("prometheus_tsdb_duplicate_samples_total", "counter",
           "Total number of samples rejected for a different value at an existing timestamp.",
           static_cast<double>(duplicates_.load()));
    family("prometheus_tsdb_storage_blocks_bytes", "gauge",
           "The number of bytes that are currently used for local storage by all blocks.",
           static_cast<double>(BytesOnDisk()));
    family("prometheus_tsdb_retention_limit_bytes", "gauge",
           "Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled",
           static_cast<double>(retention_bytes_.load()));
    family("prometheus_tsdb_retention_limit_seconds", "gauge",
           "How long to retain samples in storage, 0 means disabled.",
           static_cast<double>(retention_ms_.load()) / 1000.0);
    family("prometheus_tsdb_lowest_timestamp", "gauge", "Lowest timestamp value stored in the database.",
           empty ? 0.0 : static_cast<double>(lo));
    family("prometheus_tsdb_head_max_time", "gauge", "Maximum timestamp of the head block.",
           empty ? 0.0 : static_cast<double>(hi));
    family("prometheus_tsdb_wal_corruptions_total", "counter", "Total number of WAL corruptions.",
           static_cast<double>(wal_corruptions_.load()));
    family("prometheus_tsdb_wal_writes_failed_total", "counter",
           "Total number of write log writes that failed.", static_cast<double>(wal_writes_failed_.load()));
    family("vigil_tsdb_chunks_flushed_total", "counter",
           "Total number of closed chunks written to RocksDB.",
           static_cast<double>(chunks_flushed_.load()));
    family("prometheus_tsdb_time_retentions_total", "counter",
           "The number of times that partitions were deleted because the maximum time limit was exceeded.",
           static_cast<double>(time_retentions_.load()));
    family("prometheus_tsdb_size_retentions_total", "counter",
           "The number of times that partitions were deleted because the maximum number of bytes was exceeded.",
           static_cast<double>(size_retentions_.load()));
    family("vigil_tsdb_retention_last_run_timestamp_seconds", "gauge",
           "Wall time of the last retention pass; 0 before the first one.",
           static_cast<double>(last_retention_run_ms_.load()) / 1000.0);
    family("vigil_tsdb_retention_rule_deletions_total", "counter",
           "Series data of one partition removed by per-metric retention rules.",
           static_cast<double>(rule_deletions_.load()));
    family("vigil_tsdb_retention_from_runtime", "gauge",
           "1 when the retention limits were set at runtime (persisted, overriding the flags).",
           retention_from_runtime_.load() ? 1.0 : 0.0);
    family("vigil_tsdb_partitions", "gauge", "Number of time partitions holding chunks on disk.",
           static_cast<double>(Partitions().size()));
    RegisterWriteHealthMetrics(w);
  });
}

}  // namespace vigil::storage
