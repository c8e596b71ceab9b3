// A sample (timestamp, value), the series reference that names a series inside
// one storage, and Prometheus's staleness marker: the vocabulary shared by the
// chunk encoders, the WAL, the storage interfaces and PromQL.
#pragma once

#include <cstdint>

namespace vigil {

struct Sample {
  int64_t t;  // milliseconds since the Unix epoch
  double v;
};

// Identifies a series inside one Storage; 0 means "not known yet".
using SeriesRef = uint64_t;

// Prometheus's staleness marker: a NaN with this exact bit pattern means
// "the series ended here". Distinct from an ordinary NaN sample value.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
double StaleNaN();
bool IsStaleNaN(double v);

}  // namespace vigil
