// Binary operators (arithmetic, comparison, set operations with vector
// matching) and aggregations, applied to one evaluation step's values.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "promql/annotations.h"
#include "promql/ast.h"
#include "promql/engine.h"

namespace vigil::promql {

// Evaluates a kBinary node on already evaluated operands (scalar or vector).
// Vector results carry t = ts.
Result<Value> ApplyBinary(const Node& node, Value lhs, Value rhs, int64_t ts);

// Evaluates a kAggregate node on its evaluated input vector and parameter
// (the parameter is ignored for aggregations without one).
// Warnings (an out of range quantile) go to `annotations` when it is set.
Result<Vector> ApplyAggregation(const Node& node, Vector input, const Value& param, int64_t ts,
                                Annotations* annotations = nullptr);

// Whether `op` needs only an AggregateAccumulator per group: no parameter
// and no per-member state (sum, avg, count, min, max, group, stddev, stdvar).
bool IsAccumulatorAggregation(Op op);

// The running value of an accumulator aggregation for one group at one
// step, fed sample values in input order (the order changes the last bits of
// sums, so callers keep Prometheus's order).
struct AggregateAccumulator {
  double value = 0;
  double mean = 0;
  double count = 0;  // samples added so far

  void Add(Op op, double v);
  double Result(Op op) const;
};

// Numbers the output groups of an aggregation's by/without clause in order of
// first appearance. A key is hashed from the member's labels without being
// built, and built once per group.
class AggregationGroups {
 public:
  // `grouping` (a kAggregate node, or one carrying its grouping) must outlive this.
  explicit AggregationGroups(const Node& grouping) : grouping_(grouping) {}

  // The group of `metric`; a new group gets the next number.
  size_t GroupOf(const Labels& metric);
  size_t size() const { return keys_.size(); }
  // The groups' label sets, by number; leaves this object empty.
  std::vector<Labels> TakeKeys() {
    index_.clear();
    std::vector<Labels> keys = std::move(keys_);
    keys_.clear();
    return keys;
  }

 private:
  const Node& grouping_;
  std::unordered_map<uint64_t, std::vector<size_t>> index_;
  std::vector<Labels> keys_;
};

// Fails with "vector cannot contain metrics with the same labelset" when two
// samples share a label set.
Status CheckUniqueLabelsets(const Vector& v);

// Prometheus evaluates a unary minus and a function of a range vector over a
// range query's whole range at once, then rejects two result series with one
// label set even when they never have a value at the same step. Evaluating
// step by step, CheckUniqueLabelsets catches collisions within a step; this
// catches them across the steps of one node: each result label set must come
// from one input series over the whole query.
class RangeCollisionCheck {
 public:
  // Records that a result labelled `output` came from the input labelled
  // `input`; fails when an earlier step had that result from another input.
  Status Record(const Labels& output, const Labels& input);
  // Records a step's results of a function of a range vector, each with its
  // input among `inputs` (the argument's series with points at this step);
  // results from no input (absent_over_time) are not recorded.
  Status RecordCall(const Vector& out, const std::vector<const Labels*>& inputs);

 private:
  std::unordered_map<uint64_t, uint64_t> inputs_;  // output hash -> input hash
};

}  // namespace vigil::promql
