// Binary operators (arithmetic, comparison, set operations with vector
// matching) and aggregations, applied to one evaluation step's values.
#pragma once

#include "promql/ast.h"
#include "promql/engine.h"
#include "storage/status.h"

namespace vigil::promql {

// Evaluates a kBinary node on already evaluated operands (scalar or vector).
// Vector results carry t = ts.
Result<Value> ApplyBinary(const Node& node, Value lhs, Value rhs, int64_t ts);

// Evaluates a kAggregate node on its evaluated input vector and parameter
// (the parameter is ignored for aggregations without one).
Result<Vector> ApplyAggregation(const Node& node, Vector input, const Value& param, int64_t ts);

// Fails with "vector cannot contain metrics with the same labelset" when two
// samples share a label set.
Status CheckUniqueLabelsets(const Vector& v);

}  // namespace vigil::promql
