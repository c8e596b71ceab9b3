// Queries for the differential test against Prometheus.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::promql::testing {

// A fixed list covering every function, operator, aggregation and modifier,
// plus the seed dashboard's panels (>= 300 queries).
std::vector<std::string> DifferentialQueries();

// `n` random well-typed expressions from a small grammar, reproducible by seed.
std::vector<std::string> RandomQueries(uint32_t seed, int n);

}  // namespace vigil::promql::testing
