// The function table: every PromQL function with its argument types, return
// type and implementation, in one place (functions.cc).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "promql/annotations.h"
#include "promql/ast.h"
#include "promql/engine.h"

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
  // Where the function leaves its warnings and infos (may be null).
  Annotations* annotations = nullptr;
};

// The window a range-vector function reads at one step: [start, end] in ms
// (after offset and @) and the selector's range in seconds.
struct RangeWindow {
  int64_t start;
  int64_t end;
  double range_seconds;
};

// A range-vector function that computes each series' value from that series'
// window alone (rate, avg_over_time, ...): nullopt when the series has no value
// at this step. `points` is never empty and holds no stale markers.
using WindowFunction = std::optional<double> (*)(std::span<const Point> points,
                                                 const RangeWindow& window);

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
  // Set for window functions, so that a range query can evaluate them series
  // by series over all its steps; `impl` computes the same per step.
  WindowFunction window = nullptr;
  bool keeps_metric_name = false;  // with `window`: last_over_time keeps __name__
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
