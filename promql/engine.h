// The PromQL engine: parses and evaluates instant and range queries against a
// storage::Storage with Prometheus 2.42 semantics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/labels.h"
#include "base/status.h"
#include "storage/storage.h"

namespace vigil::promql {

enum class ValueType { kNone, kScalar, kString, kVector, kMatrix };

// "scalar", "string", "vector", "matrix" (the API's resultType), "none".
const char* ValueTypeName(ValueType type);

struct Point {
  int64_t t;  // ms
  double v;
};

// One element of an instant vector.
struct Sample {
  Labels metric;
  Point point;
};

// One element of a range vector / range query result.
struct Series {
  Labels metric;
  std::vector<Point> points;
};

using Vector = std::vector<Sample>;
using Matrix = std::vector<Series>;

// The result of evaluating an expression; `type` says which member holds it.
struct Value {
  ValueType type = ValueType::kNone;
  Point scalar{0, 0};    // kScalar
  int64_t string_t = 0;  // kString: evaluation time
  std::string string;    // kString
  Vector vector;         // kVector
  Matrix matrix;         // kMatrix
};

struct QueryStats {
  int64_t total_queryable_samples = 0;
  int64_t peak_samples = 0;
  double exec_total_seconds = 0;
  double exec_queue_seconds = 0;
  double inner_eval_seconds = 0;
  double query_preparation_seconds = 0;
  double result_sort_seconds = 0;
};

struct QueryResult {
  Value value;
  // Prometheus 2.48's annotations: "PromQL warning: ... (1:10)" and
  // "PromQL info: ...", each once (promql/annotations.h).
  std::vector<std::string> warnings;
  QueryStats stats;
};

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;  // --query.lookback-delta
  int64_t timeout_ms = 2 * 60 * 1000;         // --query.timeout
  int64_t max_samples = 50'000'000;           // --query.max-samples
  int max_concurrency = 20;                   // --query.max-concurrency
  int64_t max_range_points = 11'000;          // per range query
  int64_t default_subquery_step_ms = 60 * 1000;  // subquery step when omitted (evaluation_interval)
  const Clock* clock = SystemClock::Get();
};

// Per-query knobs.
struct QueryOptions {
  // Lowers the engine's timeout (as Prometheus's ?timeout=), never raises it;
  // nullopt: the engine's. Zero or negative: already expired.
  std::optional<int64_t> timeout_ms;
  const std::atomic<bool>* cancelled = nullptr;   // set by the caller to abort
};

// Errors map onto the HTTP API's errorType: kInvalidArgument -> bad_data
// (parse and type errors, "1:5: parse error: unexpected ..."), kExecution and
// kResourceExhausted -> execution, kTimeout -> timeout, kCancelled -> canceled.
class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Evaluates `query` at time `ts_ms`.
  Result<QueryResult> InstantQuery(storage::Storage& db, std::string_view query, int64_t ts_ms,
                                   const QueryOptions& options = {});
  // Evaluates `query` at start, start+step, ... <= end; the value is always a matrix.
  Result<QueryResult> RangeQuery(storage::Storage& db, std::string_view query, int64_t start_ms,
                                 int64_t end_ms, int64_t step_ms,
                                 const QueryOptions& options = {});

  const EngineOptions& options() const { return options_; }

  struct Impl;  // admission control (defined in engine.cc)

 private:
  EngineOptions options_;
  std::unique_ptr<Impl> impl_;
};

// (end - start) / step of a range query, for any start <= end and step > 0
// (the difference may not fit in int64), capped at INT64_MAX.
inline int64_t RangeStepCount(int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  // Two's complement: the unsigned difference is exact when end >= start.
  const uint64_t span = static_cast<uint64_t>(end_ms) - static_cast<uint64_t>(start_ms);
  const uint64_t steps = span / static_cast<uint64_t>(step_ms);
  return steps > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(steps);
}

// Parses `query` and prints it back in Prometheus's canonical pretty form
// (as /api/v1/format_query does).
Result<std::string> FormatQuery(std::string_view query);

// Parses a series selector such as `up{job="x"}` (as match[] parameters use)
// into matchers. Syntax only, as Prometheus's ParseMetricSelector: selectors
// whose matchers all match "" are returned; callers decide whether to reject
// them. kInvalidArgument with a parse error on failure.
Result<LabelMatchers> ParseSeriesSelector(std::string_view selector);

}  // namespace vigil::promql
