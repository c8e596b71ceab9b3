// SampleSeries: a storage::Series over samples held in memory, for series
// that come from a remote read answer or from merging local and remote.
#pragma once

#include <memory>
#include <vector>

#include "base/labels.h"
#include "base/sample.h"
#include "storage/storage.h"

namespace vigil::remote {

class SampleSeries final : public storage::Series {
 public:
  // `samples` sorted by time, no two at the same timestamp.
  SampleSeries(Labels labels, std::vector<Sample> samples)
      : labels_(std::move(labels)), samples_(std::move(samples)) {}

  const Labels& labels() const override { return labels_; }
  std::unique_ptr<storage::SeriesIterator> Iterator() const override;
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  Labels labels_;
  std::vector<Sample> samples_;
};

// Merges the samples of series with the same labels from several stores:
// sorted by time, one sample per timestamp (the first list's wins).
std::vector<Sample> MergeSamples(const std::vector<std::vector<Sample>>& lists);

// Reads all samples of `series`.
Result<std::vector<Sample>> ReadAll(const storage::Series& series);

}  // namespace vigil::remote
