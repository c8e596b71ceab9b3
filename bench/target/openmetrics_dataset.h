// Writes the synthetic population as an OpenMetrics file for backfilling
// (`promtool tsdb create-blocks-from openmetrics`, `vigil tsdb create-blocks-from
// openmetrics`), so both servers import byte-identical history.
#pragma once

#include <cstdint>
#include <string>

#include "bench/target/series_model.h"

namespace vigil::bench {

struct DatasetOptions {
  ModelOptions model;
  int targets = 2;
  int64_t start_ms = 0;  // first sample timestamp
  int64_t end_ms = 0;    // last sample timestamp (inclusive)
  int64_t step_ms = 15000;
};

// Writes the dataset to `path`; each series gets `job="bench"` and
// `instance="bench-host-<t>:9100"`. Returns the number of samples written, or -1
// (with a message on stderr) when the file cannot be written.
int64_t WriteOpenMetricsDataset(const DatasetOptions& options, const std::string& path);

}  // namespace vigil::bench
