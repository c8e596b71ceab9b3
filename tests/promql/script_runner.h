// Runs PromQL test scripts in the format Prometheus uses for its engine tests:
//
//   load 5m
//     http_requests{job="api", instance="0"}  0+10x10  _  stale  1x3
//   eval instant at 50m sum by (job) (http_requests)
//     {job="api"} 100
//   eval_ordered instant at 50m sort(http_requests)
//   eval_fail instant at 0m foo{
//     expected_fail_message 1:5: parse error: ...
//   eval range from 0 to 10m step 5m rate(http_requests[5m])
//     {job="api", instance="0"} 0.03 0.03 _
//   clear
//
// Series values: `a+bxn` (a, a+b, ... a+n*b), `a-bxn`, `axn` (n+1 copies of
// a), `_` (no sample), `_xn` (n missing), `stale` (a staleness marker).
#pragma once

#include <string>
#include <vector>

#include "promql/engine.h"
#include "base/status.h"

namespace vigil::promql::testing {

// One sample-or-gap of an expanded series notation.
struct SeriesValue {
  bool missing = false;
  double value = 0;
};

// Expands `0+10x3 _ stale` into values.
Result<std::vector<SeriesValue>> ExpandSeriesValues(std::string_view text);

// Splits `metric{a="b"} 1 2 3` into labels and the values part.
Status ParseSeriesLine(std::string_view line, Labels* labels, std::string* values);

// Prometheus's almostEqual with relative epsilon 1e-6; NaN equals NaN.
bool AlmostEqual(double a, double b);

// One evaluated query of a script.
struct ScriptQuery {
  std::string expr;
  bool range = false;
  int64_t at = 0;  // instant queries
  int64_t start = 0, end = 0, step = 0;  // range queries
  bool ordered = false;
};

// Hooks for running something alongside a script (the Prometheus oracle).
class ScriptObserver {
 public:
  virtual ~ScriptObserver() = default;
  virtual void OnClear() = 0;
  virtual void OnSample(const Labels& labels, int64_t t, double v) = 0;
  // A failure message for the query, or "" when it is fine.
  virtual std::string OnEval(const ScriptQuery& query, const Result<QueryResult>& vigil) = 0;
};

struct ScriptOptions {
  ScriptObserver* observer = nullptr;
  // When set, receives the script with every eval's expectations replaced by
  // the engine's actual results (to write new scripts; review before commit).
  std::string* updated_text = nullptr;
};

// Runs the script in `text` (`name` prefixes failure locations) and returns
// one message per failed command: "name:line: query ...: expected ... got ...".
std::vector<std::string> RunScript(const std::string& name, const std::string& text,
                                   const ScriptOptions& options = {});

}  // namespace vigil::promql::testing
