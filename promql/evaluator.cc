#include "promql/evaluator.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "promql/functions.h"
#include "promql/operators.h"

namespace vigil::promql {
namespace {

// A cached subquery step (a map node and an empty vector) holds about as much
// memory as this many samples; it counts so against max_samples.
constexpr int64_t kCachedStepCost = 4;

Value VectorValue(Vector v) {
  Value out;
  out.type = ValueType::kVector;
  out.vector = std::move(v);
  return out;
}

Value MatrixValue(Matrix m) {
  Value out;
  out.type = ValueType::kMatrix;
  out.matrix = std::move(m);
  return out;
}

Value ScalarValue(int64_t ts, double v) {
  Value out;
  out.type = ValueType::kScalar;
  out.scalar = Point{ts, v};
  return out;
}

}  // namespace

Evaluator::Evaluator(const Node& root, EvalSettings settings)
    : root_(root),
      settings_(settings),
      grid_{settings.start_ms, settings.end_ms, std::max<int64_t>(settings.step_ms, 1)} {}

// Evaluation times, @ timestamps and offsets each fit in int64 but their sum
// may not; references are clamped to storage's "forever" bounds, where no
// sample lives, so ranges and lookbacks below them cannot overflow either.
int64_t Evaluator::ReferenceTime(const TimeModifiers& mods, int64_t ts) const {
  switch (mods.at) {
    case AtKind::kTimestamp: ts = mods.at_ms; break;
    case AtKind::kStart: ts = settings_.start_ms; break;
    case AtKind::kEnd: ts = settings_.end_ms; break;
    case AtKind::kNone: break;
  }
  int64_t ref = 0;
  if (__builtin_sub_overflow(ts, mods.offset_ms, &ref)) {
    return mods.offset_ms > 0 ? storage::kMinTime : storage::kMaxTime;
  }
  return std::clamp(ref, storage::kMinTime, storage::kMaxTime);
}

void Evaluator::AddWindow(const Node& selector, int64_t mint, int64_t maxt, bool on_grid,
                          int64_t range_ms) {
  auto [it, inserted] = windows_.try_emplace(&selector, Window{mint, maxt, on_grid, range_ms});
  if (!inserted) {
    it->second.mint = std::min(it->second.mint, mint);
    it->second.maxt = std::max(it->second.maxt, maxt);
    it->second.on_grid = false;
  }
}

// Walks the tree with the range of times each node is evaluated at and
// records the sample window every selector needs. `on_grid`: the node is
// evaluated only at the query's steps.
void Evaluator::CollectWindows(const Node& n, int64_t mint, int64_t maxt, bool on_grid) {
  switch (n.kind) {
    case NodeKind::kVectorSelector: {
      const int64_t lo = ReferenceTime(n.time, mint);
      const int64_t hi = ReferenceTime(n.time, maxt);
      AddWindow(n, lo - settings_.lookback_ms, hi, on_grid, -1);
      return;
    }
    case NodeKind::kMatrixSelector: {
      const Node& vs = *n.children[0];
      const int64_t lo = ReferenceTime(vs.time, mint);
      const int64_t hi = ReferenceTime(vs.time, maxt);
      AddWindow(vs, lo - n.range_ms, hi, on_grid, n.range_ms);
      return;
    }
    case NodeKind::kSubquery: {
      const int64_t lo = ReferenceTime(n.time, mint);
      const int64_t hi = ReferenceTime(n.time, maxt);
      CollectWindows(*n.children[0], lo - n.range_ms, hi, false);
      return;
    }
    default:
      for (const auto& c : n.children) CollectWindows(*c, mint, maxt, on_grid);
  }
}

std::vector<int64_t> Evaluator::StepRefs(const TimeModifiers& mods) const {
  std::vector<int64_t> refs(grid_.size());
  for (size_t k = 0; k < refs.size(); ++k) {
    refs[k] = ReferenceTime(mods, grid_.At(k));
  }
  return refs;
}

namespace {

// Decides which samples of a series the steps read, so Load keeps only
// those: a selector reads the newest sample at or before each step's
// reference time, a range selector the samples within its range before it.
// Step reference times never decrease.
class StepSampler {
 public:
  StepSampler(std::span<const int64_t> refs, int64_t range_ms) : refs_(refs), range_ms_(range_ms) {}

  // Feeds the series' next sample; appends the samples now known to be read.
  void Add(const Point& p, std::vector<Point>* out) {
    if (range_ms_ >= 0) {
      const size_t k = FirstStepAtOrAfter(p.t);
      if (k < refs_.size() && p.t >= refs_[k] - range_ms_) out->push_back(p);
      return;
    }
    // The previous sample is some step's newest when a step falls before p.
    if (pending_) {
      const size_t k = FirstStepAtOrAfter(pending_->t);
      if (k < refs_.size() && refs_[k] < p.t) out->push_back(*pending_);
    }
    pending_ = p;
  }

  // After the last sample.
  void Finish(std::vector<Point>* out) {
    if (pending_ && FirstStepAtOrAfter(pending_->t) < refs_.size()) out->push_back(*pending_);
  }

 private:
  size_t FirstStepAtOrAfter(int64_t t) {
    while (next_ < refs_.size() && refs_[next_] < t) ++next_;
    return next_;
  }

  std::span<const int64_t> refs_;
  int64_t range_ms_;
  size_t next_ = 0;
  std::optional<Point> pending_;
};

}  // namespace

Status Evaluator::Load(storage::Querier& querier) {
  CollectWindows(root_, settings_.start_ms, settings_.end_ms, true);
  std::vector<Point> scratch;  // one series' samples, reused so each series allocates once
  for (const auto& [node, window] : windows_) {
    auto series = querier.Select(window.mint, window.maxt, node->matchers);
    if (!series.ok()) return Status::Execution(series.status().message());
    std::vector<LoadedSeries>& loaded = data_[node];
    loaded.reserve(series->size());
    const std::vector<int64_t> refs = window.on_grid ? StepRefs(node->time) : std::vector<int64_t>();
    for (const auto& s : *series) {
      VIGIL_RETURN_IF_ERROR(CheckInterrupt());
      VIGIL_RETURN_IF_ERROR(ReadSamples(*s, window, refs, &scratch));
      if (scratch.empty()) continue;
      LoadedSeries ls{s->labels(), std::vector<Point>(scratch.begin(), scratch.end())};
      ls.has_stale = std::any_of(ls.points.begin(), ls.points.end(),
                                 [](const Point& p) { return vigil::IsStaleNaN(p.v); });
      loaded.push_back(std::move(ls));
    }
  }
  return Status::OK();
}

Status Evaluator::ReadSamples(const storage::Series& series, const Window& window,
                              std::span<const int64_t> refs, std::vector<Point>* points) {
  points->clear();
  std::optional<StepSampler> sampler;
  if (window.on_grid) sampler.emplace(refs, window.range_ms);
  // Samples this series may keep before the query holds too many.
  const size_t budget = static_cast<size_t>(std::max<int64_t>(settings_.max_samples - held_loaded_, 0));
  auto it = series.Iterator();
  for (bool ok = it->Seek(window.mint); ok; ok = it->Next()) {
    const vigil::Sample smp = it->At();
    if (smp.t > window.maxt) break;
    ++samples_loaded_;
    if (sampler) {
      sampler->Add(Point{smp.t, smp.v}, points);
    } else {
      points->push_back(Point{smp.t, smp.v});
    }
    if (points->size() > budget) return TooManySamples();
  }
  if (!it->status().ok()) return Status::Execution(it->status().message());
  if (sampler) sampler->Finish(points);
  if (points->size() > budget) return TooManySamples();
  held_loaded_ += static_cast<int64_t>(points->size());
  return Status::OK();
}

Status Evaluator::CheckInterrupt() const {
  if (settings_.cancelled != nullptr && settings_.cancelled->load(std::memory_order_relaxed)) {
    return Status::Cancelled("query was canceled in expression evaluation");
  }
  // The first call checks too, so an expired deadline stops even a tiny query.
  if ((interrupt_counter_++ & 63) == 0 && std::chrono::steady_clock::now() > settings_.deadline) {
    return Status::Timeout("query timed out in expression evaluation");
  }
  return Status::OK();
}

Status Evaluator::TooManySamples() {
  return Status::ResourceExhausted(
      "query processing would load too many samples into memory in query execution");
}

Status Evaluator::CountSamples(int64_t n) {
  current_samples_ += n;
  const int64_t held = current_samples_ + result_samples_ + range_samples_ + subquery_steps_;
  peak_samples_ = std::max(peak_samples_, held);
  if (held > settings_.max_samples) return TooManySamples();
  return Status::OK();
}

Status Evaluator::AddResultSamples(int64_t n) {
  result_samples_ += n;
  return CountSamples(0);
}

Result<Value> Evaluator::Eval(const Node& n, int64_t ts) {
  if (&n == &root_) current_samples_ = 0;
  VIGIL_RETURN_IF_ERROR(CheckInterrupt());
  if (!range_values_.empty()) {
    if (auto it = range_values_.find(&n); it != range_values_.end()) {
      return StepValue(it->second, ts);
    }
  }
  switch (n.kind) {
    case NodeKind::kNumber: return ScalarValue(ts, n.number);
    case NodeKind::kString: {
      Value v;
      v.type = ValueType::kString;
      v.string = n.text;
      v.string_t = ts;
      return v;
    }
    case NodeKind::kParen: return Eval(*n.children[0], ts);
    case NodeKind::kVectorSelector: return EvalVectorSelector(n, ts);
    case NodeKind::kMatrixSelector: return EvalMatrixSelector(n, ts);
    case NodeKind::kSubquery: return EvalSubquery(n, ts);
    case NodeKind::kUnary: return EvalUnary(n, ts);
    case NodeKind::kBinary: return EvalBinary(n, ts);
    case NodeKind::kCall: return EvalCall(n, ts);
    case NodeKind::kAggregate: return EvalAggregate(n, ts);
  }
  return Status::Internal("unknown node kind");
}

// The newest sample within the lookback window, unless it is a stale marker.
Result<Value> Evaluator::EvalVectorSelector(const Node& n, int64_t ts) {
  const int64_t ref = ReferenceTime(n.time, ts);
  Vector out;
  for (const auto& s : data_[&n]) {
    auto it = std::upper_bound(s.points.begin(), s.points.end(), ref,
                               [](int64_t t, const Point& p) { return t < p.t; });
    if (it == s.points.begin()) continue;
    const Point& p = *(it - 1);
    if (p.t < ref - settings_.lookback_ms || vigil::IsStaleNaN(p.v)) continue;
    out.push_back(Sample{s.labels, p});
  }
  VIGIL_RETURN_IF_ERROR(CountSamples(static_cast<int64_t>(out.size())));
  return VectorValue(std::move(out));
}

Result<Value> Evaluator::EvalMatrixSelector(const Node& n, int64_t ts) {
  const Node& vs = *n.children[0];
  const int64_t ref = ReferenceTime(vs.time, ts);
  const int64_t lo = ref - n.range_ms;
  Matrix out;
  int64_t count = 0;
  for (const auto& s : data_[&vs]) {
    auto it = std::lower_bound(s.points.begin(), s.points.end(), lo,
                               [](const Point& p, int64_t t) { return p.t < t; });
    Series series{s.labels, {}};
    for (; it != s.points.end() && it->t <= ref; ++it) {
      if (!vigil::IsStaleNaN(it->v)) series.points.push_back(*it);
    }
    if (series.points.empty()) continue;
    count += static_cast<int64_t>(series.points.size());
    out.push_back(std::move(series));
  }
  VIGIL_RETURN_IF_ERROR(CountSamples(count));
  return MatrixValue(std::move(out));
}

Result<Evaluator::MatrixScratch*> Evaluator::FillMatrixScratch(const Node& n, int64_t ts) {
  const Node& vs = *n.children[0];
  const std::vector<LoadedSeries>& loaded = data_[&vs];
  auto [it, created] = matrix_scratch_.try_emplace(&n);
  MatrixScratch& scratch = it->second;
  if (created) {
    scratch.value.type = ValueType::kMatrix;
    for (const auto& s : loaded) {
      scratch.value.matrix.push_back(Series{s.labels, {}});
      scratch.dropped_names.push_back(DropMetricName(s.labels));
    }
    std::set<Labels> distinct(scratch.dropped_names.begin(), scratch.dropped_names.end());
    scratch.dropped_names_unique = distinct.size() == scratch.dropped_names.size();
    scratch.windows.resize(loaded.size());
    scratch.cursor.assign(loaded.size(), 0);
    scratch.end_cursor.assign(loaded.size(), 0);
    scratch.stale_free.resize(loaded.size());
  }
  const int64_t ref = ReferenceTime(vs.time, ts);
  const int64_t lo = ref - n.range_ms;
  int64_t count = 0;
  for (size_t i = 0; i < loaded.size(); ++i) {
    const std::vector<Point>& pts = loaded[i].points;
    // Steps usually move forward a little: walk from the last window's start.
    size_t first = scratch.cursor[i];
    if (first > 0 && pts[first - 1].t >= lo) {
      first = std::lower_bound(pts.begin(), pts.end(), lo,
                               [](const Point& x, int64_t t) { return x.t < t; }) -
              pts.begin();
    }
    while (first < pts.size() && pts[first].t < lo) ++first;
    scratch.cursor[i] = first;
    size_t last = std::max(first, scratch.end_cursor[i]);
    if (last > first && pts[last - 1].t > ref) last = first;  // moved backwards
    while (last < pts.size() && pts[last].t <= ref) ++last;
    scratch.end_cursor[i] = last;
    std::span<const Point> window(pts.data() + first, last - first);
    if (loaded[i].has_stale) {
      std::vector<Point>& copy = scratch.stale_free[i];
      copy.clear();
      for (const Point& p : window) {
        if (!vigil::IsStaleNaN(p.v)) copy.push_back(p);
      }
      window = copy;
    }
    scratch.windows[i] = window;
    count += static_cast<int64_t>(window.size());
  }
  VIGIL_RETURN_IF_ERROR(CountSamples(count));
  return &scratch;
}

// Evaluates the inner expression at every multiple of the step inside the
// subquery's window, so results do not depend on the outer query's start.
Result<Value> Evaluator::EvalSubquery(const Node& n, int64_t ts) {
  const int64_t end = ReferenceTime(n.time, ts);
  const int64_t start = end - n.range_ms;
  const int64_t step = n.step_ms > 0 ? n.step_ms : settings_.default_subquery_step_ms;
  int64_t t = step * (start / step);
  if (t < start) t += step;
  std::map<Labels, size_t> index;
  Matrix out;
  auto& cache = subquery_cache_[&n];
  for (; t <= end; t += step) {
    auto cached = cache.find(t);
    if (cached == cache.end()) {
      ++subquery_depth_;
      auto v = Eval(*n.children[0], t);
      --subquery_depth_;
      if (!v.ok()) return v.status();
      cached = cache.emplace(t, std::move(v->vector)).first;
      // Empty steps cost memory too: a step of 1ms over a year must stop.
      subquery_steps_ += kCachedStepCost;
    }
    for (const auto& s : cached->second) {
      auto [it, inserted] = index.try_emplace(s.metric, out.size());
      if (inserted) out.push_back(Series{s.metric, {}});
      out[it->second].points.push_back(Point{t, s.point.v});
    }
    // Counted as they accumulate: a tiny step over a long range must hit the
    // sample limit before it exhausts memory.
    VIGIL_RETURN_IF_ERROR(CountSamples(static_cast<int64_t>(cached->second.size())));
  }
  // Old inner steps will not be needed by later (increasing) outer steps.
  const auto keep = cache.lower_bound(start - n.range_ms);
  subquery_steps_ -= kCachedStepCost * std::distance(cache.begin(), keep);
  cache.erase(cache.begin(), keep);
  return MatrixValue(std::move(out));
}

Result<Value> Evaluator::EvalUnary(const Node& n, int64_t ts) {
  auto v = Eval(*n.children[0], ts);
  if (!v.ok() || n.op != Op::kSub) return v;
  if (v->type == ValueType::kScalar) return ScalarValue(ts, -v->scalar.v);
  RangeCollisionCheck* across_steps = RangeCollisions(n);
  for (auto& s : v->vector) {
    Labels input = std::exchange(s.metric, DropMetricName(s.metric));
    if (across_steps) VIGIL_RETURN_IF_ERROR(across_steps->Record(s.metric, input));
    s.point = Point{ts, -s.point.v};
  }
  VIGIL_RETURN_IF_ERROR(CheckUniqueLabelsets(v->vector));
  return v;
}

RangeCollisionCheck* Evaluator::RangeCollisions(const Node& n) {
  if (settings_.step_ms <= 0 && subquery_depth_ == 0) return nullptr;
  return &range_collisions_[&n];
}

Status Evaluator::CheckCallAcrossSteps(const Node& n, const std::vector<Value>& args,
                                       const MatrixScratch* scratch, const Vector& out) {
  // Distinct labels without the name over the whole query cannot collide.
  if (out.empty() || (scratch != nullptr && scratch->dropped_names_unique)) return Status::OK();
  std::vector<const Labels*> inputs;
  if (scratch != nullptr) {
    for (size_t i = 0; i < scratch->windows.size(); ++i) {
      if (!scratch->windows[i].empty()) inputs.push_back(&scratch->value.matrix[i].metric);
    }
  } else {
    const auto matrix = std::find_if(args.begin(), args.end(),
                                     [](const Value& v) { return v.type == ValueType::kMatrix; });
    if (matrix == args.end()) return Status::OK();
    for (const auto& s : matrix->matrix) {
      if (!s.points.empty()) inputs.push_back(&s.metric);
    }
  }
  RangeCollisionCheck* across_steps = RangeCollisions(n);
  return across_steps ? across_steps->RecordCall(out, inputs) : Status::OK();
}

Result<Value> Evaluator::EvalBinary(const Node& n, int64_t ts) {
  auto lhs = Eval(*n.children[0], ts);
  if (!lhs.ok()) return lhs;
  auto rhs = Eval(*n.children[1], ts);
  if (!rhs.ok()) return rhs;
  auto out = ApplyBinary(n, std::move(*lhs), std::move(*rhs), ts);
  if (out.ok() && out->type == ValueType::kVector) {
    VIGIL_RETURN_IF_ERROR(CheckUniqueLabelsets(out->vector));
  }
  return out;
}

Result<Value> Evaluator::EvalCall(const Node& n, int64_t ts) {
  std::vector<Value> args(n.children.size());
  FunctionCall call{std::span<Value>(), n, ts};
  call.annotations = &annotations_;
  MatrixScratch* scratch = nullptr;
  size_t scratch_arg = 0;
  for (size_t i = 0; i < n.children.size(); ++i) {
    const Node& arg = UnwrapParens(*n.children[i]);
    if (arg.kind == NodeKind::kMatrixSelector || arg.kind == NodeKind::kSubquery) {
      const TimeModifiers& mods = arg.kind == NodeKind::kSubquery ? arg.time : arg.children[0]->time;
      call.window_end = ReferenceTime(mods, ts);
      call.window_start = call.window_end - arg.range_ms;
      call.range_seconds = static_cast<double>(arg.range_ms) / 1000;
    }
    if (arg.kind == NodeKind::kMatrixSelector) {
      auto filled = FillMatrixScratch(arg, ts);
      if (!filled.ok()) return filled.status();
      scratch = *filled;
      scratch_arg = i;
      std::swap(args[i], scratch->value);  // lent to the call, returned below
      call.dropped_names = &scratch->dropped_names;
      call.windows = &scratch->windows;
      continue;
    }
    auto v = Eval(arg, ts);
    if (!v.ok()) return v;
    args[i] = std::move(*v);
  }
  call.args = std::span<Value>(args);
  auto out = n.func->impl(call);
  if (scratch != nullptr) std::swap(args[scratch_arg], scratch->value);
  if (!out.ok()) return out.status();
  if (n.func->return_type == ValueType::kScalar) {
    return ScalarValue(ts, out->empty() ? NAN : (*out)[0].point.v);
  }
  // Range-vector functions emit at most one sample per input series.
  if (scratch == nullptr || !scratch->dropped_names_unique) {
    VIGIL_RETURN_IF_ERROR(CheckUniqueLabelsets(*out));
  }
  VIGIL_RETURN_IF_ERROR(CheckCallAcrossSteps(n, args, scratch, *out));
  VIGIL_RETURN_IF_ERROR(CountSamples(static_cast<int64_t>(out->size())));
  return VectorValue(std::move(*out));
}

Result<Value> Evaluator::EvalAggregate(const Node& n, int64_t ts) {
  Value param;
  if (const Node* p = n.Param()) {
    auto v = Eval(*p, ts);
    if (!v.ok()) return v;
    param = std::move(*v);
  }
  auto input = Eval(*n.children[0], ts);
  if (!input.ok()) return input;
  auto out = ApplyAggregation(n, std::move(input->vector), param, ts, &annotations_);
  if (!out.ok()) return out.status();
  VIGIL_RETURN_IF_ERROR(CountSamples(static_cast<int64_t>(out->size())));
  return VectorValue(std::move(*out));
}

}  // namespace vigil::promql
