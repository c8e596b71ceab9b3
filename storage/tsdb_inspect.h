// TsdbInspector: offline inspection of a data directory (or a snapshot of
// one) for `vigil tsdb list|analyze|dump`. It opens the store the normal way
// (taking the directory lock, so a directory a running server holds is
// refused, and replaying the WAL, so nothing acknowledged is missed) but
// starts no background work: no flusher, no checkpoints, no retention.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/labels.h"
#include "base/matcher.h"
#include "base/status.h"
#include "storage/storage.h"
#include "storage/tsdb.h"

namespace vigil::storage {

// One time partition as `vigil tsdb list` shows it.
struct PartitionSummary {
  int64_t start_ms = 0;  // the partition's time span [start_ms, end_ms)
  int64_t end_ms = 0;
  int64_t min_time = 0;  // oldest and newest sample in it
  int64_t max_time = 0;
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t bytes = 0;  // on disk after compression; 0 for data still only in the head/WAL
};

// What `vigil tsdb analyze` reports.
struct StoreAnalysis {
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t chunks = 0;
  uint64_t bytes_on_disk = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t partitions = 0;
  std::vector<CountByName> series_by_metric;      // highest-cardinality metric names
  std::vector<CountByName> values_by_label_name;  // label names with the most values
  std::vector<CountByName> series_by_label_pair;  // most common label pairs
  // Label pairs of series that started after the store's first partition or
  // ended before its last one: the pairs driving series churn.
  std::vector<CountByName> churn_by_label_pair;
  // Per label name: values seen in only some of the partitions (value churn).
  std::vector<CountByName> value_churn_by_label_name;
};

class TsdbInspector {
 public:
  // Opens the data directory `dir`; fails when it holds no store or another
  // process holds its lock (the message names the lock file). `tuning` must
  // match the one the store was written with (the server uses the defaults);
  // its `background` is ignored.
  static Result<std::unique_ptr<TsdbInspector>> Open(const std::string& dir,
                                                     TsdbTuning tuning = {});
  ~TsdbInspector();

  // Every partition that holds samples, oldest first.
  Result<std::vector<PartitionSummary>> ListPartitions();
  // Cardinality and churn figures; every top list has at most `limit` entries.
  Result<StoreAnalysis> Analyze(size_t limit);
  // Calls `fn` for every series matching `matchers` with samples in
  // [mint, maxt], in label order, with an iterator over those samples.
  Status ForEachSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt,
                       const std::function<Status(const Labels&, SeriesIterator&)>& fn);
  // Releases the directory (also done by the destructor).
  Status Close();

 private:
  explicit TsdbInspector(std::unique_ptr<Tsdb> db);
  std::unique_ptr<Tsdb> db_;
};

// Matches every series (`__name__=~".+"`), for whole-store scans.
LabelMatchers AllSeriesMatchers();

}  // namespace vigil::storage
