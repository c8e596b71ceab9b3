// The figures of one remote write queue, exported under Prometheus's names
// (prometheus_remote_storage_*) so the usual "remote write behind" alerts and
// dashboards work. Updated lock-free by the reader and shard threads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "base/labels.h"
#include "base/metrics_registry.h"

namespace vigil::remote {

// prometheus_remote_storage_sent_batch_duration_seconds: Prometheus's
// default buckets plus 25, 60, 120 and 300 s.
class DurationHistogram {
 public:
  static constexpr std::array<double, 15> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                      2.5,   5,    10,    25,   60,  120,  300};
  void Observe(double seconds);
  void Write(MetricsWriter& w, std::string_view name, const Labels& labels) const;

 private:
  mutable std::mutex mu_;
  std::array<uint64_t, kBuckets.size()> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

// An exponentially weighted per-second rate, as Prometheus's remote write
// uses to size its shards: Tick() once per update interval with the events
// counted since the previous tick.
class EwmaRate {
 public:
  explicit EwmaRate(double alpha) : alpha_(alpha) {}
  void Tick(double events, double seconds);
  double rate() const { return rate_; }

 private:
  const double alpha_;
  double rate_ = 0;
  bool init_ = false;  // false until the first tick with events
};

// The last failed send attempt of a queue: why, and when (0: never).
class LastSendError {
 public:
  struct Entry {
    std::string message;
    int64_t at_ms = 0;
  };
  void Set(std::string message, int64_t at_ms);
  Entry Get() const;

 private:
  mutable std::mutex mu_;
  Entry entry_;
};

struct QueueMetrics {
  std::atomic<uint64_t> samples_in{0};               // read from the WAL
  std::atomic<uint64_t> samples_sent{0};             // acknowledged by the receiver
  std::atomic<uint64_t> samples_failed{0};           // refused with a non-retryable answer
  std::atomic<uint64_t> samples_retried{0};          // in batches sent again
  std::atomic<uint64_t> samples_dropped{0};          // dropped by write_relabel_configs
  std::atomic<uint64_t> samples_backlog_dropped{0};  // older than the backlog window
  std::atomic<uint64_t> bytes_sent{0};               // compressed request bodies acknowledged
  std::atomic<int64_t> samples_pending{0};
  std::atomic<int64_t> highest_read_ms{0};
  std::atomic<int64_t> highest_sent_ms{0};
  std::atomic<int64_t> shards{0};
  std::atomic<double> shards_desired{0};  // unrounded, unclamped, as Prometheus
  std::atomic<int64_t> send_micros{0};    // time spent sending batches (retries included)
  std::atomic<int64_t> last_send_ms{0};   // when a send last ended (sent or dropped)
  std::atomic<int64_t> last_success_ms{0};  // when the receiver last acknowledged a batch
  LastSendError last_error;                 // retried or refused attempts
  DurationHistogram sent_batch_duration;
};

}  // namespace vigil::remote
