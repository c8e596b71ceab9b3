// Queries for the differential test against Prometheus.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::promql::testing {

// A fixed list covering every function, operator, aggregation and modifier,
// plus the seed dashboard's panels (>= 300 queries).
std::vector<std::string> DifferentialQueries();

// The instant-vector functions of one vector argument (abs, ceil, ...,
// timestamp, date functions) and the range-vector functions of one range
// argument (rate, changes, *_over_time, ...) the queries use.
const std::vector<std::string>& MathFunctionNames();
const std::vector<std::string>& RangeFunctionNames();

// `n` random well-typed expressions from a small grammar, reproducible by seed.
std::vector<std::string> RandomQueries(uint32_t seed, int n);

}  // namespace vigil::promql::testing
