// Series-major evaluation of range queries (the Evaluator's PrepareRange).
//
// Evaluating a range query step by step builds, at every step, a vector that
// copies each series' labels, and aggregations hash those labels again at
// every step. Here the subtrees whose value at a step depends only on each
// series' own samples (selectors and window functions such as rate()) are
// evaluated one series at a time over all steps, and accumulator
// aggregations of them (sum, avg, count, ...) group each input series once and
// then add its points into per-step cells. Results are identical to per-step
// evaluation, including the order in which sums add their terms.
#include <algorithm>
#include <numeric>
#include <set>

#include "promql/evaluator.h"
#include "promql/functions.h"
#include "promql/operators.h"

namespace vigil::promql {
namespace {

// Dense per-group, per-step cells are used only up to this many cells or as
// many as the input has points, whichever is larger.
constexpr size_t kMinDenseCells = size_t{1} << 20;

// Whether no two label sets are equal (hashes first, labels on a collision).
bool AllDistinct(const std::vector<Labels>& sets) {
  std::vector<uint64_t> hashes;
  hashes.reserve(sets.size());
  for (const auto& l : sets) hashes.push_back(l.Hash());
  std::sort(hashes.begin(), hashes.end());
  if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return true;
  return std::set<Labels>(sets.begin(), sets.end()).size() == sets.size();
}

// `points` without stale markers (a range selector never returns them).
std::span<const Point> StaleFree(const std::vector<Point>& points, bool has_stale,
                                 std::vector<Point>* scratch) {
  if (!has_stale) return points;
  scratch->clear();
  for (const Point& p : points) {
    if (!vigil::IsStaleNaN(p.v)) scratch->push_back(p);
  }
  return *scratch;
}

int64_t PointCount(const Matrix& m) {
  int64_t n = 0;
  for (const auto& s : m) n += static_cast<int64_t>(s.points.size());
  return n;
}

}  // namespace

Status Evaluator::PrepareRange() { return PrepareNode(root_); }

std::optional<Matrix> Evaluator::TakeRangeResult() {
  auto it = range_values_.find(&UnwrapParens(root_));
  if (it == range_values_.end()) return std::nullopt;
  Matrix m = std::move(it->second.series);
  range_samples_ -= it->second.points;
  range_values_.erase(it);
  std::erase_if(m, [](const Series& s) { return s.points.empty(); });
  std::sort(m.begin(), m.end(),
            [](const Series& a, const Series& b) { return a.metric < b.metric; });
  return m;
}

Status Evaluator::PrepareNode(const Node& n) {
  RangeValue value;
  switch (n.kind) {
    case NodeKind::kSubquery:        // evaluated at its own steps
    case NodeKind::kMatrixSelector:  // read per step by its function
      return Status::OK();
    case NodeKind::kVectorSelector: {
      auto done = RangeVectorSelector(n, &value);
      if (!done.ok()) return done.status();
      return *done ? StoreRangeValue(n, std::move(value)) : Status::OK();
    }
    case NodeKind::kCall: {
      // timestamp() reads sample times, which stored values replace by steps.
      if (n.func->name == "timestamp") return Status::OK();
      if (n.func->window == nullptr) break;
      auto done = RangeWindowCall(n, &value);
      if (!done.ok()) return done.status();
      return *done ? StoreRangeValue(n, std::move(value)) : Status::OK();
    }
    case NodeKind::kAggregate:
      if (IsAccumulatorAggregation(n.op)) return PrepareAggregate(n);
      break;
    default:
      break;
  }
  for (const auto& child : n.children) VIGIL_RETURN_IF_ERROR(PrepareNode(*child));
  return Status::OK();
}

// Aggregates a stored input; otherwise the aggregation runs per step (over a
// stored input when there is one).
Status Evaluator::PrepareAggregate(const Node& n) {
  const Node& input = UnwrapParens(*n.children[0]);
  VIGIL_RETURN_IF_ERROR(PrepareNode(input));
  auto it = range_values_.find(&input);
  // Over an aggregation the input order changes from step to step: per step.
  if (it == range_values_.end() || !it->second.rank.empty()) return Status::OK();
  RangeValue value;
  auto done = RangeAggregate(n, it->second, &value);
  if (!done.ok()) return done.status();
  if (!*done) return Status::OK();
  range_samples_ -= it->second.points;
  range_values_.erase(it);
  return StoreRangeValue(n, std::move(value));
}

// The builders below count their points as they go (HoldRangePoints), so a
// query over too many samples fails before it has allocated them all.
Status Evaluator::StoreRangeValue(const Node& n, RangeValue value) {
  value.points = PointCount(value.series);
  value.cursor.assign(value.series.size(), 0);
  range_values_.emplace(&n, std::move(value));
  return Status::OK();
}

Status Evaluator::HoldRangePoints(size_t n) {
  range_samples_ += static_cast<int64_t>(n);
  return CountSamples(0);
}

// The newest sample within the lookback window of each step, unless it is a
// stale marker (as EvalVectorSelector).
Result<bool> Evaluator::RangeVectorSelector(const Node& n, RangeValue* out) {
  const size_t steps = grid_.size();
  for (const LoadedSeries& s : data_[&n]) {
    VIGIL_RETURN_IF_ERROR(CheckInterrupt());
    Series series{s.labels, {}};
    size_t next = 0;  // first point after the step's reference time
    for (size_t k = 0; k < steps; ++k) {
      const int64_t t = grid_.At(k);
      const int64_t ref = ReferenceTime(n.time, t);
      while (next < s.points.size() && s.points[next].t <= ref) ++next;
      if (next == 0) continue;
      const Point& p = s.points[next - 1];
      if (p.t < ref - settings_.lookback_ms || vigil::IsStaleNaN(p.v)) continue;
      series.points.push_back(Point{t, p.v});
    }
    VIGIL_RETURN_IF_ERROR(HoldRangePoints(series.points.size()));
    if (!series.points.empty()) out->series.push_back(std::move(series));
  }
  return true;
}

// A window function over a range selector, one series at a time; each step's
// window [end - range, end] slides forward over the series' points.
Result<bool> Evaluator::RangeWindowCall(const Node& n, RangeValue* out) {
  const Node& arg = UnwrapParens(*n.children[0]);
  if (arg.kind != NodeKind::kMatrixSelector) return false;
  const Node& vs = *arg.children[0];
  const std::vector<LoadedSeries>& loaded = data_[&vs];
  std::vector<Labels> names;
  names.reserve(loaded.size());
  for (const auto& s : loaded) {
    names.push_back(n.func->keeps_metric_name ? s.labels : DropMetricName(s.labels));
  }
  // Series that differ only by name collide: per step, where that is an error
  // only at steps where both have a value.
  if (!n.func->keeps_metric_name && !AllDistinct(names)) return false;
  const size_t steps = grid_.size();
  const double range_seconds = static_cast<double>(arg.range_ms) / 1000;
  std::vector<Point> stale_free;
  for (size_t i = 0; i < loaded.size(); ++i) {
    VIGIL_RETURN_IF_ERROR(CheckInterrupt());
    const std::span<const Point> pts =
        StaleFree(loaded[i].points, loaded[i].has_stale, &stale_free);
    Series series{std::move(names[i]), {}};
    size_t first = 0, last = 0;  // the window is pts[first, last)
    for (size_t k = 0; k < steps; ++k) {
      const int64_t t = grid_.At(k);
      const int64_t end = ReferenceTime(vs.time, t);
      const int64_t start = end - arg.range_ms;
      while (first < pts.size() && pts[first].t < start) ++first;
      last = std::max(last, first);
      while (last < pts.size() && pts[last].t <= end) ++last;
      if (last == first) continue;
      const auto v =
          n.func->window(pts.subspan(first, last - first), RangeWindow{start, end, range_seconds});
      if (v) series.points.push_back(Point{t, *v});
    }
    VIGIL_RETURN_IF_ERROR(HoldRangePoints(series.points.size()));
    if (!series.points.empty()) out->series.push_back(std::move(series));
  }
  return true;
}

// Groups each input series once, then adds its points into its group's cell
// for the point's step. Input series are visited in the order per-step
// evaluation visits them, so every cell adds its terms in the same order.
Result<bool> Evaluator::RangeAggregate(const Node& n, const RangeValue& input, RangeValue* out) {
  AggregationGroups groups(n);
  std::vector<size_t> group_of;
  group_of.reserve(input.series.size());
  for (const auto& s : input.series) group_of.push_back(groups.GroupOf(s.metric));
  const size_t steps = grid_.size();
  const size_t cells = groups.size() * steps;
  if (cells > std::max(kMinDenseCells, static_cast<size_t>(input.points))) return false;

  struct Cell {
    AggregateAccumulator acc;
    uint32_t first = 0;  // first input series added
  };
  std::vector<Cell> cell(cells);
  for (size_t i = 0; i < input.series.size(); ++i) {
    VIGIL_RETURN_IF_ERROR(CheckInterrupt());
    Cell* row = &cell[group_of[i] * steps];
    for (const Point& p : input.series[i].points) {
      Cell& c = row[static_cast<size_t>(RangeStepCount(grid_.start, p.t, grid_.step))];
      if (c.acc.count == 0) c.first = static_cast<uint32_t>(i);
      c.acc.Add(n.op, p.v);
    }
  }
  std::vector<Labels> keys = groups.TakeKeys();
  out->series.reserve(keys.size());
  out->rank.resize(keys.size());
  for (size_t g = 0; g < keys.size(); ++g) {
    Series series{std::move(keys[g]), {}};
    for (size_t k = 0; k < steps; ++k) {
      const Cell& c = cell[g * steps + k];
      if (c.acc.count == 0) continue;
      series.points.push_back(Point{grid_.At(k), c.acc.Result(n.op)});
      out->rank[g].push_back(c.first);
    }
    VIGIL_RETURN_IF_ERROR(HoldRangePoints(series.points.size()));
    out->series.push_back(std::move(series));
  }
  return true;
}

Result<Value> Evaluator::StepValue(RangeValue& value, int64_t ts) {
  Value out;
  out.type = ValueType::kVector;
  std::vector<uint32_t> ranks;
  for (size_t i = 0; i < value.series.size(); ++i) {
    const std::vector<Point>& pts = value.series[i].points;
    size_t& c = value.cursor[i];
    if (c > 0 && pts[c - 1].t >= ts) c = 0;  // asked for an earlier step again
    while (c < pts.size() && pts[c].t < ts) ++c;
    if (c == pts.size() || pts[c].t != ts) continue;
    out.vector.push_back(Sample{value.series[i].metric, pts[c]});
    if (!value.rank.empty()) ranks.push_back(value.rank[i][c]);
  }
  if (!ranks.empty()) {
    std::vector<size_t> order(ranks.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&ranks](size_t a, size_t b) { return ranks[a] < ranks[b]; });
    Vector sorted;
    sorted.reserve(order.size());
    for (const size_t j : order) sorted.push_back(std::move(out.vector[j]));
    out.vector = std::move(sorted);
  }
  VIGIL_RETURN_IF_ERROR(CountSamples(static_cast<int64_t>(out.vector.size())));
  return out;
}

}  // namespace vigil::promql
