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

// Samples with full refs and 8-byte values: what releases before the compact
// record wrote. Still decoded, and written when a commit's refs are too far
// apart for the compact record.
inline constexpr uint8_t kWalCommitRecord = 1;
// Samples as deltas against the previous sample, values in a compact form.
// Written by releases before kWalSymbolCommitRecord; still decoded.
inline constexpr uint8_t kWalCompactCommitRecord = 2;
// kWalCompactCommitRecord's samples; the new series' refs as deltas and their
// label strings through a table local to the record (each distinct string is
// written once, later uses name its position): a scrape's new series repeat
// the same names, job, instance and metric names thousands of times.
inline constexpr uint8_t kWalSymbolCommitRecord = 3;

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

// Encodes a commit as a kWalSymbolCommitRecord (a full-width one when the
// samples' refs are too far apart for it).
std::string EncodeWalCommit(std::span<const WalSeries> series, std::span<const WalSample> samples);
// Encodes a commit as the full-width record of older releases (kWalCommitRecord).
std::string EncodeWalCommitFullWidth(std::span<const WalSeries> series,
                                     std::span<const WalSample> samples);
// Decodes any of the three record types.
Result<WalCommit> DecodeWalCommit(std::string_view payload);

}  // namespace vigil::storage
