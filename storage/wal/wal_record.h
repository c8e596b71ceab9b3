// The payload of a WAL record: the new series and the samples of one
// committed batch. Layout: docs/format/wal.md.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"
#include "base/sample.h"

namespace vigil::storage {

inline constexpr uint8_t kWalCommitRecord = 1;  // the only record type so far

struct WalSeries {
  SeriesRef ref;
  Labels labels;
};

struct WalSample {
  SeriesRef ref;
  int64_t t;
  double v;
};

struct WalCommit {
  std::vector<WalSeries> series;
  std::vector<WalSample> samples;
};

std::string EncodeWalCommit(std::span<const WalSeries> series, std::span<const WalSample> samples);
Result<WalCommit> DecodeWalCommit(std::string_view payload);

}  // namespace vigil::storage
