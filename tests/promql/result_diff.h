// Comparing query results of Vigil and Prometheus.
#pragma once

#include <string>

#include "promql/engine.h"

namespace vigil::promql::testing {

// Equal within 1e-9 relative error (1e-12 absolute near zero); NaN == NaN.
bool CloseEnough(double a, double b);

// Empty when equal (labels exact, values CloseEnough, same timestamps),
// else a description of the first difference. `ordered` also compares the
// order of vector elements' values (for sort/sort_desc).
std::string DiffResults(const Value& vigil, const Value& prom, bool ordered);

// Whether Prometheus defines the order of the query's result.
bool IsOrderedQuery(const std::string& q);

// Whether the oracle (Debian's Prometheus 2.42) answers `q` unlike the
// Prometheus 2.48 semantics Vigil follows: binary atan2 keeps the metric name
// in 2.42 and drops it, like every arithmetic operator, in 2.48.
bool Atan2KeepsNameIn242(const std::string& q);

// The oracle's answer to `q` as Prometheus 2.48 gives it: for a query where
// Atan2KeepsNameIn242, without the metric names (the atan2 queries the tests
// use have atan2 outermost); otherwise unchanged.
Result<Value> As248Answer(const std::string& q, Result<Value> oracle_answer);

}  // namespace vigil::promql::testing
