#include "promql/engine.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "promql/evaluator.h"
#include "promql/parser.h"

namespace vigil::promql {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Scalars and strings come back as one-sample vectors from Eval; instant
// results keep the evaluation time as the sample timestamp.
Value InstantResult(Value v, int64_t ts) {
  for (auto& s : v.vector) s.point.t = ts;
  return v;
}

// Timeouts beyond this (about 30 years) mean no deadline; adding them to the
// clock could overflow it.
constexpr int64_t kMaxTimeoutMs = int64_t{1} << 40;

SteadyClock::time_point Deadline(SteadyClock::time_point began, int64_t timeout_ms) {
  if (timeout_ms >= kMaxTimeoutMs) return SteadyClock::time_point::max();
  if (timeout_ms <= 0) return began;  // already expired
  return began + std::chrono::milliseconds(timeout_ms);
}

}  // namespace

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kString: return "string";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kNone: return "none";
  }
  return "none";
}

// Admission control: at most max_concurrency queries evaluate at once; the
// rest wait for a slot until their deadline.
struct Engine::Impl {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;

  bool Acquire(int limit, SteadyClock::time_point deadline, const std::atomic<bool>* cancelled) {
    std::unique_lock lock(mu);
    while (running >= limit) {
      if (cancelled != nullptr && cancelled->load()) return false;
      const auto wake = std::min(deadline, SteadyClock::now() + std::chrono::milliseconds(50));
      cv.wait_until(lock, wake);
      if (SteadyClock::now() >= deadline && running >= limit) return false;
    }
    ++running;
    return true;
  }
  void Release() {
    {
      std::lock_guard lock(mu);
      --running;
    }
    cv.notify_one();
  }
};

namespace {

struct Prepared {
  NodePtr root;
  std::unique_ptr<storage::Querier> querier;
};

// Runs `body` with a parsed query, a concurrency slot and a loaded evaluator.
template <typename Body>
Result<QueryResult> RunQuery(Engine::Impl& impl, const EngineOptions& opts, storage::Storage& db,
                             std::string_view query, int64_t start, int64_t end, int64_t step,
                             const QueryOptions& qopts, Body body) {
  const bool range = step > 0;  // instant queries have no step
  const auto began = SteadyClock::now();
  auto root = ParseExpr(query);
  if (!root.ok()) return root.status();
  if (range) {
    const ValueType t = (*root)->Type();
    if (t != ValueType::kScalar && t != ValueType::kVector) {
      return Status::InvalidArgument(std::string("invalid expression type \"") +
                                     DocumentedTypeName(t) +
                                     "\" for range query, must be Scalar or instant Vector");
    }
  }
  const auto deadline = Deadline(began, qopts.timeout_ms ? std::min(*qopts.timeout_ms, opts.timeout_ms)
                                                         : opts.timeout_ms);
  if (!impl.Acquire(opts.max_concurrency, deadline, qopts.cancelled)) {
    if (qopts.cancelled != nullptr && qopts.cancelled->load()) {
      return Status::Cancelled("query was canceled in query queue");
    }
    return Status::Timeout("query timed out in query queue");
  }
  struct SlotGuard {
    Engine::Impl& impl;
    ~SlotGuard() { impl.Release(); }
  } guard{impl};
  const auto queued = SteadyClock::now();

  EvalSettings settings;
  settings.start_ms = start;
  settings.end_ms = end;
  settings.step_ms = step;
  settings.lookback_ms = opts.lookback_delta_ms;
  settings.default_subquery_step_ms = opts.default_subquery_step_ms;
  settings.max_samples = opts.max_samples;
  settings.deadline = deadline;
  settings.cancelled = qopts.cancelled;
  Evaluator ev(**root, settings);
  auto querier = db.NewQuerier();
  if (!querier.ok()) return Status::Execution(querier.status().message());
  VIGIL_RETURN_IF_ERROR(ev.Load(**querier));
  const auto prepared = SteadyClock::now();

  QueryResult result;
  auto value = body(ev, **root);
  if (!value.ok()) return value.status();
  result.value = std::move(*value);
  result.warnings = ev.annotations().Format(query);
  const auto done = SteadyClock::now();
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  result.stats.total_queryable_samples = ev.total_samples_loaded();
  result.stats.peak_samples = ev.peak_samples();
  result.stats.exec_queue_seconds = seconds(queued - began);
  result.stats.query_preparation_seconds = seconds(prepared - queued);
  result.stats.inner_eval_seconds = seconds(done - prepared);
  result.stats.exec_total_seconds = seconds(done - began);
  return result;
}

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(options), impl_(std::make_unique<Impl>()) {}

Engine::~Engine() = default;

Result<QueryResult> Engine::InstantQuery(storage::Storage& db, std::string_view query,
                                         int64_t ts_ms, const QueryOptions& options) {
  return RunQuery(*impl_, options_, db, query, ts_ms, ts_ms, 0, options,
                  [ts_ms](Evaluator& ev, const Node& root) -> Result<Value> {
                    auto v = ev.Eval(root, ts_ms);
                    if (!v.ok()) return v;
                    return InstantResult(std::move(*v), ts_ms);
                  });
}

Result<QueryResult> Engine::RangeQuery(storage::Storage& db, std::string_view query,
                                       int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                       const QueryOptions& options) {
  if (step_ms <= 0) {
    return Status::InvalidArgument(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (end_ms < start_ms) {
    return Status::InvalidArgument("end timestamp must not be before start time");
  }
  if (RangeStepCount(start_ms, end_ms, step_ms) >= options_.max_range_points) {
    return Status::InvalidArgument(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)");
  }
  return RunQuery(
      *impl_, options_, db, query, start_ms, end_ms, step_ms, options,
      [=](Evaluator& ev, const Node& root) -> Result<Value> {
        VIGIL_RETURN_IF_ERROR(ev.PrepareRange());
        if (std::optional<Matrix> whole = ev.TakeRangeResult()) {
          int64_t points = 0;
          for (const auto& s : *whole) points += static_cast<int64_t>(s.points.size());
          VIGIL_RETURN_IF_ERROR(ev.AddResultSamples(points));
          Value out;
          out.type = ValueType::kMatrix;
          out.matrix = std::move(*whole);
          return out;
        }
        std::map<Labels, std::vector<Point>> series;
        const StepGrid grid{start_ms, end_ms, step_ms};
        for (size_t k = 0; k < grid.size(); ++k) {
          const int64_t t = grid.At(k);
          auto v = ev.Eval(root, t);
          if (!v.ok()) return v.status();
          if (v->type == ValueType::kScalar) {
            series[Labels()].push_back(Point{t, v->scalar.v});
            VIGIL_RETURN_IF_ERROR(ev.AddResultSamples(1));
            continue;
          }
          for (auto& s : v->vector) series[std::move(s.metric)].push_back(Point{t, s.point.v});
          VIGIL_RETURN_IF_ERROR(ev.AddResultSamples(static_cast<int64_t>(v->vector.size())));
        }
        Value out;
        out.type = ValueType::kMatrix;
        out.matrix.reserve(series.size());
        for (auto& [labels, points] : series) out.matrix.push_back(Series{labels, std::move(points)});
        return out;
      });
}

Result<LabelMatchers> ParseSeriesSelector(std::string_view selector) {
  return ParseMetricSelector(selector);
}

}  // namespace vigil::promql
