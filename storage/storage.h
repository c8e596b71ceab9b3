// The storage interfaces every other component talks to: Storage hands out
// Appenders (writers, one batch per scrape) and Queriers (readers over a
// consistent snapshot). Writers and readers meet only here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/labels.h"
#include "base/matcher.h"
#include "base/sample.h"
#include "base/status.h"
#include "storage/retention_rules.h"

namespace vigil::storage {

inline constexpr int64_t kMinTime = INT64_MIN / 2;  // "since forever", safe to offset
inline constexpr int64_t kMaxTime = INT64_MAX / 2;  // "until forever", safe to offset

// Longest label name or value the store accepts (stored with a u16 length);
// appends with longer ones are refused.
inline constexpr size_t kMaxLabelBytes = 0xffff;

// Start of the kOutOfBounds message of a sample refused by the time-sanity
// check (StorageOptions::max_time_ahead_ms); the message names the series.
inline constexpr std::string_view kTooFarInFutureText = "too far in the future";
inline bool IsTooFarInFuture(const Status& s) {
  return s.code() == StatusCode::kOutOfBounds && s.message().starts_with(kTooFarInFutureText);
}

// Walks one series' samples in increasing time order.
class SeriesIterator {
 public:
  virtual ~SeriesIterator() = default;
  // Advances to the next sample; false at the end (or on error, see status()).
  virtual bool Next() = 0;
  // Advances to the first sample with timestamp >= t; never moves backwards.
  // False when there is none.
  virtual bool Seek(int64_t t) = 0;
  // The current sample; valid after Next()/Seek() returned true.
  virtual Sample At() const = 0;
  virtual Status status() const { return Status::OK(); }
};

// One series returned by a Querier.
class Series {
 public:
  virtual ~Series() = default;
  virtual const Labels& labels() const = 0;
  // A new iterator over the samples inside the Select() time range.
  virtual std::unique_ptr<SeriesIterator> Iterator() const = 0;
};

using SeriesList = std::vector<std::shared_ptr<const Series>>;

// Reads a consistent snapshot of the store. Thread-safe; cheap to create.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series matching all matchers that have samples in [mint, maxt], sorted by
  // labels. Fails with kInvalidArgument when every matcher matches the empty
  // string (Prometheus: "at least one non-empty matcher").
  virtual Result<SeriesList> Select(int64_t mint, int64_t maxt,
                                    const LabelMatchers& matchers) const = 0;
  // Sorted label names of series matching `matchers` (all series when empty).
  virtual Result<std::vector<std::string>> LabelNames(int64_t mint, int64_t maxt,
                                                      const LabelMatchers& matchers) const = 0;
  // Sorted values of label `name` over series matching `matchers`.
  virtual Result<std::vector<std::string>> LabelValues(std::string_view name, int64_t mint,
                                                       int64_t maxt,
                                                       const LabelMatchers& matchers) const = 0;
};

// Collects one batch of samples (typically one scrape) and commits it as a
// unit: one WAL record, visible to queriers only after Commit(). Not
// thread-safe; use one Appender per thread.
class Appender {
 public:
  virtual ~Appender() = default;
  // Stages a sample. `ref` is the value an earlier Append returned for the
  // same labels (0 when unknown) and lets the store skip the label lookup:
  // with a ref the store still knows, `labels` may be empty. A ref the store
  // no longer knows (its series was garbage-collected from the head) with
  // empty labels fails with kNotFound; the caller then retries with labels.
  // Errors (the batch stays usable): kOutOfOrder, kDuplicateSample,
  // kOutOfBounds, kInvalidArgument for bad label sets.
  virtual Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) = 0;
  // Makes the batch durable (per the fsync policy) and visible.
  virtual Status Commit() = 0;
  // Discards the staged samples.
  virtual void Rollback() = 0;
};

// How and when the WAL reaches the disk.
enum class WalSyncPolicy {
  kEveryCommit,  // fsync before Commit() returns: survives power loss
  kPeriodic,     // write() before Commit() returns (survives kill -9); fsync every interval
  kNever,        // leave it to the OS (tests, benchmarks)
};

struct StorageOptions {
  std::string path = "data/";
  int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // 30d; 0 disables time retention
  int64_t retention_bytes = 0;                     // 0 disables size retention
  WalSyncPolicy wal_sync = WalSyncPolicy::kPeriodic;
  int64_t wal_sync_interval_ms = 1000;
  int64_t out_of_order_window_ms = 0;  // 0: reject out-of-order samples, as Prometheus 2.42
  const Clock* clock = SystemClock::Get();
  // Per-metric retention (storage/retention_rules.h); empty: none.
  std::vector<RetentionRule> retention_rules;
  // Time sanity: samples stamped more than this ahead of `clock` are refused
  // (kOutOfBounds, counted), so one bad timestamp cannot move "newest sample"
  // and with it retention and the appendable window. 0 disables the check.
  int64_t max_time_ahead_ms = 10 * 60 * 1000;
  // No LOCK file (--storage.tsdb.no-lockfile): another process may open the
  // same directory; the operator guarantees it does not write to it.
  bool no_lockfile = false;
  // WAL segments numbered >= what this returns are kept by checkpoints, so
  // that readers tailing the WAL (remote write queues) lose nothing they
  // have not read yet. Empty: checkpoints delete every replayed segment.
  std::function<uint32_t()> wal_keep_from;
};

// One name/count pair of the cardinality statistics.
struct CountByName {
  std::string name;
  uint64_t count;
};

// Figures for /api/v1/status/tsdb and /metrics.
struct StorageStats {
  uint64_t num_series = 0;
  uint64_t num_label_pairs = 0;
  uint64_t chunk_count = 0;
  int64_t min_time = 0;  // ms; 0 when empty
  int64_t max_time = 0;  // ms; 0 when empty
  uint64_t samples_appended = 0;
  uint64_t out_of_order_samples = 0;
  uint64_t duplicate_samples = 0;
  uint64_t bytes_on_disk = 0;
  std::vector<CountByName> series_count_by_metric_name;      // top N, descending
  std::vector<CountByName> label_value_count_by_label_name;  // top N, descending
  std::vector<CountByName> memory_in_bytes_by_label_name;    // top N, descending
  std::vector<CountByName> series_count_by_label_pair;       // "name=value", top N
  int64_t last_retention_run_ms = 0;  // wall time of the last retention pass; 0: none yet
  uint64_t time_retentions = 0;       // partitions dropped by the time limit
  uint64_t size_retentions = 0;       // partitions dropped by the size limit
};

// Retention limits; 0 disables a limit.
struct RetentionSettings {
  int64_t retention_ms = 0;
  int64_t retention_bytes = 0;
  // True when the limits were set through SetRetention (now or in an earlier
  // run, persisted in the store) and therefore override StorageOptions.
  bool from_runtime = false;
};

// The time-series store.
class Storage {
 public:
  virtual ~Storage() = default;

  // Opens (creating if needed) the store at options.path, replaying the WAL.
  static Result<std::unique_ptr<Storage>> Open(const StorageOptions& options);

  virtual std::unique_ptr<Appender> NewAppender() = 0;
  virtual Result<std::unique_ptr<Querier>> NewQuerier() = 0;

  // Statistics; the top-N lists hold at most `limit` entries.
  virtual StorageStats Stats(size_t limit) const = 0;

  // Admin primitives (see the admin API).
  virtual Status DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) = 0;
  virtual Status CleanTombstones() = 0;
  // Writes a consistent copy of the store into `dir` (which must not exist).
  virtual Status Snapshot(const std::string& dir, bool skip_head) = 0;
  virtual Status Compact() = 0;

  // Flushes everything and releases the directory. Idempotent.
  virtual Status Close() = 0;

  // Changes the retention limits at runtime; the new values are persisted
  // and survive restarts (they override StorageOptions from then on).
  virtual Status SetRetention(int64_t retention_ms, int64_t retention_bytes) {
    (void)retention_ms;
    (void)retention_bytes;
    return Status::Unavailable("this store does not support retention");
  }
  virtual RetentionSettings GetRetention() const { return {}; }

  // OK while appends can be written; kUnavailable with the reason (e.g. the
  // disk is full) while they cannot. The store keeps answering queries and
  // resumes writing by itself once the cause is gone.
  virtual Status Writable() const { return Status::OK(); }

  // Writes historical samples (bulk import, remote write of old data) of one
  // series straight into closed chunks, bypassing the head's out-of-order
  // rules: `samples` must be sorted by time; samples at timestamps that
  // already exist replace nothing (the stored sample wins).
  virtual Status AppendHistorical(const Labels& labels, std::span<const Sample> samples) {
    (void)labels;
    (void)samples;
    return Status::Unavailable("this store does not support historical appends");
  }

  // The directory of the write-ahead log (storage/wal/wal.h) that remote
  // write tails; empty for a store without one.
  virtual std::string WalDir() const { return {}; }
  // The labels of series `ref` as WAL records name it; kNotFound when the
  // store no longer knows it.
  virtual Result<Labels> SeriesLabels(SeriesRef ref) const {
    (void)ref;
    return Status::NotFound("this store does not resolve series refs");
  }
};

}  // namespace vigil::storage
