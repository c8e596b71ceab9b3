#include "promql/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <functional>
#include <map>
#include <numbers>
#include <string>
#include <unordered_map>

#include "base/metrics_registry.h"
#include "base/regex_template.h"

namespace vigil::promql {
namespace {

// Go's math.Max / math.Min: NaN wins, unlike std::fmax/fmin.
double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return NAN;
  return a > b ? a : (b > a ? b : (std::signbit(a) ? b : a));
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return NAN;
  return a < b ? a : (b < a ? b : (std::signbit(a) ? a : b));
}

// Neumaier/Kahan compensated summation step, as Prometheus's kahanSumInc.
void KahanAdd(double inc, double* sum, double* c) {
  const double t = *sum + inc;
  if (std::isinf(t)) {
    *c = 0;  // Prometheus: avoid NaN from Inf - Inf in the compensation term
  } else if (std::fabs(*sum) >= std::fabs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

Sample Out(Labels metric, int64_t ts, double v) { return Sample{std::move(metric), Point{ts, v}}; }

// ---------------------------------------------------------------------------
// Instant-vector element-wise functions.

Result<Vector> MapValues(FunctionCall& call, const std::function<double(double)>& fn) {
  Vector out;
  const Vector& in = call.args[0].vector;
  out.reserve(in.size());
  for (const auto& s : in) out.push_back(Out(DropMetricName(s.metric), call.ts, fn(s.point.v)));
  return out;
}

template <double (*F)(double)>
Result<Vector> Math(FunctionCall& call) {
  return MapValues(call, [](double v) { return F(v); });
}

double Sgn(double v) { return v < 0 ? -1 : (v > 0 ? 1 : v); }
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Rad(double v) { return v * std::numbers::pi / 180; }
double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
// Go's math.Log2 and math.Log10 (not C's): they differ in the last bit, which
// matters after ceil/floor, e.g. Go's log10(0.1) is -0.9999999999999998.
double Log2(double v) {
  int exp = 0;
  const double frac = std::frexp(v, &exp);
  if (frac == 0.5) return static_cast<double>(exp - 1);  // exact powers of two
  return std::log(frac) * (1 / std::numbers::ln2) + static_cast<double>(exp);
}
double Log10(double v) { return std::log(v) * (1 / std::numbers::ln10); }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }

double ScalarArg(const FunctionCall& call, size_t i) { return call.args[i].scalar.v; }

Result<Vector> FuncClamp(FunctionCall& call) {
  const double lo = ScalarArg(call, 1), hi = ScalarArg(call, 2);
  if (hi < lo) return Vector{};
  return MapValues(call, [lo, hi](double v) { return GoMax(lo, GoMin(hi, v)); });
}
Result<Vector> FuncClampMax(FunctionCall& call) {
  const double hi = ScalarArg(call, 1);
  return MapValues(call, [hi](double v) { return GoMin(hi, v); });
}
Result<Vector> FuncClampMin(FunctionCall& call) {
  const double lo = ScalarArg(call, 1);
  return MapValues(call, [lo](double v) { return GoMax(lo, v); });
}
Result<Vector> FuncRound(FunctionCall& call) {
  const double to_nearest = call.args.size() > 1 ? ScalarArg(call, 1) : 1.0;
  const double inverse = 1.0 / to_nearest;
  return MapValues(call, [inverse](double v) { return std::floor(v * inverse + 0.5) / inverse; });
}

Result<Vector> FuncTimestamp(FunctionCall& call) {
  Vector out;
  for (const auto& s : call.args[0].vector) {
    out.push_back(Out(DropMetricName(s.metric), call.ts, static_cast<double>(s.point.t) / 1000));
  }
  return out;
}

// Date functions read the sample value as Unix seconds (UTC); with no
// argument they use the evaluation time.
Result<Vector> DateFunction(FunctionCall& call, int (*part)(const std::tm&), double overflow) {
  auto eval = [part, overflow](double v) {
    // Go turns NaN, ±Inf and out-of-range values into INT64_MIN seconds,
    // a date in year 292277026596; Prometheus answers with its fields.
    if (!(std::fabs(v) < 9.2e18)) return overflow;
    const std::time_t secs = static_cast<std::time_t>(static_cast<int64_t>(v));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return static_cast<double>(part(tm));
  };
  if (call.args.empty()) return Vector{Out(Labels(), call.ts, eval(call.ts / 1000.0))};
  return MapValues(call, eval);
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(const std::tm& tm) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (tm.tm_mon == 1 && IsLeapYear(tm.tm_year + 1900)) return 29;
  return kDays[tm.tm_mon];
}

Result<Vector> FuncDayOfMonth(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_mday; }, 4);
}
Result<Vector> FuncDayOfWeek(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_wday; }, 0);
}
Result<Vector> FuncDayOfYear(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_yday + 1; }, 339);
}
Result<Vector> FuncDaysInMonth(FunctionCall& c) { return DateFunction(c, DaysInMonth, 31); }
Result<Vector> FuncHour(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_hour; }, 15);
}
Result<Vector> FuncMinute(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_min; }, 30);
}
Result<Vector> FuncMonth(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_mon + 1; }, 12);
}
Result<Vector> FuncYear(FunctionCall& c) {
  return DateFunction(c, [](const std::tm& t) { return t.tm_year + 1900; }, 292277026596.0);
}

// ---------------------------------------------------------------------------
// Scalars, vectors, sorting, absence.

Result<Vector> FuncTime(FunctionCall& call) {
  return Vector{Out(Labels(), call.ts, static_cast<double>(call.ts) / 1000)};
}
Result<Vector> FuncPi(FunctionCall& call) {
  return Vector{Out(Labels(), call.ts, std::numbers::pi)};
}
Result<Vector> FuncScalar(FunctionCall& call) {
  const Vector& in = call.args[0].vector;
  return Vector{Out(Labels(), call.ts, in.size() == 1 ? in[0].point.v : NAN)};
}
Result<Vector> FuncVector(FunctionCall& call) {
  return Vector{Out(Labels(), call.ts, ScalarArg(call, 0))};
}

// NaN sorts last in both directions, as in Prometheus.
Result<Vector> SortByValue(FunctionCall& call, bool descending) {
  Vector out = std::move(call.args[0].vector);
  std::stable_sort(out.begin(), out.end(), [descending](const Sample& a, const Sample& b) {
    const double x = a.point.v, y = b.point.v;
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return descending ? x > y : x < y;
  });
  for (auto& s : out) s.point.t = call.ts;
  return out;
}
Result<Vector> FuncSort(FunctionCall& c) { return SortByValue(c, false); }
Result<Vector> FuncSortDesc(FunctionCall& c) { return SortByValue(c, true); }

// The labels absent() reports: the selector's equality matchers, minus names
// that appear in any other matcher.
Labels AbsentLabels(const Node& arg) {
  const Node& n = UnwrapParens(arg);
  const Node* vs = n.kind == NodeKind::kMatrixSelector ? n.children[0].get() : &n;
  if (vs->kind != NodeKind::kVectorSelector) return Labels();
  LabelsBuilder b;
  std::vector<std::string> drop;
  for (const auto& m : vs->matchers) {
    if (m.name() == kMetricNameLabel) continue;
    if (m.type() == MatchType::kEqual && b.Get(m.name()).empty()) {
      b.Set(m.name(), m.value());
    } else {
      drop.push_back(m.name());
    }
  }
  for (const auto& name : drop) b.Del(name);
  return b.Build();
}

Result<Vector> FuncAbsent(FunctionCall& call) {
  if (!call.args[0].vector.empty()) return Vector{};
  return Vector{Out(AbsentLabels(*call.node.children[0]), call.ts, 1)};
}
// The points of series i of the range-vector argument `arg` in this step.
std::span<const Point> Window(const FunctionCall& call, size_t arg, size_t i) {
  if (call.windows != nullptr) return (*call.windows)[i];
  return call.args[arg].matrix[i].points;
}

bool NoPoints(const FunctionCall& call, size_t arg) {
  for (size_t i = 0; i < call.args[arg].matrix.size(); ++i) {
    if (!Window(call, arg, i).empty()) return false;
  }
  return true;
}

Result<Vector> FuncAbsentOverTime(FunctionCall& call) {
  if (!NoPoints(call, 0)) return Vector{};
  return Vector{Out(AbsentLabels(*call.node.children[0]), call.ts, 1)};
}

// ---------------------------------------------------------------------------
// Range-vector functions: one output sample per input series.

// fn(points) -> std::optional<double>: the series' value, if any. A template
// rather than std::function so the per-window work inlines.
template <typename SeriesFn>
Result<Vector> PerSeries(FunctionCall& call, size_t matrix_arg, bool keep_name,
                         const SeriesFn& fn) {
  Vector out;
  const Matrix& m = call.args[matrix_arg].matrix;
  for (size_t i = 0; i < m.size(); ++i) {
    const Series& s = m[i];
    const std::span<const Point> pts = Window(call, matrix_arg, i);
    if (pts.empty()) continue;
    auto v = fn(pts);
    if (!v) continue;
    if (keep_name) {
      out.push_back(Out(s.metric, call.ts, *v));
    } else if (call.dropped_names != nullptr) {
      out.push_back(Out((*call.dropped_names)[i], call.ts, *v));
    } else {
      out.push_back(Out(DropMetricName(s.metric), call.ts, *v));
    }
  }
  return out;
}

template <typename SeriesFn>
Result<Vector> OverTime(FunctionCall& call, const SeriesFn& fn) {
  return PerSeries(call, 0, false, fn);
}

// The step-by-step implementation of a window function.
template <WindowFunction kFn, bool kKeepName>
Result<Vector> PerWindow(FunctionCall& call) {
  const RangeWindow window{call.window_start, call.window_end, call.range_seconds};
  return PerSeries(call, 0, kKeepName,
                   [&window](std::span<const Point> pts) { return kFn(pts, window); });
}

// Prometheus's extrapolatedRate for rate(), increase() and delta().
template <bool kIsCounter, bool kIsRate>
std::optional<double> ExtrapolatedRate(std::span<const Point> pts, const RangeWindow& w) {
  if (pts.size() < 2) return std::nullopt;
  double result = pts.back().v - pts.front().v;
  if (kIsCounter) {
    double prev = pts.front().v;
    for (size_t i = 1; i < pts.size(); ++i) {
      if (pts[i].v < prev) result += prev;
      prev = pts[i].v;
    }
  }
  double to_start = static_cast<double>(pts.front().t - w.start) / 1000;
  const double to_end = static_cast<double>(w.end - pts.back().t) / 1000;
  const double sampled = static_cast<double>(pts.back().t - pts.front().t) / 1000;
  const double avg_step = sampled / static_cast<double>(pts.size() - 1);
  if (kIsCounter && result > 0 && pts.front().v >= 0) {
    const double to_zero = sampled * (pts.front().v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  const double threshold = avg_step * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg_step / 2;
  interval += to_end < threshold ? to_end : avg_step / 2;
  double factor = interval / sampled;
  if (kIsRate) factor /= w.range_seconds;
  return result * factor;
}
constexpr WindowFunction kRate = ExtrapolatedRate<true, true>;
constexpr WindowFunction kIncrease = ExtrapolatedRate<true, false>;
constexpr WindowFunction kDelta = ExtrapolatedRate<false, false>;

// irate() and idelta(): from the last two samples only.
template <bool kIsRate>
std::optional<double> InstantValue(std::span<const Point> pts, const RangeWindow&) {
  if (pts.size() < 2) return std::nullopt;
  const Point& last = pts.back();
  const Point& prev = pts[pts.size() - 2];
  double result = (kIsRate && last.v < prev.v) ? last.v : last.v - prev.v;
  const int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (kIsRate) result /= static_cast<double>(interval) / 1000;
  return result;
}
constexpr WindowFunction kIrate = InstantValue<true>;
constexpr WindowFunction kIdelta = InstantValue<false>;

// Least-squares fit of value over time (seconds relative to intercept_t).
std::pair<double, double> LinearRegression(std::span<const Point> pts, int64_t intercept_t) {
  double n = 0, sum_x = 0, cx = 0, sum_y = 0, cy = 0, sum_xy = 0, cxy = 0, sum_x2 = 0, cx2 = 0;
  const double init_y = pts[0].v;
  bool const_y = true;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (const_y && i > 0 && pts[i].v != init_y) const_y = false;
    n += 1;
    const double x = static_cast<double>(pts[i].t - intercept_t) / 1e3;
    KahanAdd(x, &sum_x, &cx);
    KahanAdd(pts[i].v, &sum_y, &cy);
    KahanAdd(x * pts[i].v, &sum_xy, &cxy);
    KahanAdd(x * x, &sum_x2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {NAN, NAN};
    return {0, init_y};
  }
  sum_x += cx;
  sum_y += cy;
  sum_xy += cxy;
  sum_x2 += cx2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  const double slope = cov_xy / var_x;
  return {slope, sum_y / n - slope * sum_x / n};
}

std::optional<double> DerivWindow(std::span<const Point> pts, const RangeWindow&) {
  if (pts.size() < 2) return std::nullopt;
  return LinearRegression(pts, pts[0].t).first;
}
Result<Vector> FuncPredictLinear(FunctionCall& call) {
  const double duration = ScalarArg(call, 1);
  const int64_t ts = call.ts;
  return OverTime(call, [duration, ts](std::span<const Point> pts) -> std::optional<double> {
    if (pts.size() < 2) return std::nullopt;
    auto [slope, intercept] = LinearRegression(pts, ts);
    return slope * duration + intercept;
  });
}

std::string GoFloatF(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%f", v);
  return buf;
}

Result<Vector> FuncHoltWinters(FunctionCall& call) {
  const double sf = ScalarArg(call, 1), tf = ScalarArg(call, 2);
  // Like Prometheus, the factors are only checked when there is a series.
  if (NoPoints(call, 0)) return Vector{};
  if (sf <= 0 || sf >= 1) {
    return Status::Execution("invalid smoothing factor. Expected: 0 < sf < 1, got: " + GoFloatF(sf));
  }
  if (tf <= 0 || tf >= 1) {
    return Status::Execution("invalid trend factor. Expected: 0 < tf < 1, got: " + GoFloatF(tf));
  }
  return OverTime(call, [sf, tf](std::span<const Point> pts) -> std::optional<double> {
    if (pts.size() < 2) return std::nullopt;
    double s0 = 0, s1 = pts[0].v, b = pts[1].v - pts[0].v;
    for (size_t i = 1; i < pts.size(); ++i) {
      const double x = sf * pts[i].v;
      if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
      const double y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  });
}

std::optional<double> ChangesWindow(std::span<const Point> pts, const RangeWindow&) {
  double changes = 0;
  for (size_t i = 1; i < pts.size(); ++i) {
    const double cur = pts[i].v, prev = pts[i - 1].v;
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++changes;
  }
  return changes;
}
std::optional<double> ResetsWindow(std::span<const Point> pts, const RangeWindow&) {
  double resets = 0;
  for (size_t i = 1; i < pts.size(); ++i) {
    if (pts[i].v < pts[i - 1].v) ++resets;
  }
  return resets;
}

std::optional<double> AvgOverTime(std::span<const Point> pts, const RangeWindow&) {
  double mean = 0, c = 0, count = 0;
  for (const auto& p : pts) {
    ++count;
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    KahanAdd(p.v / count - mean / count, &mean, &c);
  }
  return std::isinf(mean) ? mean : mean + c;
}
std::optional<double> SumOverTime(std::span<const Point> pts, const RangeWindow&) {
  double sum = 0, c = 0;
  for (const auto& p : pts) KahanAdd(p.v, &sum, &c);
  return std::isinf(sum) ? sum : sum + c;
}
std::optional<double> CountOverTime(std::span<const Point> pts, const RangeWindow&) {
  return static_cast<double>(pts.size());
}
std::optional<double> MinOverTime(std::span<const Point> pts, const RangeWindow&) {
  double m = pts[0].v;
  for (const auto& p : pts) {
    if (p.v < m || std::isnan(m)) m = p.v;
  }
  return m;
}
std::optional<double> MaxOverTime(std::span<const Point> pts, const RangeWindow&) {
  double m = pts[0].v;
  for (const auto& p : pts) {
    if (p.v > m || std::isnan(m)) m = p.v;
  }
  return m;
}
std::optional<double> LastOverTime(std::span<const Point> pts, const RangeWindow&) {
  return pts.back().v;
}
std::optional<double> PresentOverTime(std::span<const Point>, const RangeWindow&) { return 1.0; }

// Welford's variance with compensated sums, as stdvar_over_time computes it.
double VarianceOverTime(std::span<const Point> pts) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& p : pts) {
    ++count;
    const double delta = p.v - (mean + c_mean);
    KahanAdd(delta / count, &mean, &c_mean);
    KahanAdd(delta * (p.v - (mean + c_mean)), &aux, &c_aux);
  }
  return (aux + c_aux) / count;
}
std::optional<double> StdvarOverTime(std::span<const Point> pts, const RangeWindow&) {
  return VarianceOverTime(pts);
}
std::optional<double> StddevOverTime(std::span<const Point> pts, const RangeWindow&) {
  return std::sqrt(VarianceOverTime(pts));
}
// Warns once about the quantile `q` of a call outside [0, 1] (NaN included),
// pointing at the call's first argument, as Prometheus 2.48 does.
void CheckQuantileArg(const FunctionCall& call, double q) {
  if (call.annotations != nullptr && !(q >= 0 && q <= 1)) {
    call.annotations->Add(InvalidQuantileWarning(q), call.node.children[0]->pos.start);
  }
}

Result<Vector> FuncQuantileOverTime(FunctionCall& call) {
  const double q = ScalarArg(call, 0);
  // Prometheus 2.48 warns for each series with samples in its window.
  return PerSeries(call, 1, false, [q, &call](std::span<const Point> pts) -> std::optional<double> {
    CheckQuantileArg(call, q);
    std::vector<double> values;
    values.reserve(pts.size());
    for (const auto& p : pts) values.push_back(p.v);
    return Quantile(q, values);
  });
}

// ---------------------------------------------------------------------------
// Classic histograms.

struct Bucket {
  double upper;
  double count;
};

// Sets `*forced_monotonic` when counts had to be raised to make the buckets
// monotonic (and a quantile was computed from them), as Prometheus 2.48's
// bucketQuantile reports it.
double BucketQuantile(double q, std::vector<Bucket> buckets, bool* forced_monotonic) {
  *forced_monotonic = false;
  if (std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (!std::isinf(buckets.back().upper) || buckets.back().upper < 0) return NAN;
  // Merge buckets with the same bound, then force the counts to be monotonic.
  std::vector<Bucket> merged;
  for (const auto& b : buckets) {
    if (!merged.empty() && merged.back().upper == b.upper) {
      merged.back().count += b.count;
    } else {
      merged.push_back(b);
    }
  }
  double max = -INFINITY;
  bool forced = false;
  for (auto& b : merged) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
      forced = true;
    }
  }
  if (merged.size() < 2) return NAN;
  const double observations = merged.back().count;
  if (observations == 0) return NAN;
  *forced_monotonic = forced;
  double rank = q * observations;
  size_t b = 0;
  while (b < merged.size() - 1 && !(merged[b].count >= rank)) ++b;
  if (b == merged.size() - 1) return merged[merged.size() - 2].upper;
  if (b == 0 && merged[0].upper <= 0) return merged[0].upper;
  double start = 0;
  const double end = merged[b].upper;
  double count = merged[b].count;
  if (b > 0) {
    start = merged[b - 1].upper;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

bool ParseGoFloat(std::string_view text, double* out) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Buckets are grouped by all labels but `le`, the metric name included, and
// the result drops the name: two histograms that differ only by name give two
// samples with one label set, which the evaluator rejects (as Prometheus does).
//
// Annotations as Prometheus 2.48: an out of range quantile, a bucket whose
// `le` does not parse (skipped), and buckets whose counts had to be made
// monotonic. The last names the metric as 2.48 does, after it dropped the
// name from the group's labels: always `for metric name ""`.
Result<Vector> FuncHistogramQuantile(FunctionCall& call) {
  const double q = ScalarArg(call, 0);
  CheckQuantileArg(call, q);
  const size_t vector_pos = call.node.children[1]->pos.start;
  std::map<Labels, std::vector<Bucket>> groups;
  std::vector<const Labels*> order;
  for (const auto& s : call.args[1].vector) {
    double upper;
    if (!ParseGoFloat(s.metric.Get("le"), &upper)) {
      if (call.annotations != nullptr) {
        call.annotations->Add(BadBucketLabelWarning(s.metric.MetricName(), s.metric.Get("le")),
                              vector_pos);
      }
      continue;
    }
    auto [it, inserted] = groups.try_emplace(s.metric.Filter({"le"}, false));
    if (inserted) order.push_back(&it->first);
    it->second.push_back({upper, s.point.v});
  }
  Vector out;
  for (const Labels* key : order) {
    bool forced_monotonic = false;
    out.push_back(
        Out(DropMetricName(*key), call.ts, BucketQuantile(q, groups[*key], &forced_monotonic)));
    if (forced_monotonic && call.annotations != nullptr) {
      call.annotations->Add(HistogramQuantileForcedMonotonicityInfo(""), vector_pos);
    }
  }
  return out;
}

// Native-histogram functions: float samples carry no histogram, so nothing.
Result<Vector> FuncNativeHistogramOnly(FunctionCall&) { return Vector{}; }

// ---------------------------------------------------------------------------
// Label manipulation.

// label_replace and label_join build label values from the query's strings;
// past this size they fail rather than multiply memory by the query's length.
constexpr size_t kMaxLabelValueBytes = size_t{1} << 20;

Status LabelValueTooLong(const char* function) {
  return Status::Execution(std::string(function) + "(): resulting label value exceeds " +
                           std::to_string(kMaxLabelValueBytes) + " bytes");
}

Result<Vector> FuncLabelReplace(FunctionCall& call) {
  const std::string& dst = call.args[1].string;
  const std::string& replacement = call.args[2].string;
  const std::string& src = call.args[3].string;
  const std::string& regex = call.args[4].string;
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  const re2::RE2 re("^(?:" + regex + ")$", opts);
  if (!re.ok()) {
    return Status::Execution("invalid regular expression in label_replace(): " + regex);
  }
  if (!IsValidLabelName(dst)) {
    return Status::Execution("invalid destination label name in label_replace(): " + dst);
  }
  Vector out;
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  const size_t refs = static_cast<size_t>(std::count(replacement.begin(), replacement.end(), '$'));
  for (auto& s : call.args[0].vector) {
    const std::string value(s.metric.Get(src));
    // Each $ expands to at most the whole value: "$1$1..." must not multiply it unbounded.
    if (replacement.size() + refs * value.size() > kMaxLabelValueBytes) {
      return LabelValueTooLong("label_replace");
    }
    Labels metric = s.metric;
    if (re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, groups.data(),
                 static_cast<int>(groups.size()))) {
      const std::string res = ExpandRegexTemplate(replacement, re, groups);
      metric = LabelsBuilder(s.metric).Set(dst, res).Build();
    }
    out.push_back(Out(std::move(metric), call.ts, s.point.v));
  }
  return out;
}

Result<Vector> FuncLabelJoin(FunctionCall& call) {
  const std::string& dst = call.args[1].string;
  const std::string& sep = call.args[2].string;
  std::vector<std::string> srcs;
  for (size_t i = 3; i < call.args.size(); ++i) {
    if (!IsValidLabelName(call.args[i].string)) {
      return Status::Execution("invalid source label name in label_join(): " + call.args[i].string);
    }
    srcs.push_back(call.args[i].string);
  }
  if (!IsValidLabelName(dst)) {
    return Status::Execution("invalid destination label name in label_join(): " + dst);
  }
  Vector out;
  for (auto& s : call.args[0].vector) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined += sep;
      joined += s.metric.Get(srcs[i]);
      if (joined.size() > kMaxLabelValueBytes) return LabelValueTooLong("label_join");
    }
    out.push_back(Out(LabelsBuilder(s.metric).Set(dst, joined).Build(), call.ts, s.point.v));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The table.

constexpr ValueType kV = ValueType::kVector;
constexpr ValueType kM = ValueType::kMatrix;
constexpr ValueType kS = ValueType::kScalar;
constexpr ValueType kStr = ValueType::kString;

// A range-vector function computed from each series' window alone.
template <WindowFunction kFn, bool kKeepName = false>
FunctionDef WindowDef(std::string_view name) {
  return FunctionDef{name, {kM}, 0, kV, PerWindow<kFn, kKeepName>, kFn, kKeepName};
}

const std::vector<FunctionDef>& Table() {
  static const std::vector<FunctionDef> kTable = {
      {"abs", {kV}, 0, kV, Math<Abs>},
      {"absent", {kV}, 0, kV, FuncAbsent},
      {"absent_over_time", {kM}, 0, kV, FuncAbsentOverTime},
      {"acos", {kV}, 0, kV, Math<Acos>},
      {"acosh", {kV}, 0, kV, Math<Acosh>},
      {"asin", {kV}, 0, kV, Math<Asin>},
      {"asinh", {kV}, 0, kV, Math<Asinh>},
      {"atan", {kV}, 0, kV, Math<Atan>},
      {"atanh", {kV}, 0, kV, Math<Atanh>},
      WindowDef<AvgOverTime>("avg_over_time"),
      {"ceil", {kV}, 0, kV, Math<Ceil>},
      WindowDef<ChangesWindow>("changes"),
      {"clamp", {kV, kS, kS}, 0, kV, FuncClamp},
      {"clamp_max", {kV, kS}, 0, kV, FuncClampMax},
      {"clamp_min", {kV, kS}, 0, kV, FuncClampMin},
      {"cos", {kV}, 0, kV, Math<Cos>},
      {"cosh", {kV}, 0, kV, Math<Cosh>},
      WindowDef<CountOverTime>("count_over_time"),
      {"days_in_month", {kV}, 1, kV, FuncDaysInMonth},
      {"day_of_month", {kV}, 1, kV, FuncDayOfMonth},
      {"day_of_week", {kV}, 1, kV, FuncDayOfWeek},
      {"day_of_year", {kV}, 1, kV, FuncDayOfYear},
      {"deg", {kV}, 0, kV, Math<Deg>},
      WindowDef<kDelta>("delta"),
      WindowDef<DerivWindow>("deriv"),
      {"exp", {kV}, 0, kV, Math<Exp>},
      {"floor", {kV}, 0, kV, Math<Floor>},
      {"histogram_count", {kV}, 0, kV, FuncNativeHistogramOnly},
      {"histogram_sum", {kV}, 0, kV, FuncNativeHistogramOnly},
      {"histogram_fraction", {kS, kS, kV}, 0, kV, FuncNativeHistogramOnly},
      {"histogram_quantile", {kS, kV}, 0, kV, FuncHistogramQuantile},
      {"holt_winters", {kM, kS, kS}, 0, kV, FuncHoltWinters},
      {"hour", {kV}, 1, kV, FuncHour},
      WindowDef<kIdelta>("idelta"),
      WindowDef<kIncrease>("increase"),
      WindowDef<kIrate>("irate"),
      {"label_replace", {kV, kStr, kStr, kStr, kStr}, 0, kV, FuncLabelReplace},
      {"label_join", {kV, kStr, kStr, kStr}, -1, kV, FuncLabelJoin},
      WindowDef<LastOverTime, true>("last_over_time"),
      {"ln", {kV}, 0, kV, Math<Ln>},
      {"log10", {kV}, 0, kV, Math<Log10>},
      {"log2", {kV}, 0, kV, Math<Log2>},
      WindowDef<MaxOverTime>("max_over_time"),
      WindowDef<MinOverTime>("min_over_time"),
      {"minute", {kV}, 1, kV, FuncMinute},
      {"month", {kV}, 1, kV, FuncMonth},
      {"pi", {}, 0, kS, FuncPi},
      {"predict_linear", {kM, kS}, 0, kV, FuncPredictLinear},
      WindowDef<PresentOverTime>("present_over_time"),
      {"quantile_over_time", {kS, kM}, 0, kV, FuncQuantileOverTime},
      {"rad", {kV}, 0, kV, Math<Rad>},
      WindowDef<kRate>("rate"),
      WindowDef<ResetsWindow>("resets"),
      {"round", {kV, kS}, 1, kV, FuncRound},
      {"scalar", {kV}, 0, kS, FuncScalar},
      {"sgn", {kV}, 0, kV, Math<Sgn>},
      {"sin", {kV}, 0, kV, Math<Sin>},
      {"sinh", {kV}, 0, kV, Math<Sinh>},
      {"sort", {kV}, 0, kV, FuncSort},
      {"sort_desc", {kV}, 0, kV, FuncSortDesc},
      {"sqrt", {kV}, 0, kV, Math<Sqrt>},
      WindowDef<StddevOverTime>("stddev_over_time"),
      WindowDef<StdvarOverTime>("stdvar_over_time"),
      WindowDef<SumOverTime>("sum_over_time"),
      {"tan", {kV}, 0, kV, Math<Tan>},
      {"tanh", {kV}, 0, kV, Math<Tanh>},
      {"time", {}, 0, kS, FuncTime},
      {"timestamp", {kV}, 0, kV, FuncTimestamp},
      {"vector", {kS}, 0, kV, FuncVector},
      {"year", {kV}, 1, kV, FuncYear},
  };
  return kTable;
}

}  // namespace

const FunctionDef* LookupFunction(std::string_view name) {
  static const std::unordered_map<std::string_view, const FunctionDef*> kIndex = [] {
    std::unordered_map<std::string_view, const FunctionDef*> index;
    for (const auto& f : Table()) index[f.name] = &f;
    return index;
  }();
  auto it = kIndex.find(name);
  return it == kIndex.end() ? nullptr : it->second;
}

Labels DropMetricName(const Labels& labels) {
  if (!labels.Has(kMetricNameLabel)) return labels;
  return labels.WithoutMetricName();
}

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  const double n = static_cast<double>(values.size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

std::string FormatFloatPlain(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

}  // namespace vigil::promql
