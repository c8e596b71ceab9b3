// Statistics for /api/v1/status/tsdb and the store's own /metrics families.
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "storage/tsdb.h"
#include "storage/top_n.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

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
  return sst + DirectoryBytes(wal_dir());
}

StorageStats Tsdb::Stats(size_t limit) const {
  StorageStats st;
  st.num_series = head_.NumSeries();
  st.samples_appended = counters_.samples_appended.load();
  st.out_of_order_samples = counters_.out_of_order.load();
  st.duplicate_samples = counters_.duplicates.load();
  st.last_retention_run_ms = retention_.last_run_ms();
  st.time_retentions = retention_.time_retentions();
  st.size_retentions = retention_.size_retentions();
  const int64_t lo = counters_.min_time.load(), hi = counters_.max_time.load();
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
  head_.ForEachSeries([&st](const MemSeries& s) {
    std::lock_guard lock(s.mu);
    st.chunk_count += s.unflushed.size() + (s.open ? 1 : 0);
    return true;
  });
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
    const int64_t lo = counters_.min_time.load(), hi = counters_.max_time.load();
    const bool empty = hi == kMinTime;
    family("prometheus_tsdb_head_series", "gauge", "Total number of series in the head block.",
           static_cast<double>(head_.NumSeries()));
    family("prometheus_tsdb_head_series_removed_total", "counter",
           "Total number of series removed in the head",
           static_cast<double>(counters_.head_series_removed.load()));
    family("prometheus_tsdb_head_samples_appended_total", "counter", "Total number of appended samples.",
           static_cast<double>(counters_.samples_appended.load()));
    family("prometheus_tsdb_out_of_order_samples_total", "counter",
           "Total number of out of order samples ingestion failed attempts.",
           static_cast<double>(counters_.out_of_order.load()));
    family("prometheus_tsdb_out_of_bound_samples_total", "counter",
           "Total number of out of bound samples ingestion failed attempts.",
           static_cast<double>(counters_.out_of_bounds.load()));
    family("prometheus_tsdb_duplicate_samples_total", "counter",
           "Total number of samples rejected for a different value at an existing timestamp.",
           static_cast<double>(counters_.duplicates.load()));
    family("prometheus_tsdb_storage_blocks_bytes", "gauge",
           "The number of bytes that are currently used for local storage by all blocks.",
           static_cast<double>(BytesOnDisk()));
    family("prometheus_tsdb_retention_limit_bytes", "gauge",
           "Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled",
           static_cast<double>(retention_.Get().retention_bytes));
    family("prometheus_tsdb_retention_limit_seconds", "gauge",
           "How long to retain samples in storage, 0 means disabled.",
           static_cast<double>(retention_.Get().retention_ms) / 1000.0);
    family("prometheus_tsdb_lowest_timestamp", "gauge", "Lowest timestamp value stored in the database.",
           empty ? 0.0 : static_cast<double>(lo));
    family("prometheus_tsdb_head_max_time", "gauge", "Maximum timestamp of the head block.",
           empty ? 0.0 : static_cast<double>(hi));
    family("prometheus_tsdb_wal_corruptions_total", "counter", "Total number of WAL corruptions.",
           static_cast<double>(counters_.wal_corruptions.load()));
    family("prometheus_tsdb_wal_writes_failed_total", "counter",
           "Total number of write log writes that failed.", static_cast<double>(counters_.wal_writes_failed.load()));
    family("vigil_tsdb_chunks_flushed_total", "counter",
           "Total number of closed chunks written to RocksDB.",
           static_cast<double>(counters_.chunks_flushed.load()));
    family("prometheus_tsdb_time_retentions_total", "counter",
           "The number of times that partitions were deleted because the maximum time limit was exceeded.",
           static_cast<double>(retention_.time_retentions()));
    family("prometheus_tsdb_size_retentions_total", "counter",
           "The number of times that partitions were deleted because the maximum number of bytes was exceeded.",
           static_cast<double>(retention_.size_retentions()));
    family("vigil_tsdb_retention_last_run_timestamp_seconds", "gauge",
           "Wall time of the last retention pass; 0 before the first one.",
           static_cast<double>(retention_.last_run_ms()) / 1000.0);
    family("vigil_tsdb_retention_rule_deletions_total", "counter",
           "Series data of one partition removed by per-metric retention rules.",
           static_cast<double>(retention_.rule_deletions()));
    family("vigil_tsdb_retention_from_runtime", "gauge",
           "1 when the retention limits were set at runtime (persisted, overriding the flags).",
           retention_.Get().from_runtime ? 1.0 : 0.0);
    family("vigil_tsdb_partitions", "gauge", "Number of time partitions holding chunks on disk.",
           static_cast<double>(Partitions().size()));
    health_.WriteMetrics(w);
    family("vigil_tsdb_too_far_in_future_samples_total", "counter",
           "Samples refused because their timestamp was further ahead of the wall clock than "
           "--storage.tsdb.max-time-ahead.",
           static_cast<double>(counters_.too_far_in_future.load()));
  });
}

}  // namespace vigil::storage
