// MemoryStorage: a simple in-memory Storage, for unit tests of the layers
// above storage (PromQL, API) that need no disk. Not durable.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>

#include "storage/storage.h"

namespace vigil::storage {

class MemoryStorage : public Storage {
 public:
  MemoryStorage() = default;

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier() override;
  StorageStats Stats(size_t limit) const override;
  Status DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) override;
  Status CleanTombstones() override { return Status::OK(); }
  Status Snapshot(const std::string& dir, bool skip_head) override;
  Status Compact() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }

  // Appends a committed sample directly, with the Appender's ordering rules.
  Status AddSample(const Labels& labels, int64_t t, double v);

 private:
  friend class MemoryAppender;
  friend class MemoryQuerier;
  using SeriesMap = std::map<Labels, std::vector<Sample>>;

  Status AppendLocked(const Labels& labels, int64_t t, double v);

  mutable std::shared_mutex mu_;
  SeriesMap series_;
  uint64_t samples_appended_ = 0;
  uint64_t out_of_order_ = 0;
  uint64_t duplicates_ = 0;
};

}  // namespace vigil::storage
