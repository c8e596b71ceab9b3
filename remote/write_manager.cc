#include "remote/write_manager.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>

#include "base/logger.h"

namespace vigil::remote {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kPositionSuffix = ".position";

std::string PositionDir(const std::string& data_dir) {
  return (fs::path(data_dir) / "remote_write").string();
}

// One exported figure of a queue.
struct QueueFigure {
  const char* name;
  const char* type;
  const char* help;
  std::function<double(const QueueMetrics&)> value;
};

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

const std::vector<QueueFigure>& Figures() {
  static const std::vector<QueueFigure> figures = {
      {"prometheus_remote_storage_samples_in_total", "counter", "Samples read into remote storage.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_in.load()); }},
      {"prometheus_remote_storage_samples_total", "counter",
       "Total number of samples sent to remote storage.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_sent.load()); }},
      {"prometheus_remote_storage_samples_failed_total", "counter",
       "Total number of samples which failed on send to remote storage, non-recoverable errors.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_failed.load()); }},
      {"prometheus_remote_storage_samples_retried_total", "counter",
       "Total number of samples which failed on send to remote storage but were retried because "
       "the send error was recoverable.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_retried.load()); }},
      {"prometheus_remote_storage_samples_dropped_total", "counter",
       "Total number of samples which were dropped after being read from the WAL before being "
       "sent via remote write, either via relabelling or unintentionally because of an unknown "
       "reference ID.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_dropped.load()); }},
      {"vigil_remote_storage_samples_backlog_dropped_total", "counter",
       "Samples given up because they were older than --storage.remote.max-backlog when read.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_backlog_dropped.load()); }},
      {"prometheus_remote_storage_bytes_total", "counter",
       "The total number of bytes of data (not metadata) sent by the queue after compression.",
       [](const QueueMetrics& m) { return static_cast<double>(m.bytes_sent.load()); }},
      {"prometheus_remote_storage_samples_pending", "gauge",
       "The number of samples pending in the queues shards to be sent to the remote storage.",
       [](const QueueMetrics& m) { return static_cast<double>(m.samples_pending.load()); }},
      {"prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "gauge",
       "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in "
       "seconds since epoch.",
       [](const QueueMetrics& m) { return Seconds(m.highest_sent_ms.load()); }},
      {"prometheus_remote_storage_shards", "gauge",
       "The number of shards used for parallel sending to the remote storage.",
       [](const QueueMetrics& m) { return static_cast<double>(m.shards.load()); }},
      {"prometheus_remote_storage_shards_desired", "gauge",
       "The number of shards that the queues shard calculation wants to run based on the rate of "
       "samples in vs. samples out.",
       [](const QueueMetrics& m) { return static_cast<double>(m.shards_desired.load()); }},
  };
  return figures;
}

Labels QueueLabels(const WriteQueue& q) {
  return Labels{{"remote_name", q.remote_name()}, {"url", q.config().url}};
}

// Metadata and exemplars are not sent (Vigil keeps no metric metadata and
// sends samples only): a queue that asks for them says so at start instead of
// dropping them silently. metadata_config.send is true by default, as in
// Prometheus, so every queue warns unless it sets send: false.
void WarnUnsent(const config::RemoteWriteConfig& rw) {
  std::string what;
  if (rw.metadata_config.send) what = "metadata (metadata_config.send)";
  if (rw.send_exemplars)
    what += std::string(what.empty() ? "" : " and ") + "exemplars (send_exemplars)";
  if (what.empty()) return;
  VLOG_WARN("Vigil's remote write does not send " + what + "; only samples are sent",
            {{"remote_name", rw.name}, {"url", rw.url}});
}

}  // namespace

WriteManager::WriteManager(WriteManagerOptions options)
    : options_(std::move(options)), metrics_([this](MetricsWriter& w) { Collect(w); }) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(PositionDir(options_.data_dir), ec)) {
    if (!entry.path().string().ends_with(kPositionSuffix)) continue;
    if (auto p = PositionFile(entry.path().string()).Load()) inherited_.push_back(*p);
  }
}

WriteManager::~WriteManager() { Stop(); }

uint32_t WriteManager::KeepWalFrom() const {
  std::lock_guard lock(mu_);
  uint32_t keep = std::numeric_limits<uint32_t>::max();
  for (const auto& p : inherited_) keep = std::min(keep, p.segment);
  for (const auto& [path, q] : queues_) keep = std::min(keep, q->saved_position().segment);
  return keep;
}

std::string WriteManager::PositionPath(const config::RemoteWriteConfig& c) const {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Labels{{"name", c.name}, {"url", c.url}}.Hash()));
  return (fs::path(PositionDir(options_.data_dir)) /
          (std::string(hex) + std::string(kPositionSuffix)))
      .string();
}

Status WriteManager::ApplyConfig(const config::Config& config) {
  std::error_code ec;
  fs::create_directories(PositionDir(options_.data_dir), ec);
  if (ec)
    return Status::IOError("cannot create " + PositionDir(options_.data_dir) + ": " + ec.message());
  std::lock_guard lock(mu_);
  std::map<std::string, std::unique_ptr<WriteQueue>> next;
  for (const auto& rw : config.remote_write) {
    const std::string path = PositionPath(rw);
    auto old = queues_.find(path);
    if (old != queues_.end() && old->second->config() == rw &&
        old->second->external_labels() == config.global.external_labels) {
      next[path] = std::move(old->second);  // unchanged: keeps running
      queues_.erase(old);
      continue;
    }
    if (old != queues_.end()) {
      old->second->Stop();  // changed: restarts from its saved position
      queues_.erase(old);
    }
    WarnUnsent(rw);
    WriteQueueOptions o;
    o.config = rw;
    o.external_labels = config.global.external_labels;
    o.wal_dir = store_ != nullptr ? store_->WalDir() : "";
    o.position = PositionFile(path);
    o.backlog_ms = options_.backlog_ms;
    o.user_agent = options_.user_agent;
    o.store = store_;
    next[path] = std::make_unique<WriteQueue>(std::move(o));
  }
  for (auto& [path, q] : queues_) {  // removed from the config
    q->Stop();
    PositionFile(path).Remove();
  }
  // Position files of queues that no longer exist would hold the WAL forever.
  for (const auto& entry : fs::directory_iterator(PositionDir(options_.data_dir), ec)) {
    const std::string p = entry.path().string();
    if (p.ends_with(kPositionSuffix) && !next.contains(p)) PositionFile(p).Remove();
  }
  queues_ = std::move(next);
  order_.clear();
  for (const auto& rw : config.remote_write) {
    const std::string path = PositionPath(rw);
    if (std::find(order_.begin(), order_.end(), path) == order_.end()) order_.push_back(path);
  }
  inherited_.clear();
  return Status::OK();
}

void WriteManager::Stop() {
  std::lock_guard lock(mu_);
  for (auto& [path, q] : queues_) {
    q->Stop();
    inherited_.push_back(q->saved_position());  // the store's last checkpoint keeps them
  }
  queues_.clear();
  order_.clear();
}

std::vector<QueueSnapshot> WriteManager::Snapshots() const {
  std::lock_guard lock(mu_);
  std::vector<QueueSnapshot> out;
  for (const auto& path : order_) {
    if (auto it = queues_.find(path); it != queues_.end()) out.push_back(it->second->Snapshot());
  }
  return out;
}

void WriteManager::Collect(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  if (queues_.empty()) return;
  int64_t highest = 0;
  for (const auto& [path, q] : queues_)
    highest = std::max(highest, q->metrics().highest_read_ms.load());
  w.Family("prometheus_remote_storage_highest_timestamp_in_seconds", "gauge",
           "Highest timestamp that has come into the remote storage via the Appender interface, "
           "in seconds since epoch.");
  w.Sample("prometheus_remote_storage_highest_timestamp_in_seconds", Seconds(highest));
  for (const auto& f : Figures()) {
    w.Family(f.name, f.type, f.help);
    for (const auto& [path, q] : queues_) w.Sample(f.name, QueueLabels(*q), f.value(q->metrics()));
  }
  const char* hist = "prometheus_remote_storage_sent_batch_duration_seconds";
  w.Family(hist, "histogram", "Duration of send calls to the remote storage.");
  for (const auto& [path, q] : queues_) {
    q->metrics().sent_batch_duration.Write(w, hist, QueueLabels(*q));
  }
}

}  // namespace vigil::remote
