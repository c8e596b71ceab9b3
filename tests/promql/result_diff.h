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

}  // namespace vigil::promql::testing
