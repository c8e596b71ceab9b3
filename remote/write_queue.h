// WriteQueue: one `remote_write` endpoint. A reader thread tails Vigil's WAL
// from a persisted position (no copy on the scrape path), relabels each
// series once, and hands its samples to shards chosen by series; each shard
// batches (max_samples_per_send / batch_send_deadline) and sends a snappy
// protobuf WriteRequest, retrying 5xx, network errors and (when enabled)
// 429 with exponential backoff, so a series' samples reach the receiver in
// order. The read position is saved once everything before it is
// acknowledged: a restart, even kill -9, resumes there (at least once).
// Every shard_update_interval_ms the shard count is recomputed as Prometheus
// does (EWMA of samples in and out and of send time, a 30 % tolerance band,
// min_shards..max_shards); a reshard drains the running shards before the
// new ones start, so a series' order survives it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/labels.h"
#include "base/metrics_registry.h"
#include "base/status.h"
#include "config/config.h"
#include "remote/queue_metrics.h"
#include "remote/wal_position.h"
#include "storage/storage.h"

namespace vigil::remote {

struct WriteQueueOptions {
  config::RemoteWriteConfig config;
  Labels external_labels;
  std::string wal_dir;
  PositionFile position;  // where the read position is kept
  // Samples older than now - backlog_ms when read are given up (counted, logged).
  int64_t backlog_ms = 2 * 3600 * 1000;
  std::string user_agent = "Vigil";
  const storage::Storage* store = nullptr;  // resolves refs whose series record is gone
  const Clock* clock = SystemClock::Get();
  int64_t poll_interval_ms = 100;             // how often the WAL tail is read when idle
  int64_t shard_update_interval_ms = 10'000;  // Prometheus's shardUpdateDuration
};

// One queue's state at a moment, for the status API and its UI page.
struct QueueSnapshot {
  std::string remote_name;
  std::string url;  // the password of its user info redacted
  int64_t shards = 0, min_shards = 0, max_shards = 0;
  double shards_desired = 0;  // unrounded, as prometheus_remote_storage_shards_desired
  uint64_t samples_in = 0, samples_sent = 0, samples_failed = 0, samples_retried = 0;
  uint64_t samples_dropped = 0, samples_backlog_dropped = 0;
  int64_t samples_pending = 0;
  int64_t highest_read_ms = 0;  // newest sample timestamp read from the WAL (0: none)
  int64_t highest_sent_ms = 0;  // newest sample timestamp acknowledged (0: none)
  std::string last_error;       // the last failed send attempt ("" if none)
  int64_t last_error_ms = 0;    // when it happened (0: never)
  int64_t last_success_ms = 0;  // when a batch was last acknowledged (0: never)
  WalPosition saved_position;

  // How far sending is behind reading: highest read - highest sent, in
  // seconds; nullopt while something was read but nothing sent yet.
  std::optional<double> LagSeconds() const;
};

class WriteQueue {
 public:
  // Starts the reader and the shards.
  explicit WriteQueue(WriteQueueOptions options);
  ~WriteQueue();  // Stop()
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Stops reading and sending (an in-flight request is cut off); the saved
  // position covers only what was acknowledged.
  void Stop();

  const config::RemoteWriteConfig& config() const { return options_.config; }
  const Labels& external_labels() const { return options_.external_labels; }
  // The remote_name label: the configured name, else a hash of the URL.
  const std::string& remote_name() const { return remote_name_; }
  // The persisted position (what the WAL must keep).
  WalPosition saved_position() const;
  // Writes this queue's metric samples (families are written by the caller).
  const QueueMetrics& metrics() const { return metrics_; }
  QueueSnapshot Snapshot() const;

 private:
  struct Pending {
    std::shared_ptr<const Labels> labels;
    int64_t t;
    double v;
    uint64_t seq;  // order of reading, for the saved position
  };
  class Shard;

  void ReadLoop();
  // Reads the WAL from position_ as far as it goes; false when stopping.
  bool ReadAvailable();
  void HandleCommit(std::string_view payload, WalPosition end);
  // The labels to send for `ref` (nullptr: dropped by write relabeling).
  std::shared_ptr<const Labels> SeriesToSend(SeriesRef ref);
  // False when the queue is stopping (the sample was not taken).
  bool Enqueue(SeriesRef ref, Pending p);
  // Reader thread: performs a reshard the updater asked for; false when stopping.
  bool ApplyRequestedReshard();
  // Saves the position after the last commit whose samples are all acknowledged.
  void SaveAcknowledgedPosition();
  void NoteBacklogDrop(int64_t t);
  // Updater thread: every shard_update_interval_ms, asks for a reshard when
  // DesiredShards() differs from the current count and sends succeed.
  void UpdateShardsLoop();
  // Prometheus's calculateDesiredShards (sets _shards_desired).
  int64_t DesiredShards();
  bool Sleep(int64_t ms);

  const WriteQueueOptions options_;
  const std::string remote_name_;
  QueueMetrics metrics_;
  std::vector<std::unique_ptr<Shard>> shards_;  // replaced by the reader under mu_

  // Reader state (reader thread only).
  WalPosition position_;  // next byte to read
  uint64_t next_seq_ = 0;
  std::unordered_map<SeriesRef, std::shared_ptr<const Labels>> series_;
  std::deque<std::pair<uint64_t, WalPosition>> commits_;  // (seq after commit, its end)
  int64_t last_save_ms_ = 0;
  uint64_t backlog_dropped_unlogged_ = 0;
  // Updater state (updater thread only).
  struct Counts {
    uint64_t in = 0, out = 0, dropped = 0;
    int64_t send_micros = 0;
  };
  Counts last_counts_;
  int64_t last_tick_ms_ = 0;
  EwmaRate in_rate_{0.2}, out_rate_{0.2}, dropped_rate_{0.2}, send_rate_{0.2};
  int64_t num_shards_ = 1;                  // what the updater last asked for
  std::atomic<int64_t> reshard_to_{0};      // a reshard not yet done by the reader; 0: none
  std::atomic<bool> reader_behind_{false};  // the reader waits for room in a shard
  bool aborted_ = false;  // a sample could not be queued (stopping): read no further
  int64_t last_backlog_log_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  WalPosition saved_;
  std::thread reader_;
  std::thread updater_;
};

}  // namespace vigil::remote
