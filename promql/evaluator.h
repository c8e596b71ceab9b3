// The Evaluator computes a parsed expression at given evaluation times.
// Range queries evaluate the expression at every step; the selectors' data is
// read from storage once up front (Load), so a step costs only in-memory work.
// Before the steps, PrepareRange evaluates the subtrees it can series by series
// over all steps at once (as Prometheus does), which is where range queries
// spend their time: selectors, window functions such as rate() over a range
// selector, and sum/avg/count/... of those. Each series' labels are then
// handled once per query instead of once per step.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "promql/annotations.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/operators.h"
#include "storage/storage.h"

namespace vigil::promql {

// The steps of a range query: start, start + step, ... up to end.
struct StepGrid {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;  // > 0

  size_t size() const { return static_cast<size_t>(RangeStepCount(start, end, step)) + 1; }
  // In unsigned arithmetic: k * step may exceed int64 while the step itself,
  // at most `end`, does not.
  int64_t At(size_t k) const {
    return static_cast<int64_t>(static_cast<uint64_t>(start) + k * static_cast<uint64_t>(step));
  }
};

struct EvalSettings {
  int64_t start_ms = 0;  // query start, for @ start()
  int64_t end_ms = 0;    // query end, for @ end()
  int64_t step_ms = 0;   // range queries: the step; 0 for an instant query
  int64_t lookback_ms = 5 * 60 * 1000;
  int64_t default_subquery_step_ms = 60 * 1000;
  int64_t max_samples = 50'000'000;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancelled = nullptr;
};

class Evaluator {
 public:
  Evaluator(const Node& root, EvalSettings settings);

  // Selects every series the expression can touch over the query's range.
  Status Load(storage::Querier& querier);

  // The value of `node` at time `ts` (ms).
  Result<Value> Eval(const Node& node, int64_t ts);

  // For a range query, after Load: evaluates every subtree that can be
  // evaluated series by series over the query's steps; Eval then answers
  // those nodes at the steps from the stored result (range_evaluation.cc).
  Status PrepareRange();
  // The query's whole result when PrepareRange could evaluate the root,
  // series sorted by labels; nullopt when the root must be evaluated per step.
  std::optional<Matrix> TakeRangeResult();

  // Counts samples a range query keeps in its result; fails past max_samples.
  Status AddResultSamples(int64_t n);
  // Fails with a timeout or cancellation status when the query must stop.
  Status CheckInterrupt() const;

  int64_t total_samples_loaded() const { return samples_loaded_; }
  // The warnings and infos of the evaluation so far.
  const Annotations& annotations() const { return annotations_; }
  int64_t peak_samples() const { return peak_samples_; }

 private:
  struct LoadedSeries {
    Labels labels;
    std::vector<Point> points;  // stale markers kept: they end a series
    bool has_stale = false;
  };
  struct Window {
    int64_t mint;
    int64_t maxt;
    // Whether the selector is read only at the query's steps (not inside a
    // subquery), and then the range it reads back from each step (-1: only
    // the newest sample). Load keeps just the samples the steps read.
    bool on_grid = false;
    int64_t range_ms = -1;
  };
  // A range-vector argument reused from step to step: one Series per loaded
  // series (labels copied once), only the points change.
  struct MatrixScratch {
    Value value;                                  // labels only
    std::vector<Labels> dropped_names;
    bool dropped_names_unique = true;             // then results need no duplicate check
    std::vector<std::span<const Point>> windows;  // into the loaded points
    std::vector<size_t> cursor;                   // first point of the last window
    std::vector<size_t> end_cursor;               // one past its last point
    std::vector<std::vector<Point>> stale_free;   // copies for series with markers
  };

  // A subtree's value at every step of the grid (points at step times).
  // Aggregations add `rank`: rank[i][j] orders point j of series i among the
  // samples of its step as per-step evaluation would order them (by the
  // first input series of the group present at that step).
  struct RangeValue {
    Matrix series;
    std::vector<std::vector<uint32_t>> rank;  // empty: in series order
    std::vector<size_t> cursor;               // per series: next point to serve
    int64_t points = 0;
  };

  Status PrepareNode(const Node& n);
  Status PrepareAggregate(const Node& n);
  // Each returns false, leaving `out` alone, when the node must be evaluated
  // step by step after all.
  Result<bool> RangeVectorSelector(const Node& n, RangeValue* out);
  Result<bool> RangeWindowCall(const Node& n, RangeValue* out);
  Result<bool> RangeAggregate(const Node& n, const RangeValue& input, RangeValue* out);
  Status StoreRangeValue(const Node& n, RangeValue value);
  // Counts `n` points of a range value being built against max_samples.
  Status HoldRangePoints(size_t n);
  // The stored value of a prepared node at grid time `ts`.
  Result<Value> StepValue(RangeValue& value, int64_t ts);

  void CollectWindows(const Node& n, int64_t mint, int64_t maxt, bool on_grid);
  void AddWindow(const Node& selector, int64_t mint, int64_t maxt, bool on_grid,
                 int64_t range_ms);
  // Reads one series' samples in `window` into `points` (cleared first),
  // only those the steps read when the selector is read only at the steps
  // (`refs`: each step's reference time).
  Status ReadSamples(const storage::Series& series, const Window& window,
                     std::span<const int64_t> refs, std::vector<Point>* points);
  // The ReferenceTime of each step for `mods`.
  std::vector<int64_t> StepRefs(const TimeModifiers& mods) const;
  // The time a node evaluated at `ts` reads at (after @ and offset), within
  // [storage::kMinTime, storage::kMaxTime].
  int64_t ReferenceTime(const TimeModifiers& mods, int64_t ts) const;

  Result<Value> EvalVectorSelector(const Node& n, int64_t ts);
  Result<Value> EvalMatrixSelector(const Node& n, int64_t ts);
  // Fills the node's scratch with the window at `ts`; series keep their slot
  // even when the window is empty.
  Result<MatrixScratch*> FillMatrixScratch(const Node& n, int64_t ts);
  Result<Value> EvalSubquery(const Node& n, int64_t ts);
  Result<Value> EvalUnary(const Node& n, int64_t ts);
  Result<Value> EvalBinary(const Node& n, int64_t ts);
  Result<Value> EvalCall(const Node& n, int64_t ts);
  Result<Value> EvalAggregate(const Node& n, int64_t ts);
  Status CountSamples(int64_t n);
  // The across-steps collision check of `n`, or null in an instant query
  // outside subqueries (a single step, checked by CheckUniqueLabelsets).
  RangeCollisionCheck* RangeCollisions(const Node& n);
  // Feeds a step's results of a call with a range-vector argument (the
  // selector's scratch, or an evaluated subquery among `args`) to its check.
  Status CheckCallAcrossSteps(const Node& n, const std::vector<Value>& args,
                              const MatrixScratch* scratch, const Vector& out);
  static Status TooManySamples();

  const Node& root_;
  EvalSettings settings_;
  std::unordered_map<const Node*, Window> windows_;
  std::unordered_map<const Node*, std::vector<LoadedSeries>> data_;
  std::unordered_map<const Node*, MatrixScratch> matrix_scratch_;
  StepGrid grid_;
  std::unordered_map<const Node*, RangeValue> range_values_;
  // Inner results of subqueries by evaluation time: a range query's
  // overlapping windows evaluate each inner step once, as Prometheus does.
  std::unordered_map<const Node*, std::map<int64_t, Vector>> subquery_cache_;
  // Collisions across steps of unary minus and range-vector function nodes:
  // Prometheus evaluates each node once over one range (a range query's, or a
  // subquery's over all the outer steps), so they span the whole query.
  std::unordered_map<const Node*, RangeCollisionCheck> range_collisions_;
  int subquery_depth_ = 0;  // > 0 while evaluating a subquery's inner steps
  int64_t samples_loaded_ = 0;  // read from storage
  // Samples Load keeps in data_, limited to max_samples on their own: the
  // evaluation's samples are counted separately, as Prometheus counts them.
  int64_t held_loaded_ = 0;
  int64_t subquery_steps_ = 0;  // subquery_cache_ entries, weighted as samples
  int64_t current_samples_ = 0;
  int64_t result_samples_ = 0;
  int64_t range_samples_ = 0;  // points held in range_values_
  int64_t peak_samples_ = 0;
  mutable int interrupt_counter_ = 0;
  Annotations annotations_;
};

}  // namespace vigil::promql
