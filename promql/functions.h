// The function table: every PromQL function with its argument types, return
// type and implementation, in one place (functions.cc).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "promql/ast.h"
#include "promql/engine.h"
#include "storage/status.h"

namespace vigil::promql {

// What an implementation sees: the evaluated arguments (a Matrix argument
// holds the range for this step only), the call node, and the step time.
struct FunctionCall {
  std::span<Value> args;
  const Node& node;
  int64_t ts;  // evaluation time in ms
  // For the range-vector argument: the window [window_start, window_end] in
  // ms (after offset and @) and its length in seconds.
  int64_t window_start = 0;
  int64_t window_end = 0;
  double range_seconds = 0;
  // Optional, set together by the evaluator for a range-vector selector
  // argument so that no step copies labels or points: `windows[i]` holds the
  // points of the argument's series i (whose Series::points is then unused;
  // windows may be empty) and `dropped_names[i]` its labels without __name__.
  const std::vector<std::span<const Point>>* windows = nullptr;
  const std::vector<Labels>* dropped_names = nullptr;
};

// Computes the function's result for one evaluation step. Instant-vector
// results carry t = call.ts; scalar results go into a one-sample Vector with
// empty labels.
using FunctionImpl = Result<Vector> (*)(FunctionCall& call);

struct FunctionDef {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types; n > 0: the last n arg_types are optional;
  // -1: the last arg type repeats without limit.
  int variadic;
  ValueType return_type;
  FunctionImpl impl;
};

// The function called `name`, or nullptr.
const FunctionDef* LookupFunction(std::string_view name);

// Labels without __name__ (functions and arithmetic change a metric's meaning).
Labels DropMetricName(const Labels& labels);

// Prometheus's quantile over values (sorts `values`): linear interpolation
// between closest ranks; NaN for no values, -Inf/+Inf for q < 0 / q > 1.
double Quantile(double q, std::vector<double>& values);

// Go's strconv.FormatFloat(v, 'f', -1, 64), as count_values writes labels.
std::string FormatFloatPlain(double v);

}  // namespace vigil::promql
